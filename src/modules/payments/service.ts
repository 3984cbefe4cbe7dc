import { and, eq, inArray } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { AppError } from '../../shared/app-error.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { prefixedId } from '../../shared/ids.ts';
import * as Identity from '../identity/service.ts';
import * as Ledger from '../ledger/service.ts';
import { PaymentErrors } from './errors.ts';
import { buildOfferedRoutes, type ChainVerifiers, isEvm, paymentObject, verifierKey } from './offer.ts';
import { getIntent } from './intent-store.ts';
import { paidResponses, type PaymentIntent, paymentIntents, paymentSettlements } from './schema.ts';
import { invalidPaymentTx, PENDING_RETRY_AFTER_SECONDS, type PaymentVerification } from './verification-result.ts';

export { buildVerifiers, type ChainVerifiers, verifierKey } from './offer.ts';
export { payerAddressesOf } from './payers.ts';
export { listRefunds, markRefunded, type RefundView, sweepExpiredIntents } from './refunds.ts';
export type { PaymentIntent } from './schema.ts';

export type PaymentsDeps = CoreDeps & {
  verifiers: ChainVerifiers;
  /** Intents whose call is being forwarded now (one process serves the instance). */
  inFlight: Set<string>;
  /** Verifications under way, shared by concurrent retries of one intent. */
  verifying: Map<string, Promise<RoutedVerification>>;
  /** The marketplace fee now (the operator may change it in the console unless env/flag fix it). */
  feeBps?: () => number;
};

/** A verdict and the route network it came from. */
type RoutedVerification = PaymentVerification & { network: string | null };

const MAX_STORED_RESPONSE_BYTES = 1024 * 1024;
const EVM_TX = /^0x[0-9a-fA-F]{64}$/;
const SOLANA_SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,90}$/;


/** Creates a payment intent for this buyer, listing and body; the caller answers 402 with `error`. */
export async function createIntent(
  deps: PaymentsDeps,
  args: { buyerId: string; sellerId: string; listingId: string; priceMicroUsd: number; bodySha256: string; origin: string | null },
): Promise<{ intent: PaymentIntent; error: AppError }> {
  const routes = await buildOfferedRoutes(deps, { priceMicroUsd: args.priceMicroUsd, sellerId: args.sellerId, buyerId: args.buyerId, origin: args.origin });
  const now = deps.clock.now();
  const intent: PaymentIntent = {
    id: prefixedId('rly_'),
    buyerId: args.buyerId,
    sellerId: args.sellerId,
    listingId: args.listingId,
    bodySha256: args.bodySha256,
    amountMicroUsd: args.priceMicroUsd,
    feeBps: deps.feeBps ? deps.feeBps() : deps.config.fee_bps,
    routes,
    status: 'open',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.config.payment_intent_ttl_seconds * 1000).toISOString(),
    settlementKey: null,
    settledNetwork: null,
    settledTxRef: null,
    settledAt: null,
    consumedAt: null,
    gatewayRequestId: null,
    refundTxRef: null,
    refundedAt: null,
  };
  deps.db.db.insert(paymentIntents).values(intent).run();
  return { intent, error: PaymentErrors.required(paymentObject(intent)) };
}

export type PaidCallDecision =
  | { kind: 'forward'; intent: PaymentIntent; release(): void }
  | { kind: 'pending'; intent: PaymentIntent; retryAfterSeconds: number };

/**
 * A retry with X-Crochet-Relay-Request-Id: checks the intent, verifies the payment on chain when it
 * is not settled yet, settles it, and takes the intent's forwarding lock. Concurrent retries of one
 * intent share one verification and only one of them gets the lock (the rest: PAYMENT_IN_PROGRESS).
 */
