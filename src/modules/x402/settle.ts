// A call carrying PAYMENT-SIGNATURE, up to the forwarding lease (SPEC §5 "x402 interoperability"):
// decode → find the intent through the offer's binding → rebuild the requirements from the intent
// and compare them with `accepted` (never trusting the client's copy) → HMAC → verify → claim in the
// database → broadcast → wait for finality within the call's deadline → record the transfer as the
// intent's payment and take the lease (payments' lifecycle). The gateway then forwards, completes
// or releases exactly as for a native paid call, and replies with PAYMENT-RESPONSE.
import { createHash } from 'node:crypto';
import { extractPaymentIdentifier } from '@x402/extensions/payment-identifier';
import { AppError } from '../../shared/app-error.ts';
import * as Identity from '../identity/service.ts';
import * as Payments from '../payments/service.ts';
import type { PaymentIntent, OfferedRoute } from '../payments/schema.ts';
import { paymentRpcUnavailable } from '../payments/verification-result.ts';
import { findClaim, markClaim, takeClaim } from './claims.ts';
import { decodePaymentSignature, encodePaymentResponse } from './codec.ts';
import { X402Errors } from './errors.ts';
import { bindingMatches, OFFER_KEY_PURPOSE, readBinding } from './offer-binding.ts';
import { requirementFor, schemeOf, type X402Deps } from './offers.ts';
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyContext, X402Refusal, X402Scheme } from './scheme.ts';
import type { X402Claim } from './schema.ts';

export type SettleDeps = X402Deps & Payments.PaymentsDeps;

/**
 * A refusal answered with a fresh offer: the gateway creates a new intent and replies 402 with
 * PAYMENT-REQUIRED whose `error` is `reason`, and Crochet's envelope with `error.code`.
 */
export class X402Refused extends Error {
  constructor(readonly error: AppError, readonly reason: string) {
    super(error.message);
    this.name = 'X402Refused';
  }
}

const refused = (r: X402Refusal) => new X402Refused(X402Errors.refused(r.code, r.message, r.reason), r.reason);
const mismatch = (message: string, code = 'PAYMENT_REQUEST_MISMATCH') => refused({ reason: 'invalid_payment_requirements', code, message });

export type X402Authorized = {
  decision: Extract<Payments.PaidCallDecision, { kind: 'forward' }>;
  /** The PAYMENT-RESPONSE of the reply. */
  paymentResponse: string;
};

type CallArgs = { header: string; buyerId: string; listingId: string; bodySha256: string; timeoutMs: number };

