// Asking the chains whether a transfer pays for an intent: every route that fits the transaction id
// is tried, the most advanced verdict wins. Network only; the books are written by apply.ts.
import * as Identity from '../identity/service.ts';
import type { PaymentsDeps, RoutedVerification } from './deps.ts';
import { PaymentErrors } from './errors.ts';
import { isEvm, verifierKey } from './offer.ts';
import type { PaymentIntent } from './schema.ts';
import { invalidPaymentTx, type PaymentVerification } from './verification-result.ts';

const EVM_TX = /^0x[0-9a-fA-F]{64}$/;
const SOLANA_SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,90}$/;

/** EVM hashes compare without case; Solana signatures are case-sensitive base58. */
export const sameTxRef = (recorded: string | null, given: string) =>
  recorded !== null && (EVM_TX.test(given) ? recorded.toLowerCase() === given.toLowerCase() : recorded === given);

/** Verifies `paymentTx` (or, on Solana, the intent's reference) once per process for concurrent retries. */
export function sharedVerification(deps: PaymentsDeps, intent: PaymentIntent, paymentTx: string | null): Promise<RoutedVerification> {
  const key = `${intent.id}|${paymentTx ?? ''}`;
  const running = deps.verifying.get(key);
  if (running) return running;
  const promise = verifyOnChain(deps, intent, paymentTx).finally(() => deps.verifying.delete(key));
  deps.verifying.set(key, promise);
  return promise;
}

const rank: Record<PaymentVerification['status'], number> = { verified: 3, pending: 2, rejected: 1, not_found: 0 };

/** Tries the intent's routes that fit the given transaction id; the most advanced verdict wins. */
async function verifyOnChain(deps: PaymentsDeps, intent: PaymentIntent, paymentTx: string | null): Promise<RoutedVerification> {
  const tx = paymentTx?.trim() || null;
  const evmRoutes = intent.routes.filter((r) => isEvm(r.network));
  const solanaRoutes = intent.routes.filter((r) => !isEvm(r.network));
  const attempts: Promise<RoutedVerification>[] = [];
  const on = (network: string) => (v: PaymentVerification): RoutedVerification => ({ ...v, network });
  if (tx && EVM_TX.test(tx)) {
    if (evmRoutes.length === 0) throw invalidPaymentTx('a Solana transaction signature (base58) for this intent');
    const buyerWallets = Identity.listWallets(deps, intent.buyerId)
      .filter((w) => w.chain === 'evm' && w.status === 'active' && w.roles.includes('payment'))
      .map((w) => w.address);
    for (const r of evmRoutes) {
      const verifier = deps.verifiers.evm.get(verifierKey(r));
      if (!verifier) continue;
      attempts.push(verifier.verify({ txHash: tx as `0x${string}`, payTo: r.pay_to, amountAtomic: BigInt(r.amount_atomic), buyerWallets, afterBlock: BigInt(r.after_block ?? '0') }).then(on(r.network)));
    }
  } else if (tx && !SOLANA_SIGNATURE.test(tx)) {
    throw invalidPaymentTx('an EVM transaction hash (0x + 64 hex) or a Solana signature (base58)');
  } else {
    if (solanaRoutes.length === 0) throw PaymentErrors.txRequired();
    for (const r of solanaRoutes) {
      const verifier = deps.verifiers.solana.get(verifierKey(r));
      if (!verifier || !r.reference) continue;
      const notBefore = Math.floor(Date.parse(intent.createdAt) / 1000);
      attempts.push(verifier.verify({ reference: r.reference, ...(tx ? { signature: tx } : {}), payToOwner: r.pay_to, amountAtomic: BigInt(r.amount_atomic), notBefore }).then(on(r.network)));
    }
  }
  // One route's RPC being down must not block a payment another route can see: only when no
  // route found anything does an RPC failure become the answer (a retryable 503, not "not found").
  const settled = await Promise.allSettled(attempts);
  const best = settled.reduce<RoutedVerification>(
    (b, r) => (r.status === 'fulfilled' && rank[r.value.status] > rank[b.status] ? r.value : b),
    { status: 'not_found', network: null },
  );
  const failure = settled.find((r) => r.status === 'rejected');
  if (best.status === 'not_found' && failure) throw failure.reason;
  return best;
}