export async function authorizePaidCall(
  deps: PaymentsDeps,
  args: { buyerId: string; listingId: string; bodySha256: string; relayRequestId: string; paymentTx: string | null },
  /** Runs inside the settlement transaction (the gateway records the attempt's row there). */
  onSettled: (intent: PaymentIntent) => void = () => {},
): Promise<PaidCallDecision> {
  const extra = await recordExtraPayment(deps, args);
  let intent: PaymentIntent;
  try {
    intent = await checkIntentOrRecordLatePayment(deps, args);
  } catch (error) {
    throw extra === 'none' ? error : withExtraPaymentNote(error, extra);
  }
  if (intent.status === 'open') {
    const verification = await sharedVerification(deps, intent, args.paymentTx);
    // Re-read after the await: another retry may have settled or consumed it meanwhile, or it
    // may have expired while the chain was asked (then a valid payment is recorded for refund).
    try {
      intent = checkIntent(deps, args);
    } catch (error) {
      if (isExpiry(error)) recordLatePayment(deps, args.relayRequestId, verification);
      // Another retry paid for it meanwhile with another transfer: this one is extra.
      throw recordSurplus(deps, args.relayRequestId, verification) ? withExtraPaymentNote(error, 'recorded') : error;
    }
    if (intent.status !== 'open') recordSurplus(deps, intent.id, verification);
    else {
      switch (verification.status) {
        case 'pending':
          return { kind: 'pending', intent, retryAfterSeconds: verification.retryAfterSeconds };
        case 'not_found':
          throw PaymentErrors.notFound(paymentObject(intent));
        case 'rejected':
          throw PaymentErrors.rejected(verification.code, verification.message, paymentObject(intent));
        case 'verified':
          intent = settleVerifiedPayment(deps, intent, verification, verification.network ?? '', onSettled);
      }
    }
  }
  // No await between the check above and taking the lock: exactly one retry forwards.
  if (deps.inFlight.has(intent.id)) throw PaymentErrors.inProgress();
  deps.inFlight.add(intent.id);
  const id = intent.id;
  return { kind: 'forward', intent, release: () => deps.inFlight.delete(id) };
}

type IntentArgs = { buyerId: string; listingId: string; bodySha256: string; relayRequestId: string; paymentTx: string | null };

/**
 * A transfer presented for an intent that another transfer already paid (a buyer paying twice):
 * when it is valid and has paid for nothing else, it is recorded as a surplus owed back to the
 * buyer (buyer → held → refunds), in one transaction. The call itself goes on as it would have.
 * `recorded` when it was recorded now; `pending` when it is valid so far but not final yet (the
 * buyer is told to present it again later).
 */
async function recordExtraPayment(deps: PaymentsDeps, args: IntentArgs): Promise<'recorded' | 'pending' | 'none'> {
  const tx = args.paymentTx?.trim();
  const intent = getIntent(deps, args.relayRequestId);
  if (!tx || !intent || intent.buyerId !== args.buyerId || intent.settlementKey === null || intent.settledNetwork === null) return 'none';
  if (intent.listingId !== args.listingId || intent.bodySha256 !== args.bodySha256) return 'none';
  if (sameTxRef(intent.settledTxRef, tx)) return 'none';
  let verification: RoutedVerification;
  try {
    verification = await sharedVerification(deps, intent, tx);
  } catch {
    // Unreadable or unreachable: nothing to record now; the call is answered as usual.
    return 'none';
  }
  if (verification.status === 'pending') return 'pending';
  return recordSurplus(deps, intent.id, verification) ? 'recorded' : 'none';
}

/**
 * Records `verification` as a surplus of the intent when it is a valid transfer other than the one
 * that paid for it, not recorded before: one transaction. True when it was recorded now.
 */
