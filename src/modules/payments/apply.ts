// Performs the lifecycle table (lifecycle.ts) on the database: one event on one intent, in one
// short immediate transaction — read the intent, find its phase and the cell, then make the
// conditional update, the settlement row and the ledger postings together. The only place that
// changes an intent's status or posts a payments ledger transaction. Refusals are returned.
import { immediate } from '../../db/tx.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import * as Ledger from '../ledger/service.ts';
import { PaymentCodes } from './errors.ts';
import { getIntent, getSettlement, insertSettlement } from './intent-store.ts';
import { EXTRA_LIFECYCLE, type ExtraPhase, type LifecycleEventType, phaseOf, type Phase, type PostingKind, type Transition, transition } from './lifecycle.ts';
import { type PaymentIntent, type PaymentSettlement, paymentSettlements } from './schema.ts';
import type { PaymentVerification } from './verification-result.ts';
import { eq } from 'drizzle-orm';

/** A transfer verified on chain, with the route network it was found on. */
export type VerifiedTransfer = Extract<PaymentVerification, { status: 'verified' }> & { network: string };
/** A forwarding lease to take: a fresh id and when it lapses. */
export type LeaseClaim = { leaseId: string; until: string };
export type CompletedCall = { gatewayRequestId: string; sellerStatus: number; body: Uint8Array };

export type ApplyEvent =
  /** A verified transfer presented for the intent; with `thenClaim`, the lease is taken in the same transaction. */
  | { type: 'payment'; transfer: VerifiedTransfer; thenClaim?: LeaseClaim }
  | { type: 'claim'; claim: LeaseClaim }
  | { type: 'complete'; call: CompletedCall }
  | { type: 'release'; leaseId: string }
  | { type: 'expire' }
  | { type: 'refund'; txRef: string };

/** One cell performed (or refused). */
export type Step = { event: LifecycleEventType; phase: Phase; transition: Transition };
/** The intent after the event (undefined: no such intent) and the cells applied, in order. */
export type ApplyResult = { intent: PaymentIntent | undefined; steps: Step[] };

export type ApplyDeps = CoreDeps;

const MAX_STORED_RESPONSE_BYTES = 1024 * 1024;

/** Applies `event` to intent `intentId` (see the file comment). */
export function apply(deps: ApplyDeps, intentId: string, event: ApplyEvent): ApplyResult {
  return immediate(deps.db.sqlite, () => {
    let intent = getIntent(deps, intentId);
    if (!intent) return { intent, steps: [] };
    const read = intent;
    const now = deps.clock.now().toISOString();
    const steps: Step[] = [];
    // Every cell's column changes, written by one conditional update at the end.
    const patch: Partial<PaymentIntent> = {};
    const run = (type: LifecycleEventType, perform: (t: Extract<Transition, { kind: 'move' }>, current: PaymentIntent) => PaymentIntent) => {
      const phase = phaseOf(intent as PaymentIntent, now);
      const cell = transition(phase, type);
      steps.push({ event: type, phase, transition: cell });
      if (cell.kind === 'move') intent = perform(cell, intent as PaymentIntent);
      return cell;
    };
    switch (event.type) {
      case 'payment': {
        const { kind, existing } = classify(deps, intent, event.transfer);
        const cell = run(kind, (t, i) => recordTransfer(deps, patch, i, t, event.transfer, existing, now));
        if (cell.kind !== 'refuse' && event.thenClaim) run('claim', (t, i) => moveIntent(patch, i, t, now, { claim: event.thenClaim }));
        break;
      }
      case 'claim':
        run('claim', (t, i) => moveIntent(patch, i, t, now, { claim: event.claim }));
        break;
      case 'complete':
        run('complete', (t, i) => {
          post(deps, i, t.postings, { gatewayRequestId: event.call.gatewayRequestId });
          keepReply(deps, i, event.call);
          return moveIntent(patch, i, t, now, { consumedBy: event.call.gatewayRequestId });
        });
        break;
      case 'release':
        run('release', (t, i) => moveIntent(patch, i, t, now, { releaseOnly: event.leaseId }));
        break;
      case 'expire':
        run('expire', (t, i) => {
          post(deps, i, t.postings, {});
          return moveIntent(patch, i, t, now, {});
        });
        break;
      case 'refund': {
        // Guard of the cell: one refund transfer never pays back two buyers.
        const guard = () => refundRefUsedByOtherBuyer(deps, event.txRef, (intent as PaymentIntent).buyerId);
        const cell = transition(phaseOf(intent, now), 'refund');
        if (cell.kind === 'move' && guard()) {
          steps.push({ event: 'refund', phase: phaseOf(intent, now), transition: { kind: 'refuse', code: PaymentCodes.REFUND_TX_REF_USED } });
          break;
        }
        run('refund', (t, i) => {
          post(deps, i, t.postings, { txRef: event.txRef });
          return moveIntent(patch, i, t, now, { refundTxRef: event.txRef });
        });
        break;
      }
    }
    writePatch(deps, read, patch);
    return { intent, steps };
  });
}

