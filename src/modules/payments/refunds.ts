// Refunds the operator owes: listed from intents and extra payments, marked paid through the
// lifecycle (`apply`), which posts refunds:<buyer> → buyer.
import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { CoreDeps } from '../../shared/deps.ts';
import { microToDecimalString } from '../../shared/money.ts';
import { apply, type ApplyDeps, applyExtraRefund, refusalOf } from './apply.ts';
import { PaymentCodes, PaymentErrors } from './errors.ts';
import { getIntent } from './intent-store.ts';
import { type PaymentIntent, paymentIntents, type PaymentSettlement, paymentSettlements } from './schema.ts';

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

/** An extra payment may pay for another intent of its buyer until every intent that existed when it was recorded has expired. */
const payableAfterOf = (deps: CoreDeps, recordedAt: string) => new Date(Date.parse(recordedAt) + deps.config.payment_intent_ttl_seconds * 1000).toISOString();

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
    payable_after: payableAfterOf(deps, s.createdAt),
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
 * buyer). `refundId` is a `refund_id` from the list: the lifecycle's `refund` on the intent, or on
 * the extra payment.
 */
export function markRefunded(deps: ApplyDeps, refundId: string, txRef: string): RefundView {
  if (getIntent(deps, refundId)) {
    const result = apply(deps, refundId, { type: 'refund', txRef });
    const refusal = refusalOf(result);
    if (refusal || !result.intent) throw refundError(refusal?.code ?? PaymentCodes.REFUND_NOT_FOUND);
    return intentRefund(deps, result.intent);
  }
  const payableAfter = (s: PaymentSettlement) => payableAfterOf(deps, s.createdAt);
  const done = applyExtraRefund(deps, refundId, txRef, payableAfter);
  if (done.code !== null || !done.settlement || !done.intent) {
    throw refundError(done.code ?? PaymentCodes.REFUND_NOT_FOUND, done.settlement ? payableAfter(done.settlement) : '');
  }
  return surplusRefund(deps, { ...done.settlement, intent: done.intent });
}

function refundError(code: string, payableAfter = ''): Error {
  if (code === PaymentCodes.REFUND_TX_REF_USED) return PaymentErrors.refundTxRefUsed();
  if (code === PaymentCodes.REFUND_NOT_YET_PAYABLE) return PaymentErrors.refundNotYetPayable(payableAfter);
  return PaymentErrors.refundNotFound();
}