function recordSurplus(deps: PaymentsDeps, intentId: string, verification: RoutedVerification): boolean {
  if (verification.status !== 'verified') return false;
  const v = verification;
  const isExtra = (intent: PaymentIntent | undefined): intent is PaymentIntent =>
    intent !== undefined && intent.settlementKey !== null && intent.settlementKey !== v.settlementKey;
  // Read first: most callers bring the transfer that paid (retries in progress), and need no write.
  if (!isExtra(getIntent(deps, intentId))) return false;
  return immediate(deps.db.sqlite, () => {
    const { db } = deps.db;
    const intent = getIntent(deps, intentId);
    if (!isExtra(intent)) return false;
    // Already recorded (for this intent or, as its payment, for another one): not a new surplus.
    if (db.select({ k: paymentSettlements.settlementKey }).from(paymentSettlements).where(eq(paymentSettlements.settlementKey, v.settlementKey)).get()) return false;
    const network = v.network ?? '';
    db.insert(paymentSettlements).values({
      settlementKey: v.settlementKey, intentId: intent.id, network, txRef: v.txRef, transferIndex: v.transferIndex,
      payer: v.payer, amountAtomic: v.amountAtomic.toString(), createdAt: deps.clock.now().toISOString(), surplus: true,
    }).run();
    const ledgerRef = { network, txRef: v.txRef, relayRequestId: intent.id };
    const amounts = { buyerId: intent.buyerId, amountMicroUsd: intent.amountMicroUsd };
    Ledger.postLedgerTransaction(deps, { kind: 'settlement', entries: Ledger.settlementEntries(amounts), ...ledgerRef });
    Ledger.postLedgerTransaction(deps, { kind: 'refund_due', entries: Ledger.refundDueEntries(amounts), ...ledgerRef });
    return true;
  });
}

/** EVM hashes compare without case; Solana signatures are case-sensitive base58. */
const sameTxRef = (recorded: string | null, given: string) =>
  recorded !== null && (EVM_TX.test(given) ? recorded.toLowerCase() === given.toLowerCase() : recorded === given);

/**
 * The buyer's refusal, noting what became of the extra transfer it presented: owed back to it now,
 * or not final yet (present it again once final to have it recorded).
 */
function withExtraPaymentNote(error: unknown, extra: 'recorded' | 'pending'): unknown {
  if (!(error instanceof AppError)) return error;
  const note = extra === 'recorded' ? { extra_payment_refund_due: true } : { extra_payment_pending: true, retry_after_seconds: PENDING_RETRY_AFTER_SECONDS };
  return new AppError(error.status, error.code, error.message, {
    details: { ...error.details, ...note },
    recovery: error.recovery,
    extra: error.extra,
    headers: error.headers,
  });
}

function checkIntent(deps: PaymentsDeps, args: IntentArgs): PaymentIntent {
  const intent = getIntent(deps, args.relayRequestId);
  // Another buyer's intent is indistinguishable from a missing one.
  if (!intent || intent.buyerId !== args.buyerId) throw PaymentErrors.intentNotFound();
  if (intent.status === 'consumed') throw PaymentErrors.intentConsumed();
  if (intent.listingId !== args.listingId || intent.bodySha256 !== args.bodySha256) throw PaymentErrors.requestMismatch();
  if (intent.status !== 'open' && intent.status !== 'settled') throw PaymentErrors.intentExpired();
  if (intent.expiresAt <= deps.clock.now().toISOString()) throw PaymentErrors.intentExpired();
  if (deps.inFlight.has(intent.id)) throw PaymentErrors.inProgress();
  return intent;
}

/**
 * `checkIntent`, except that a payment presented for an intent that expired before it was ever
 * settled (a transfer confirmed too late) is still verified and, when valid, recorded straight as
 * `refund_due`: money that reached a pay_to wallet is never left off the books.
 */
async function checkIntentOrRecordLatePayment(deps: PaymentsDeps, args: IntentArgs): Promise<PaymentIntent> {
  try {
    return checkIntent(deps, args);
  } catch (error) {
    if (!isExpiry(error)) throw error;
    const intent = getIntent(deps, args.relayRequestId);
    if (!intent || (intent.status !== 'open' && intent.status !== 'expired')) throw error;
    recordLatePayment(deps, intent.id, await sharedVerification(deps, intent, args.paymentTx));
    throw error;
  }
}

const isExpiry = (error: unknown) => error instanceof AppError && error.code === 'PAYMENT_INTENT_EXPIRED';