/** The first refusal among the steps, if any. */
export const refusalOf = (r: ApplyResult) => r.steps.find((s) => s.transition.kind === 'refuse')?.transition as Extract<Transition, { kind: 'refuse' }> | undefined;
/** The step for `event`, if it ran. */
export const stepOf = (r: ApplyResult, event: LifecycleEventType | 'pay*') =>
  r.steps.find((s) => (event === 'pay*' ? s.event.startsWith('pay') : s.event === event));

/** What the books already say about this transfer, relative to `intent` (the event of the table). */
function classify(deps: ApplyDeps, intent: PaymentIntent, v: VerifiedTransfer): { kind: LifecycleEventType; existing: PaymentSettlement | undefined } {
  const existing = getSettlement(deps, v.settlementKey);
  if (!existing) return { kind: 'pay', existing };
  if (existing.intentId === intent.id) return { kind: 'pay_again', existing };
  // Recorded before as an extra payment of another intent of this buyer (presented with the wrong
  // relay id) and not refunded: it may pay for this intent instead — only one costing at least the
  // amount booked as owed, so that no recorded debt shrinks.
  const owner = existing.surplus && existing.refundTxRef === null ? getIntent(deps, existing.intentId) : undefined;
  const reclaimable = owner !== undefined && owner.buyerId === intent.buyerId && owner.amountMicroUsd <= intent.amountMicroUsd;
  return { kind: reclaimable ? 'pay_reclaimed' : 'pay_used', existing };
}

function recordTransfer(
  deps: ApplyDeps,
  patch: Partial<PaymentIntent>,
  intent: PaymentIntent,
  t: Extract<Transition, { kind: 'move' }>,
  v: VerifiedTransfer,
  existing: PaymentSettlement | undefined,
  now: string,
): PaymentIntent {
  const { db } = deps.db;
  const row = { settlementKey: v.settlementKey, intentId: intent.id, network: v.network, txRef: v.txRef, transferIndex: v.transferIndex, payer: v.payer, amountAtomic: v.amountAtomic.toString(), createdAt: now };
  const ref = { network: v.network, txRef: v.txRef };
  if (t.record === 'reclaim' && existing) {
    const owner = getIntent(deps, existing.intentId) as PaymentIntent;
    post(deps, owner, ['cancel_extra'], { network: existing.network, txRef: existing.txRef });
    db.update(paymentSettlements).set({ intentId: intent.id, surplus: false }).where(eq(paymentSettlements.settlementKey, v.settlementKey)).run();
  } else {
    insertSettlement(deps, { ...row, surplus: t.record === 'extra' });
  }
  post(deps, intent, t.postings.filter((p) => p !== 'cancel_extra'), ref);
  if (t.record === 'extra') return intent;
  return moveIntent(patch, intent, t, now, { settledBy: v });
}

