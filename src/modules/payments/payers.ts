import type { CoreDeps } from '../../shared/deps.ts';

/**
 * Distinct on-chain addresses that paid for this buyer's calls, as the verifiers recorded them.
 * A Solana payment is tied to its intent by the reference key, not by the payer, so a buyer can be
 * paid for from a wallet it does not own: the trust module uses this to find profiles that share
 * a wallet (self-dealing).
 */
export function payerAddressesOf(deps: CoreDeps, buyerId: string): string[] {
  return deps.db.sqlite
    .query<{ payer: string }, [string]>(
      `SELECT DISTINCT s.payer AS payer FROM payment_settlements s
       JOIN payment_intents i ON i.id = s.intent_id
       WHERE i.buyer_id = ?`,
    )
    .all(buyerId)
    .map((r) => r.payer);
}
