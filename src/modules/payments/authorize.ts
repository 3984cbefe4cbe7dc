// A paid call, as the gateway drives it: authorize (check, verify on chain, settle, take the
// forwarding lease) → the gateway forwards → complete (release the hold, consume) or release the
// lease. Every state change is one `apply` (lifecycle.ts); this file only asks the chain and turns
// the table's answers into what the buyer sees.
import { AppError } from '../../shared/app-error.ts';
import { randomHex } from '../../shared/ids.ts';
import { MAX_UPSTREAM_TIMEOUT_MS } from '../listings/service.ts';
import { apply, type CompletedCall, type LeaseClaim, refusalOf, stepOf, type VerifiedTransfer } from './apply.ts';
import type { PaymentsDeps, RoutedVerification } from './deps.ts';
import { PaymentCodes, PaymentErrors } from './errors.ts';
import { getIntent } from './intent-store.ts';
import { LifecycleCodes, type RefusalCode } from './lifecycle.ts';
import { paymentObject } from './offer.ts';
import type { PaymentIntent } from './schema.ts';
import { PENDING_RETRY_AFTER_SECONDS } from './verification-result.ts';
import { sameTxRef, sharedVerification } from './verify-payment.ts';

/**
 * How long a forwarding lease outlives the endpoint's timeout (SPEC §5 item 9: at most 30 s). A
 * live process never loses its lease mid-call; one that died blocks a retry at most this long after
 * the call's deadline.
 */
export const FORWARD_LEASE_MARGIN_MS = 10_000;
/** A call still running extends its lease this often (to now + the margin), so no call outlives it. */
const LEASE_RENEW_EVERY_MS = 5_000;

export type PaidCallDecision =
  | { kind: 'forward'; intent: PaymentIntent; release(): void }
  | { kind: 'pending'; intent: PaymentIntent; retryAfterSeconds: number };

type PaidCallArgs = {
  buyerId: string;
  listingId: string;
  bodySha256: string;
  relayRequestId: string;
  paymentTx: string | null;
  /** The endpoint's timeout: the lease lasts that plus the margin (default: the longest allowed). */
  timeoutMs?: number;
};

/**
 * A retry with X-Crochet-Relay-Request-Id: checks the intent, verifies the payment on chain when
 * needed, then settles and takes the forwarding lease in one transaction. Exactly one retry of an
 * intent, in any process, gets the lease; the others get PAYMENT_IN_PROGRESS. Throws AppError.
 */
export async function authorizePaidCall(deps: PaymentsDeps, args: PaidCallArgs): Promise<PaidCallDecision> {
  const intent = getIntent(deps, args.relayRequestId);
  // Another buyer's intent is indistinguishable from a missing one.
  if (!intent || intent.buyerId !== args.buyerId) throw PaymentErrors.intentNotFound();
  if (intent.listingId !== args.listingId || intent.bodySha256 !== args.bodySha256) {
    throw intent.status === 'consumed' ? PaymentErrors.intentConsumed() : PaymentErrors.requestMismatch();
  }
  const tx = args.paymentTx?.trim() || null;
  let verification: RoutedVerification | null = null;
  let extraPending = false;
  if (intent.settlementKey === null) {
    // Never paid (open, or expired unpaid — then a valid transfer is still booked, as owed back).
    verification = await sharedVerification(deps, intent, tx);
  } else if (tx && !sameTxRef(intent.settledTxRef, tx)) {
    // Another transfer for an intent already paid: owed back when valid; the call goes on as it would
    // have. Unreadable or unreachable: nothing to record now.
    verification = await sharedVerification(deps, intent, tx).catch(() => null);
    extraPending = verification?.status === 'pending';
  }

  // After the await, `apply` reads the intent again: whatever other retries did meanwhile counts.
  const claim: LeaseClaim = { leaseId: randomHex(12), until: new Date(deps.clock.now().getTime() + (args.timeoutMs ?? MAX_UPSTREAM_TIMEOUT_MS) + FORWARD_LEASE_MARGIN_MS).toISOString() };
  const result =
    verification?.status === 'verified'
      ? apply(deps, intent.id, { type: 'payment', transfer: { ...verification, network: verification.network ?? '' }, thenClaim: claim })
      : apply(deps, intent.id, { type: 'claim', claim });
  const current = result.intent ?? intent;
  const pay = stepOf(result, 'pay*')?.transition;
  const extra = pay?.kind === 'move' && pay.record === 'extra' ? 'recorded' : extraPending ? 'pending' : null;
  const refusal = refusalOf(result);
  if (!refusal) return forwarding(deps, current, claim.leaseId);
  if (refusal.code === LifecycleCodes.NOT_PAID && verification?.status === 'pending') {
    return { kind: 'pending', intent: current, retryAfterSeconds: verification.retryAfterSeconds };
  }
  const late = pay?.kind === 'move' && pay.to === 'refund_due';
  throw withExtraPaymentNote(refusalError(refusal.code, current, verification, late), extra);
}