type MoveExtras = {
  settledBy?: VerifiedTransfer;
  claim?: LeaseClaim;
  consumedBy?: string;
  refundTxRef?: string;
  /** A `release`: drop the lease only if it is this one. */
  releaseOnly?: string;
};

/** One cell's column changes (status, settlement fields, lease), added to `patch`; the intent as it now is. */
function moveIntent(patch: Partial<PaymentIntent>, intent: PaymentIntent, t: Extract<Transition, { kind: 'move' }>, now: string, x: MoveExtras): PaymentIntent {
  const set: Partial<PaymentIntent> = {};
  if (t.to !== null) set.status = t.to;
  if (x.settledBy) Object.assign(set, { settlementKey: x.settledBy.settlementKey, settledNetwork: x.settledBy.network, settledTxRef: x.settledBy.txRef, settledAt: now });
  if (x.consumedBy) Object.assign(set, { consumedAt: now, gatewayRequestId: x.consumedBy });
  if (x.refundTxRef) Object.assign(set, { refundTxRef: x.refundTxRef, refundedAt: now });
  if (t.lease === 'take' && x.claim) Object.assign(set, { leaseId: x.claim.leaseId, leaseUntil: x.claim.until });
  if (t.lease === 'drop') {
    if (x.releaseOnly !== undefined && intent.leaseId !== x.releaseOnly) return intent;
    Object.assign(set, { leaseId: null, leaseUntil: null });
  }
  Object.assign(patch, set);
  return { ...intent, ...set };
}

/** The conditional update: only from the status read in this transaction. */
function writePatch(deps: ApplyDeps, read: PaymentIntent, patch: Partial<PaymentIntent>): void {
  const columns = Object.keys(patch) as (keyof PaymentIntent)[];
  if (columns.length === 0) return;
  const sql = `UPDATE payment_intents SET ${columns.map((c) => `${COLUMN[c]} = ?`).join(', ')} WHERE id = ? AND status = ?`;
  const changed = deps.db.sqlite.query(sql).run(...columns.map((c) => patch[c] as string | null), read.id, read.status).changes;
  // Under BEGIN IMMEDIATE nothing else can write between our read and this update.
  if (changed !== 1) throw new Error(`payments: intent ${read.id} changed under its transaction`);
}

const COLUMN: Partial<Record<keyof PaymentIntent, string>> = {
  status: 'status', settlementKey: 'settlement_key', settledNetwork: 'settled_network', settledTxRef: 'settled_tx_ref', settledAt: 'settled_at',
  consumedAt: 'consumed_at', gatewayRequestId: 'gateway_request_id', refundTxRef: 'refund_tx_ref', refundedAt: 'refunded_at',
  leaseId: 'lease_id', leaseUntil: 'lease_until',
};

type PostingRef = { network?: string | null; txRef?: string | null; gatewayRequestId?: string };

/** Posts the cell's ledger transactions for `intent` (network and tx ref default to its settled payment's). */
function post(deps: ApplyDeps, intent: PaymentIntent, postings: readonly PostingKind[], ref: PostingRef): void {
  const amounts = { buyerId: intent.buyerId, amountMicroUsd: intent.amountMicroUsd };
  for (const p of postings) {
    const entries =
      p === 'settlement' ? Ledger.settlementEntries(amounts)
      : p === 'refund_due' ? Ledger.refundDueEntries(amounts)
      : p === 'release' ? Ledger.releaseEntries({ sellerId: intent.sellerId, amountMicroUsd: intent.amountMicroUsd, feeBps: intent.feeBps })
      : p === 'refund' ? Ledger.refundEntries(amounts)
      : Ledger.cancelledRefundEntries(amounts);
    Ledger.postLedgerTransaction(deps, {
      kind: p === 'cancel_extra' ? 'adjustment' : p,
      entries,
      network: (ref.network !== undefined ? ref.network : intent.settledNetwork) ?? undefined,
      txRef: (ref.txRef !== undefined ? ref.txRef : intent.settledTxRef) ?? undefined,
      gatewayRequestId: ref.gatewayRequestId,
      relayRequestId: intent.id,
    });
  }
}