/** A verified payment for an intent that expired unsettled: recorded as refund due, then 410 saying so. */
function recordLatePayment(deps: PaymentsDeps, intentId: string, verification: RoutedVerification): void {
  const intent = getIntent(deps, intentId);
  if (verification.status !== 'verified' || !intent || (intent.status !== 'open' && intent.status !== 'expired')) return;
  recordSettlement(deps, intent, verification, verification.network ?? '', 'refund_due');
  throw PaymentErrors.intentExpired({ refundDue: true });
}

function sharedVerification(deps: PaymentsDeps, intent: PaymentIntent, paymentTx: string | null): Promise<RoutedVerification> {
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

/** Records the verified transfer, settles the intent and holds the money: one transaction. */
export function settleVerifiedPayment(
  deps: PaymentsDeps,
  intent: PaymentIntent,
  v: Extract<PaymentVerification, { status: 'verified' }>,
  network: string,
  onSettled: (intent: PaymentIntent) => void = () => {},
): PaymentIntent {
  return recordSettlement(deps, intent, v, network, 'settled', onSettled);
}

/**
 * One transaction: claim the transfer's settlement key (PAYMENT_ALREADY_USED if another intent has
 * it), hold the money (buyer → held), and move the intent to `settled` — or, for a payment that
 * arrived after its intent expired, straight on to `refund_due` (held → the buyer's refund account).
 */
function recordSettlement(
  deps: PaymentsDeps,
  intent: PaymentIntent,
  v: Extract<PaymentVerification, { status: 'verified' }>,
  network: string,
  outcome: 'settled' | 'refund_due',
  onSettled: (intent: PaymentIntent) => void = () => {},
): PaymentIntent {
  const from = outcome === 'settled' ? ['open'] : ['open', 'expired'];
  return immediate(deps.db.sqlite, () => {
    const { db } = deps.db;
    const current = getIntent(deps, intent.id);
    if (!current) throw PaymentErrors.intentNotFound();
    if (!from.includes(current.status)) return current;
    const now = deps.clock.now().toISOString();
    const existing = db.select().from(paymentSettlements).where(eq(paymentSettlements.settlementKey, v.settlementKey)).get();
    if (existing) {
      // Recorded before as an extra payment of another intent of this buyer (presented with the
      // wrong relay id) and not refunded yet: it pays for this intent instead, and is no longer
      // owed. Only to settle a call (a late payment is owed back either way), and only for an intent
      // of at least the amount booked as owed, so that no recorded debt shrinks.
      const owner = existing.surplus && existing.refundTxRef === null && outcome === 'settled' ? getIntent(deps, existing.intentId) : undefined;
      if (!owner || owner.buyerId !== intent.buyerId || owner.amountMicroUsd > intent.amountMicroUsd) throw PaymentErrors.alreadyUsed();
      Ledger.postLedgerTransaction(deps, {
        kind: 'adjustment',
        entries: Ledger.cancelledRefundEntries({ buyerId: owner.buyerId, amountMicroUsd: owner.amountMicroUsd }),
        network: existing.network,
        txRef: existing.txRef,
        relayRequestId: owner.id,
      });
      db.update(paymentSettlements).set({ intentId: intent.id, surplus: false }).where(eq(paymentSettlements.settlementKey, v.settlementKey)).run();
    } else {
      db.insert(paymentSettlements).values({
        settlementKey: v.settlementKey, intentId: intent.id, network, txRef: v.txRef, transferIndex: v.transferIndex,
        payer: v.payer, amountAtomic: v.amountAtomic.toString(), createdAt: now,
      }).run();
    }
    const fields = { status: outcome, settlementKey: v.settlementKey, settledNetwork: network, settledTxRef: v.txRef, settledAt: now };
    db.update(paymentIntents).set(fields).where(and(eq(paymentIntents.id, intent.id), inArray(paymentIntents.status, from as PaymentIntent['status'][]))).run();
    const ledgerRef = { network, txRef: v.txRef, relayRequestId: intent.id };
    Ledger.postLedgerTransaction(deps, {
      kind: 'settlement',
      entries: Ledger.settlementEntries({ buyerId: intent.buyerId, amountMicroUsd: intent.amountMicroUsd }),
      ...ledgerRef,
    });
    if (outcome === 'refund_due') {
      Ledger.postLedgerTransaction(deps, {
        kind: 'refund_due',
        entries: Ledger.refundDueEntries({ buyerId: intent.buyerId, amountMicroUsd: intent.amountMicroUsd }),
        ...ledgerRef,
      });
    }
    const settled = { ...current, ...fields };
    if (outcome === 'settled') onSettled(settled);
    return settled;
  });
}

/**
 * The seller handled the paid call: release the hold to the seller (less the fee), consume the
 * intent and keep the reply for its buyer. Synchronous; call inside the transaction that also
 * records the gateway request row.
 */
export function completePaidCall(deps: PaymentsDeps, intent: PaymentIntent, call: { gatewayRequestId: string; sellerStatus: number; body: Uint8Array }): void {
  const now = deps.clock.now();
  const result = deps.db.sqlite
    .query("UPDATE payment_intents SET status = 'consumed', consumed_at = ?, gateway_request_id = ? WHERE id = ? AND status = 'settled'")
    .run(now.toISOString(), call.gatewayRequestId, intent.id);
  if (result.changes !== 1) throw new Error(`intent ${intent.id} was not settled when its call completed`);
  Ledger.postLedgerTransaction(deps, {
    kind: 'release',
    entries: Ledger.releaseEntries({ sellerId: intent.sellerId, amountMicroUsd: intent.amountMicroUsd, feeBps: intent.feeBps }),
    network: intent.settledNetwork ?? undefined,
    txRef: intent.settledTxRef ?? undefined,
    gatewayRequestId: call.gatewayRequestId,
    relayRequestId: intent.id,
  });
  const ttl = deps.config.paid_response_ttl_seconds;
  if (ttl > 0 && call.body.byteLength <= MAX_STORED_RESPONSE_BYTES) {
    deps.db.db.insert(paidResponses).values({
      gatewayRequestId: call.gatewayRequestId,
      intentId: intent.id,
      buyerId: intent.buyerId,
      sellerStatus: call.sellerStatus,
      bodySealed: deps.vault.seal(new TextDecoder().decode(call.body), { table: 'paid_responses', column: 'body_sealed', rowId: call.gatewayRequestId }),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
    }).run();
  }
}

/** What a paid call's buyer paid for: the seller's status and JSON body, while kept. */
export function getPaidResponse(deps: PaymentsDeps, buyerId: string, gatewayRequestId: string): { seller_status: number; body: unknown; expires_at: string } {
  const row = deps.db.db.select().from(paidResponses).where(eq(paidResponses.gatewayRequestId, gatewayRequestId)).get();
  if (!row || row.buyerId !== buyerId || row.expiresAt <= deps.clock.now().toISOString()) throw PaymentErrors.responseNotFound();
  const text = deps.vault.open(row.bodySealed, { table: 'paid_responses', column: 'body_sealed', rowId: row.gatewayRequestId });
  return { seller_status: row.sellerStatus, body: JSON.parse(text) as unknown, expires_at: row.expiresAt };
}

/**
 * Whether a call on a suspended listing carries a payment made before the suspension: an intent
 * of this buyer and listing still open or settled. Suspension never touches money already paid
 * (SPEC §2 Operator): such a call completes once, or its intent becomes refund_due as usual.
 */
export function hasPaymentInFlight(deps: CoreDeps, args: { relayRequestId: string | null; buyerId: string; listingId: string }): boolean {
  if (!args.relayRequestId) return false;
  const intent = getIntent(deps, args.relayRequestId);
  return !!intent && intent.buyerId === args.buyerId && intent.listingId === args.listingId && (intent.status === 'open' || intent.status === 'settled');
}