/** See the file comment. Throws X402Refused (fresh offer wanted) or AppError. */
export async function authorizeX402Call(deps: SettleDeps, args: CallArgs): Promise<X402Authorized> {
  const decoded = decodePaymentSignature(args.header);
  if (!decoded.ok) throw refused({ reason: 'invalid_payload', code: 'PAYMENT_INVALID', message: decoded.message });
  const payload = decoded.payload;
  const binding = readBinding(payload.accepted.extra);
  if (!binding) throw mismatch('This payment does not answer one of this instance\'s offers; pay the offer in PAYMENT-REQUIRED.');
  const intent = Payments.getIntent(deps, binding.relay_request_id);
  // Another buyer's intent is indistinguishable from a missing one.
  if (!intent || intent.buyerId !== args.buyerId) throw mismatch('No payment request of yours matches this payment.', 'PAYMENT_INTENT_NOT_FOUND');
  if (intent.listingId !== args.listingId || intent.bodySha256 !== args.bodySha256) throw mismatch('This payment was offered for another listing or another body; send the body you were offered the price for.');
  const found = routeAndScheme(deps, intent, payload);
  if (!found) throw mismatch('This payment names a network or asset this request was not offered on.');
  const { route, scheme } = found;
  const key = deps.vault.deriveKey(OFFER_KEY_PURPOSE);
  if (!bindingMatches(key, binding, { listingId: intent.listingId, amountAtomic: route.amount_atomic, network: route.network, expiresAt: intent.expiresAt, relayRequestId: intent.id })) {
    throw mismatch('The offer this payment answers was altered.');
  }
  const requirements = await chain(() => requirementFor(deps, scheme, route, intent));
  compareAccepted(scheme, payload.accepted, requirements);

  let paymentId: string | null;
  try {
    paymentId = extractPaymentIdentifier(payload, true);
  } catch {
    throw refused({ reason: 'invalid_payload', code: 'PAYMENT_INVALID', message: 'The payment-identifier extension is malformed (16–128 characters of [A-Za-z0-9_-]).' });
  }
  const payloadSha256 = createHash('sha256').update(JSON.stringify(payload)).digest('hex');
  const call: Call = {
    deps, args, scheme, requirements, payload, payloadSha256, paymentId,
    deadlineMs: Date.now() + deps.config.x402_settle_wait_seconds * 1000,
  };

  // The same payload (or idempotency key) again, or another payload for an intent already being paid: resume, never send again.
  const existing = findClaim(deps, { payloadSha256, buyerId: args.buyerId, paymentId, intentId: intent.id });
  if (existing && existing.state !== 'failed') return resume(call, existing);
  // Only an open intent is paid by a new authorization; one already paid forwards free, as a native retry.
  if (intent.settlementKey !== null) return authorize(call, intent, route, null, payerOf(payload));
  if (intent.status !== 'open' || intent.expiresAt <= deps.clock.now().toISOString()) {
    throw refused({ reason: 'invalid_payment_requirements', code: 'PAYMENT_INTENT_EXPIRED', message: 'The offer this payment answers has expired; pay the fresh offer.' });
  }

  const ctx = contextOf(deps, intent, route);
  const verdict = await chain(() => scheme.verify(payload, requirements, ctx));
  if (!verdict.ok) throw refused(verdict.refusal);
  const claim = { claimKey: verdict.claimKey, intentId: intent.id, buyerId: args.buyerId, network: route.network, payer: verdict.payer, payloadSha256, paymentId };
  if (!takeClaim(deps, claim)) {
    const other = findClaim(deps, { payloadSha256, buyerId: args.buyerId, paymentId, claimKey: verdict.claimKey, intentId: intent.id });
    if (!other) throw X402Errors.inProgress();
    return resume(call, other);
  }
  let sent: Awaited<ReturnType<X402Scheme['broadcast']>>;
  // Signed transactions are on record before they can reach the chain: a process that dies while
  // sending leaves a claim whose transaction a later presentation checks, never money unaccounted.
  let signed: string | null = null;
  const onSigned = (transaction: string) => {
    signed = transaction;
    markClaim(deps, claim.claimKey, 'sent', { transaction });
  };
  try {
    sent = await scheme.broadcast(payload, requirements, { ...ctx, deadlineMs: call.deadlineMs, onSigned });
  } catch (error) {
    // Signed before the throw: it may be on chain, so it stays on record and is checked like any.
    if (signed !== null) return finish(call, intent, route, claim.claimKey, signed, verdict.payer);
    markClaim(deps, claim.claimKey, 'failed', { errorReason: 'broadcast_error' });
    throw paymentRpcUnavailable(error);
  }
  if (!sent.ok && sent.maybeSent) {
    // It may be on its way: keep it and let the buyer present the payload again.
    markClaim(deps, claim.claimKey, 'sent', { transaction: sent.maybeSent });
    return finish(call, intent, route, claim.claimKey, sent.maybeSent, verdict.payer);
  }
  if (!sent.ok) {
    markClaim(deps, claim.claimKey, 'failed', { errorReason: sent.refusal.reason });
    // The settling key's trouble, not the buyer's: retry the same payment later (it takes the failed claim again).
    if (sent.refusal.code === 'PAYMENT_RPC_UNAVAILABLE') {
      deps.logger.error('x402 settlement could not be sent', { network: route.network, reason: sent.refusal.message });
      throw paymentRpcUnavailable(new Error(sent.refusal.message));
    }
    throw refused(sent.refusal);
  }
  markClaim(deps, claim.claimKey, 'sent', { transaction: sent.transaction });
  return finish(call, intent, route, claim.claimKey, sent.transaction, verdict.payer);
}