/**
 * An x402 payment settled by Crochet itself (src/modules/x402): the same intent checks, then the
 * verified transfer (null when the intent already holds it) is recorded and the forwarding lease
 * taken in one transaction, exactly as a native retry would. No chain access: synchronous.
 */
export function authorizeSettledPayment(
  deps: PaymentsDeps,
  args: Omit<PaidCallArgs, 'paymentTx'> & { transfer: VerifiedTransfer | null },
): Extract<PaidCallDecision, { kind: 'forward' }> {
  const intent = getIntent(deps, args.relayRequestId);
  if (!intent || intent.buyerId !== args.buyerId) throw PaymentErrors.intentNotFound();
  if (intent.listingId !== args.listingId || intent.bodySha256 !== args.bodySha256) {
    throw intent.status === 'consumed' ? PaymentErrors.intentConsumed() : PaymentErrors.requestMismatch();
  }
  const claim: LeaseClaim = { leaseId: randomHex(12), until: new Date(deps.clock.now().getTime() + (args.timeoutMs ?? MAX_UPSTREAM_TIMEOUT_MS) + FORWARD_LEASE_MARGIN_MS).toISOString() };
  const result = args.transfer
    ? apply(deps, intent.id, { type: 'payment', transfer: args.transfer, thenClaim: claim })
    : apply(deps, intent.id, { type: 'claim', claim });
  const current = result.intent ?? intent;
  const refusal = refusalOf(result);
  if (!refusal) return forwarding(deps, current, claim.leaseId) as Extract<PaidCallDecision, { kind: 'forward' }>;
  const pay = stepOf(result, 'pay*')?.transition;
  throw refusalError(refusal.code, current, null, pay?.kind === 'move' && pay.to === 'refund_due');
}

/** What the buyer is told for a refusal of the table. */
function refusalError(code: RefusalCode, intent: PaymentIntent, verification: RoutedVerification | null, late: boolean): AppError {
  switch (code) {
    case PaymentCodes.IN_PROGRESS:
      return PaymentErrors.inProgress();
    case PaymentCodes.INTENT_CONSUMED:
      return PaymentErrors.intentConsumed();
    case PaymentCodes.INTENT_EXPIRED:
      return PaymentErrors.intentExpired({ refundDue: late });
    case PaymentCodes.ALREADY_USED:
      return PaymentErrors.alreadyUsed();
    case LifecycleCodes.NOT_PAID:
      // Not paid yet: the chain's verdict.
      if (verification?.status === 'rejected') return PaymentErrors.rejected(verification.code, verification.message, paymentObject(intent));
      return PaymentErrors.notFound(paymentObject(intent));
    default:
      throw new Error(`payments: no answer for refusal ${code}`);
  }
}

/** The lease is ours: renew it while the call runs; `release` drops it unless the call completed. */
function forwarding(deps: PaymentsDeps, intent: PaymentIntent, leaseId: string): PaidCallDecision {
  const renew = setInterval(() => {
    try {
      const until = new Date(deps.clock.now().getTime() + FORWARD_LEASE_MARGIN_MS).toISOString();
      deps.db.sqlite
        .query("UPDATE payment_intents SET lease_until = max(lease_until, ?) WHERE id = ? AND lease_id = ? AND status = 'settled'")
        .run(until, intent.id, leaseId);
    } catch (error) {
      deps.logger.warn('forwarding lease renewal failed', { relay_request_id: intent.id, error: error instanceof Error ? error.message : String(error) });
    }
  }, LEASE_RENEW_EVERY_MS);
  renew.unref?.();
  return {
    kind: 'forward',
    intent: { ...intent, leaseId },
    release() {
      clearInterval(renew);
      // A read first: after `complete` (the usual case) the lease is already gone and nothing needs writing.
      const held = deps.db.sqlite.query<{ lease_id: string | null }, [string]>('SELECT lease_id FROM payment_intents WHERE id = ?').get(intent.id);
      if (held?.lease_id === leaseId) apply(deps, intent.id, { type: 'release', leaseId });
    },
  };
}

/**
 * The seller handled the paid call: release the hold to the seller (less the fee), consume the
 * intent, drop the lease and keep the reply for its buyer — one transaction (nested in the
 * caller's when it records the gateway row with it). False when the intent could not be consumed
 * (nothing credited).
 */
export function completePaidCall(deps: PaymentsDeps, intent: PaymentIntent, call: CompletedCall): boolean {
  return refusalOf(apply(deps, intent.id, { type: 'complete', call })) === undefined;
}

/**
 * The buyer's refusal, noting what became of the extra transfer it presented: owed back to it now,
 * or not final yet (present it again once final to have it recorded).
 */
function withExtraPaymentNote(error: AppError, extra: 'recorded' | 'pending' | null): AppError {
  if (extra === null) return error;
  const note = extra === 'recorded' ? { extra_payment_refund_due: true } : { extra_payment_pending: true, retry_after_seconds: PENDING_RETRY_AFTER_SECONDS };
  return new AppError(error.status, error.code, error.message, {
    details: { ...error.details, ...note },
    recovery: error.recovery,
    extra: error.extra,
    headers: error.headers,
  });
}
