import { and, eq, inArray, isNull, lte, type SQL, sql } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { microToDecimalString } from '../../shared/money.ts';
import * as Ledger from '../ledger/service.ts';
import { PaymentErrors } from './errors.ts';
import { paidResponses, type PaymentIntent, paymentIntents, type PaymentSettlement, paymentSettlements } from './schema.ts';
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
  /** What `refunds mark` takes: the relay id for an intent's refund, the settlement key for an extra payment. */
  refund_id: string;
  /** `intent`: settled and never used, or paid after it expired; `extra_payment`: a second transfer for an intent already paid. */
  kind: 'intent' | 'extra_payment';
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
  /** When it became owed: the intent's expiry, or when the extra payment was recorded. */
  due_since: string;
  /**
   * Pay it back no earlier: an extra payment may still pay for another open intent of its buyer
   * (the one it was meant for) until every intent that existed when it was recorded has expired.
   */
  payable_after: string;
};

type Surplus = PaymentSettlement & { intent: PaymentIntent };

/** The pay_to of the intent's route on `network`, and whose wallet that is. */
function recipient(deps: CoreDeps, intent: PaymentIntent, network: string | null): Pick<RefundView, 'paid_to' | 'held_by'> {
  // The intent offered one route per network and asset, each with its pay_to.
  const payTos = new Set(intent.routes.filter((r) => r.network === network).map((r) => r.pay_to));
  const paidTo = payTos.size === 1 ? [...payTos][0]! : null;
  if (paidTo === null) return { paid_to: null, held_by: null };
  // EVM addresses compare without case (checksums); Solana's base58 is case-sensitive.
  const same = (a: string) => (network?.startsWith('eip155:') ? a.toLowerCase() === paidTo.toLowerCase() : a === paidTo);
  const isTreasury = deps.config.payment_routes.some((r) => r.network === network && same(r.treasury));
  return { paid_to: paidTo, held_by: isTreasury ? 'treasury' : 'seller' };
}

function intentRefund(deps: CoreDeps, i: PaymentIntent): RefundView {
  return {
    refund_id: i.id,
    kind: 'intent',
    relay_request_id: i.id,
    buyer_id: i.buyerId,
    seller_id: i.sellerId,
    listing_id: i.listingId,
    amount_micro_usd: i.amountMicroUsd,
    amount: microToDecimalString(i.amountMicroUsd),
    network: i.settledNetwork,
    payment_tx_ref: i.settledTxRef,
    ...recipient(deps, i, i.settledNetwork),
    status: i.status === 'refunded' ? 'refunded' : 'refund_due',
    refund_tx_ref: i.refundTxRef,
    due_since: i.expiresAt,
    payable_after: i.expiresAt,
  };
}

function surplusRefund(deps: CoreDeps, s: Surplus): RefundView {
  return {
    ...intentRefund(deps, s.intent),
    refund_id: s.settlementKey,
    kind: 'extra_payment',
    network: s.network,
    payment_tx_ref: s.txRef,
    ...recipient(deps, s.intent, s.network),
    status: s.refundTxRef === null ? 'refund_due' : 'refunded',
    refund_tx_ref: s.refundTxRef,
    due_since: s.createdAt,
    payable_after: new Date(Date.parse(s.createdAt) + deps.config.payment_intent_ttl_seconds * 1000).toISOString(),
  };
}

function surpluses(deps: CoreDeps, where: SQL): Surplus[] {
  return deps.db.db.select().from(paymentSettlements).innerJoin(paymentIntents, eq(paymentIntents.id, paymentSettlements.intentId))
    .where(and(eq(paymentSettlements.surplus, true), where)).all()
    .map((r) => ({ ...r.payment_settlements, intent: r.payment_intents }));
}

/** Refunds the operator owes (and, with `includeDone`, those already made), oldest first. */
export function listRefunds(deps: CoreDeps, includeDone = false): RefundView[] {
  const intents = deps.db.db.select().from(paymentIntents)
    .where(inArray(paymentIntents.status, includeDone ? ['refund_due', 'refunded'] : ['refund_due'])).all();
  const extra = surpluses(deps, includeDone ? sql`1 = 1` : isNull(paymentSettlements.refundTxRef));
  return [...intents.map((i) => intentRefund(deps, i)), ...extra.map((x) => surplusRefund(deps, x))]
    .sort((a, b) => (a.due_since < b.due_since ? -1 : a.due_since > b.due_since ? 1 : 0));
}

/**
 * The operator paid a refund back on chain: record its transaction reference (refunds:<buyer> →
 * buyer). `refundId` is a `refund_id` from the list.
 */
export function markRefunded(deps: CoreDeps, refundId: string, txRef: string): RefundView {
  return immediate(deps.db.sqlite, () => {
    const intent = getIntent(deps, refundId);
    const surplus = intent ? undefined : surpluses(deps, eq(paymentSettlements.settlementKey, refundId))[0];
    const owed = intent ?? surplus?.intent;
    if (!owed || (intent ? intent.status !== 'refund_due' : surplus?.refundTxRef !== null)) throw PaymentErrors.refundNotFound();
    if (surplus) {
      const payableAfter = surplusRefund(deps, surplus).payable_after;
      if (deps.clock.now().toISOString() < payableAfter) throw PaymentErrors.refundNotYetPayable(payableAfter);
    }
    // One transfer may pay back several refunds of one buyer; a reference already recorded for
    // another buyer is a mistake that would book one real refund twice.
    const otherBuyer = deps.db.sqlite
      .query<{ n: number }, [string, string, string, string]>(
        `SELECT (SELECT COUNT(*) FROM payment_intents WHERE refund_tx_ref = ? AND buyer_id != ?)
              + (SELECT COUNT(*) FROM payment_settlements s JOIN payment_intents i ON i.id = s.intent_id
                  WHERE s.refund_tx_ref = ? AND i.buyer_id != ?) AS n`,
      )
      .get(txRef, owed.buyerId, txRef, owed.buyerId);
    if ((otherBuyer?.n ?? 0) > 0) throw PaymentErrors.refundTxRefUsed();
    const now = deps.clock.now().toISOString();
    if (intent) {
      deps.db.db.update(paymentIntents).set({ status: 'refunded', refundTxRef: txRef, refundedAt: now }).where(eq(paymentIntents.id, intent.id)).run();
    } else {
      deps.db.db.update(paymentSettlements).set({ refundTxRef: txRef, refundedAt: now }).where(eq(paymentSettlements.settlementKey, refundId)).run();
    }
    Ledger.postLedgerTransaction(deps, {
      kind: 'refund',
      entries: Ledger.refundEntries({ buyerId: owed.buyerId, amountMicroUsd: owed.amountMicroUsd }),
      network: (intent ? intent.settledNetwork : surplus?.network) ?? undefined,
      txRef,
      relayRequestId: owed.id,
    });
    return intent
      ? intentRefund(deps, { ...intent, status: 'refunded', refundTxRef: txRef, refundedAt: now })
      : surplusRefund(deps, { ...(surplus as Surplus), refundTxRef: txRef, refundedAt: now });
  });
}