/**
 * Whether a PAYMENT-SIGNATURE carries a payment of this buyer for this listing that was already
 * sent or settled: a suspension never touches money already paid (SPEC §2 Operator), so such a
 * call still completes once. A payment not sent yet is not let through (nothing would be charged
 * for a suspended listing).
 */
export function hasX402PaymentInFlight(deps: SettleDeps, args: { header: string; buyerId: string; listingId: string }): boolean {
  const decoded = decodePaymentSignature(args.header);
  const binding = decoded.ok ? readBinding(decoded.payload.accepted.extra) : null;
  const intent = binding ? Payments.getIntent(deps, binding.relay_request_id) : undefined;
  if (!intent || intent.buyerId !== args.buyerId || intent.listingId !== args.listingId) return false;
  if (intent.status === 'settled') return true;
  const live = findClaim(deps, { payloadSha256: '', buyerId: args.buyerId, paymentId: null, intentId: intent.id });
  return intent.status === 'open' && (live?.state === 'sent' || live?.state === 'settled');
}

type Call = {
  deps: SettleDeps;
  args: CallArgs;
  scheme: X402Scheme;
  requirements: PaymentRequirements;
  payload: PaymentPayload;
  payloadSha256: string;
  paymentId: string | null;
  deadlineMs: number;
};

/** A payment already claimed: wait for its transaction again, or forward on its recorded payment. */
async function resume(call: Call, claim: X402Claim): Promise<X402Authorized> {
  const { deps, args } = call;
  if (claim.buyerId !== args.buyerId) throw X402Errors.alreadyUsed(null);
  const intent = Payments.getIntent(deps, claim.intentId);
  if (!intent) throw X402Errors.alreadyUsed(null);
  // An idempotency key reused for another request is not that request's payment.
  if (intent.listingId !== args.listingId || intent.bodySha256 !== args.bodySha256) throw mismatch('This payment-identifier already paid for another request.');
  const route = intent.routes.find((r) => r.network === claim.network);
  if (!route) throw X402Errors.alreadyUsed(null);
  if (claim.state === 'claimed') throw X402Errors.inProgress();
  if (claim.state === 'settled' || intent.settlementKey !== null) return authorize(call, intent, route, null, claim.payer, claim.transaction);
  return finish(call, intent, route, claim.claimKey, claim.transaction as string, claim.payer, claim.updatedAt);
}

/** Waits for the transaction to be final (until the deadline), then records it and takes the lease. */
async function finish(call: Call, intent: PaymentIntent, route: OfferedRoute, claimKey: string, transaction: string, payer: string, sentAt = call.deps.clock.now().toISOString()): Promise<X402Authorized> {
  const { deps } = call;
  // A chain that cannot be asked now leaves the claim as it is: the next presentation asks again.
  const verdict = await chain(() => call.scheme.awaitFinal(transaction, { ...contextOf(deps, intent, route), deadlineMs: call.deadlineMs }));
  if (verdict.status === 'verified') {
    markClaim(deps, claimKey, 'settled');
    return authorize(call, intent, route, { ...verdict, network: route.network }, payer, transaction);
  }
  if (verdict.status === 'rejected') {
    markClaim(deps, claimKey, 'failed', { errorReason: verdict.code });
    throw refused({ reason: `invalid_exact_${call.scheme.family === 'evm' ? 'evm' : 'svm'}_transaction_failed`, code: verdict.code, message: verdict.message });
  }
  if (verdict.status === 'not_found' && Date.parse(sentAt) + call.scheme.maxTimeoutSeconds * 1000 < deps.clock.now().getTime()) {
    // Recorded as sent long ago, unknown to the chain: it never left (the process died while sending,
    // or the send was lost). Nothing moved; the next presentation verifies and sends it again (the
    // authorization's own nonce still allows one transfer at most).
    markClaim(deps, claimKey, 'failed', { errorReason: 'never_seen_on_chain' });
    throw paymentRpcUnavailable(new Error(`x402 transaction ${transaction} never reached the chain`));
  }
  const response: SettleResponse = { success: false, errorReason: 'settlement_pending', transaction, network: route.network as SettleResponse['network'], payer };
  const pending = X402Errors.settlementPending(transaction);
  throw new AppError(pending.status, pending.code, pending.message, { details: pending.details, recovery: pending.recovery, headers: { 'PAYMENT-RESPONSE': encodePaymentResponse(response) } });
}

