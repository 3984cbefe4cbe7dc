import { and, eq, inArray, lte } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { microToDecimalString } from '../../shared/money.ts';
import * as Ledger from '../ledger/service.ts';
import { PaymentErrors } from './errors.ts';
import { paidResponses, type PaymentIntent, paymentIntents } from './schema.ts';
import { getIntent } from './intent-store.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import type { PaymentsDeps } from './service.ts';

/**
 * Expiry sweep: settled intents never used become `refund_due` (held → the buyer's refund account);
 * open ones just expire; stored replies past their time are deleted. Each intent in its own transaction.
 */
export function sweepExpiredIntents(deps: PaymentsDeps): { refundDue: number; expired: number } {
  const now = deps.clock.now().toISOString();
  const { db } = deps.db;
  const due = db.select().from(paymentIntents)
    .where(and(inArray(paymentIntents.status, ['open', 'settled']), lte(paymentIntents.expiresAt, now))).all();
  let refundDue = 0;
  let expired = 0;
  for (const intent of due) {
    if (deps.inFlight.has(intent.id)) continue;
    immediate(deps.db.sqlite, () => {
      // Conditional on the status read above: a retry that settled or consumed it meanwhile wins.
      const move = (from: string, to: string) =>
        deps.db.sqlite.query('UPDATE payment_intents SET status = ? WHERE id = ? AND status = ?').run(to, intent.id, from).changes;
      if (intent.status === 'open') {
        expired += move('open', 'expired');
        return;
      }
      if (move('settled', 'refund_due') !== 1) return;
      Ledger.postLedgerTransaction(deps, {
        kind: 'refund_due',
        entries: Ledger.refundDueEntries({ buyerId: intent.buyerId, amountMicroUsd: intent.amountMicroUsd }),
        network: intent.settledNetwork ?? undefined,
        txRef: intent.settledTxRef ?? undefined,
        relayRequestId: intent.id,
      });
      refundDue += 1;
    });
  }
  db.delete(paidResponses).where(lte(paidResponses.expiresAt, now)).run();
  return { refundDue, expired };
}

export type RefundView = {
  relay_request_id: string;
  buyer_id: string;
  seller_id: string;
  listing_id: string;
  amount_micro_usd: number;
  amount: string;
  network: string | null;
  payment_tx_ref: string | null;
  /** Where the buyer's payment went, and whose wallet that is: the money to refund is there. */
  paid_to: string | null;
  held_by: 'treasury' | 'seller' | null;
  status: 'refund_due' | 'refunded';
  refund_tx_ref: string | null;
  expired_at: string;
};

function refundView(deps: CoreDeps, i: PaymentIntent): RefundView {
  // The route paid on: the intent offered one per network and asset, each with its pay_to.
  const payTos = new Set(i.routes.filter((r) => r.network === i.settledNetwork).map((r) => r.pay_to));
  const paidTo = payTos.size === 1 ? [...payTos][0]! : null;
  // EVM addresses compare without case (checksums); Solana's base58 is case-sensitive.
  const sameAddress = (a: string, b: string) => (i.settledNetwork?.startsWith('eip155:') ? a.toLowerCase() === b.toLowerCase() : a === b);
  const treasuries = deps.config.payment_routes.filter((r) => r.network === i.settledNetwork).map((r) => r.treasury);
  return {
    relay_request_id: i.id,
    buyer_id: i.buyerId,
    seller_id: i.sellerId,
    listing_id: i.listingId,
    amount_micro_usd: i.amountMicroUsd,
    amount: microToDecimalString(i.amountMicroUsd),
    network: i.settledNetwork,
    payment_tx_ref: i.settledTxRef,
    paid_to: paidTo,
    held_by: paidTo === null ? null : treasuries.some((t) => sameAddress(t, paidTo)) ? 'treasury' : 'seller',
    status: i.status === 'refunded' ? 'refunded' : 'refund_due',
    refund_tx_ref: i.refundTxRef,
    expired_at: i.expiresAt,
  };
}

/** Refunds the operator owes (and, with `includeDone`, those already made). */
export function listRefunds(deps: CoreDeps, includeDone = false): RefundView[] {
  return deps.db.db.select().from(paymentIntents)
    .where(inArray(paymentIntents.status, includeDone ? ['refund_due', 'refunded'] : ['refund_due']))
    .orderBy(paymentIntents.expiresAt).all().map((i) => refundView(deps, i));
}

/** The operator paid a refund back on chain: record its transaction reference (refunds:<buyer> → buyer). */
export function markRefunded(deps: CoreDeps, relayRequestId: string, txRef: string): RefundView {
  return immediate(deps.db.sqlite, () => {
    const intent = getIntent(deps, relayRequestId);
    if (!intent || intent.status !== 'refund_due') throw PaymentErrors.intentNotFound();
    // One transfer may pay back several refunds of one buyer; a reference already recorded for
    // another buyer is a mistake that would book one real refund twice.
    const other = deps.db.sqlite
      .query<{ n: number }, [string, string]>('SELECT COUNT(*) AS n FROM payment_intents WHERE refund_tx_ref = ? AND buyer_id != ?')
      .get(txRef, intent.buyerId);
    if ((other?.n ?? 0) > 0) throw PaymentErrors.refundTxRefUsed();
    const now = deps.clock.now().toISOString();
    deps.db.db.update(paymentIntents).set({ status: 'refunded', refundTxRef: txRef, refundedAt: now }).where(eq(paymentIntents.id, intent.id)).run();
    Ledger.postLedgerTransaction(deps, {
      kind: 'refund',
      entries: Ledger.refundEntries({ buyerId: intent.buyerId, amountMicroUsd: intent.amountMicroUsd }),
      network: intent.settledNetwork ?? undefined,
      txRef,
      relayRequestId: intent.id,
    });
    return refundView(deps, { ...intent, status: 'refunded', refundTxRef: txRef, refundedAt: now });
  });
}