/** A paid call's reply, sealed, for its buyer to fetch while kept (SPEC §5 item 7). */
function keepReply(deps: ApplyDeps, intent: PaymentIntent, call: CompletedCall): void {
  const ttl = deps.config.paid_response_ttl_seconds;
  if (ttl <= 0 || call.body.byteLength > MAX_STORED_RESPONSE_BYTES) return;
  const now = deps.clock.now();
  const sealed = deps.vault.seal(new TextDecoder().decode(call.body), { table: 'paid_responses', column: 'body_sealed', rowId: call.gatewayRequestId });
  // A raw statement (compiled once per connection): this runs once per paid call.
  deps.db.sqlite
    .query('INSERT INTO paid_responses (gateway_request_id, intent_id, buyer_id, seller_status, body_sealed, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(call.gatewayRequestId, intent.id, intent.buyerId, call.sellerStatus, sealed, now.toISOString(), new Date(now.getTime() + ttl * 1000).toISOString());
}

/** One transfer may pay back several refunds of one buyer, never refunds of two buyers. */
function refundRefUsedByOtherBuyer(deps: ApplyDeps, txRef: string, buyerId: string): boolean {
  const row = deps.db.sqlite
    .query<{ n: number }, [string, string, string, string]>(
      `SELECT (SELECT COUNT(*) FROM payment_intents WHERE refund_tx_ref = ? AND buyer_id != ?)
            + (SELECT COUNT(*) FROM payment_settlements s JOIN payment_intents i ON i.id = s.intent_id
                WHERE s.refund_tx_ref = ? AND i.buyer_id != ?) AS n`,
    )
    .get(txRef, buyerId, txRef, buyerId);
  return (row?.n ?? 0) > 0;
}

/** The phase of an extra payment at `nowIso` (payable once no intent of its buyer can claim it). */
export const extraPhaseOf = (s: PaymentSettlement, payableAfter: string, nowIso: string): ExtraPhase =>
  s.refundTxRef !== null ? 'extra_refunded' : nowIso < payableAfter ? 'extra_not_yet_payable' : 'extra_due';

/**
 * Pays back an extra payment (`settlementKey`): the extra-payment table's `refund`, in one
 * transaction. Returns the refusal code, or null when recorded.
 */
export function applyExtraRefund(deps: ApplyDeps, settlementKey: string, txRef: string, payableAfter: (s: PaymentSettlement) => string): { code: string | null; settlement: PaymentSettlement | undefined; intent: PaymentIntent | undefined } {
  return immediate(deps.db.sqlite, () => {
    const s = getSettlement(deps, settlementKey);
    const intent = s ? getIntent(deps, s.intentId) : undefined;
    if (!s || !s.surplus || !intent) return { code: PaymentCodes.REFUND_NOT_FOUND, settlement: s, intent };
    const now = deps.clock.now().toISOString();
    const cell = EXTRA_LIFECYCLE[extraPhaseOf(s, payableAfter(s), now)].refund;
    if (cell.kind === 'refuse') return { code: cell.code, settlement: s, intent };
    if (refundRefUsedByOtherBuyer(deps, txRef, intent.buyerId)) return { code: PaymentCodes.REFUND_TX_REF_USED, settlement: s, intent };
    if (cell.kind === 'ignore') return { code: null, settlement: s, intent };
    deps.db.db.update(paymentSettlements).set({ refundTxRef: txRef, refundedAt: now }).where(eq(paymentSettlements.settlementKey, settlementKey)).run();
    post(deps, intent, cell.postings, { network: s.network, txRef });
    return { code: null, settlement: { ...s, refundTxRef: txRef, refundedAt: now }, intent };
  });
}