function authorize(call: Call, intent: PaymentIntent, route: OfferedRoute, transfer: Payments.VerifiedTransfer | null, payer: string, transaction?: string | null): X402Authorized {
  const { deps, args } = call;
  let decision: X402Authorized['decision'];
  try {
    decision = Payments.authorizeSettledPayment(deps, { buyerId: args.buyerId, listingId: args.listingId, bodySha256: args.bodySha256, relayRequestId: intent.id, timeoutMs: args.timeoutMs, transfer });
  } catch (error) {
    if (error instanceof AppError && error.code === Payments.PaymentCodes.INTENT_CONSUMED) throw X402Errors.alreadyUsed(Payments.getIntent(deps, intent.id)?.gatewayRequestId ?? null);
    throw error;
  }
  const response: SettleResponse = {
    success: true,
    transaction: transaction ?? decision.intent.settledTxRef ?? '',
    network: (decision.intent.settledNetwork ?? route.network) as SettleResponse['network'],
    payer,
  };
  return { decision, paymentResponse: encodePaymentResponse(response) };
}

/** A scheme's chain access: its failures are a retryable 503, never a 500. */
async function chain<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw paymentRpcUnavailable(error);
  }
}

function contextOf(deps: SettleDeps, intent: PaymentIntent, route: OfferedRoute): VerifyContext {
  const family = Payments.isEvm(route.network) ? 'evm' : 'solana';
  const buyerWallets = Identity.listWallets(deps, intent.buyerId)
    .filter((w) => w.chain === family && w.status === 'active' && w.roles.includes('payment'))
    .map((w) => w.address);
  return { intent, route, buyerWallets, now: deps.clock.now() };
}

function routeAndScheme(deps: SettleDeps, intent: PaymentIntent, payload: PaymentPayload): { route: OfferedRoute; scheme: X402Scheme } | null {
  const a = payload.accepted;
  for (const route of intent.routes) {
    if (route.network !== a.network) continue;
    const scheme = schemeOf(deps, route);
    if (scheme) return { route, scheme };
  }
  return null;
}

const sameAddress = (scheme: X402Scheme, x: string, y: string) => (scheme.family === 'evm' ? x.toLowerCase() === y.toLowerCase() : x === y);

/** `accepted` must be exactly what we offer now for this intent and route. */
function compareAccepted(scheme: X402Scheme, accepted: PaymentRequirements, offered: PaymentRequirements): void {
  if (accepted.scheme !== offered.scheme || accepted.network !== offered.network) throw mismatch('The payment is for another scheme or network than offered.');
  if (accepted.amount !== offered.amount) throw mismatch('The payment is for another amount than offered.', 'PAYMENT_INSUFFICIENT');
  if (!sameAddress(scheme, accepted.asset, offered.asset)) throw mismatch('The payment is in another asset than offered.', 'PAYMENT_WRONG_ASSET');
  if (!sameAddress(scheme, accepted.payTo, offered.payTo)) throw mismatch('The payment goes to another recipient than offered.', 'PAYMENT_WRONG_RECIPIENT');
}

/** The payer a payload names (EVM authorization.from), for the PAYMENT-RESPONSE of a free re-forward. */
function payerOf(payload: PaymentPayload): string {
  const auth = (payload.payload as { authorization?: { from?: unknown } }).authorization;
  return typeof auth?.from === 'string' ? auth.from : '';
}
