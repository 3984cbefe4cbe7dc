import { immediate } from '../../db/tx.ts';
import { AppError } from '../../shared/app-error.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { prefixedId } from '../../shared/ids.ts';
import type { RateLimiter } from '../../shared/rate-limit.ts';
import type { Resolver } from '../../shared/upstream/guard.ts';
import type { InstanceAddress } from '../../shared/upstream/self-address.ts';
import * as Identity from '../identity/service.ts';
import * as Listings from '../listings/service.ts';
import * as Payments from '../payments/service.ts';
import * as X402 from '../x402/service.ts';
import { judgeJsonBytes } from '../../shared/json-bytes.ts';
import { sha256Hex } from '../../shared/request-signing.ts';
import { GatewayErrors } from './errors.ts';
import { forwardCall, type ForwardResult } from './forward.ts';
import type { HistoryWriter } from './history.ts';
import type { Metrics } from '../../shared/metrics.ts';
import type { GatewayRequestRow, GatewayStatus } from './schema.ts';


export { getGatewayRequest, type GatewayRequestView, listGatewayRequests } from './history-queries.ts';
export { createHistoryWriter, type HistoryDeps, type HistoryWriter } from './history.ts';
export { trackInFlightCalls, type InFlightCalls } from './in-flight.ts';
export {
  findCompletedCall, historyPositionOf, outcomesAfter, sellerListingsUsage, type HistoryReadDeps,
  SELLER_OUTCOME_STATUSES, type GatewayOutcome, type ListingUsage, type SellerOutcomeStatus,
} from './outcomes.ts';

export type GatewayDeps = Payments.PaymentsDeps & {
  /** The x402 scheme of each route that can settle x402 (empty: no x402 offers). */
  x402: X402.X402Schemes;
  keyCache: Identity.KeyCache;
  targetCache: Listings.TargetCache;
  metrics: Metrics;
  resolveHost: Resolver;
  history: HistoryWriter;
  buyerLimiter: RateLimiter;
  listingLimiter: RateLimiter;
  /** This instance's addresses, for the loop check on every forwarded call. */
  self: InstanceAddress;
  /** Extra trusted CA for upstream TLS (tests only). */
  upstreamTlsCa?: string;
};

export type GatewayReply = { httpStatus: number; body: Uint8Array; requestId: string; headers?: Record<string, string> };

const MAX_LISTING_ID_LENGTH = 80;

/**
 * One gateway call: authenticate, limit, check the listing and body, forward, record. Throws
 * AppError for every refusal (carrying X-Crochet-Request-Id once the call has an id).
 */
export async function handleGatewayCall(
  deps: GatewayDeps,
  call: {
    listingId: string;
    authorization: string | null;
    /** Reads the body, up to `limit` bytes (null past it); called once the caller and listing are known. */
    readBody(limit: number): Promise<Uint8Array | null>;
    /** Content-Length as declared (0 when absent), for rows of calls refused before the body is read. */
    declaredBytes: number;
    relayRequestId: string | null;
    paymentTx: string | null;
    originCurrency: string | null;
    /** The x402 PAYMENT-SIGNATURE header, when the buyer pays with an x402 client. */
    paymentSignature?: string | null;
    /** The call carries `X-Crochet-Signature…`: it was forwarded by a gateway (SPEC §4 "No loops"). */
    signedByGateway: boolean;
  },
): Promise<GatewayReply> {
  const startedAt = performance.now();
  // Refusals before authentication are not recorded (SPEC §4): they count in metrics only.
  let caller: Identity.Caller;
  try {
    caller = Identity.authenticate(deps, call.authorization);
  } catch (error) {
    deps.metrics.inc('crochet_gateway_calls_total', { status: call.signedByGateway ? 'refused_loop' : 'refused_unauthenticated' });
    // A forwarded call is refused as a loop whatever key it carries: that is what went wrong.
    throw call.signedByGateway ? GatewayErrors.gatewayLoop() : error;
  }
  if (caller.accountType === 'human') throw call.signedByGateway ? GatewayErrors.gatewayLoop() : GatewayErrors.humansCannotCall();

  // One object per call, completed as the call goes (a hot path: no copies).
  const attempt: Attempt = {
    id: prefixedId('gw_req_'),
    buyerId: caller.profileId,
    sellerId: null,
    listingId: call.listingId.slice(0, MAX_LISTING_ID_LENGTH),
    requestBytes: call.declaredBytes,
    startedAt,
  };
  const reject = (error: AppError): never => {
    record(deps, attempt, { status: 'rejected', httpStatus: error.status, errorCode: error.code });
    throw withRequestId(error, attempt.id);
  };
  // Before anything else is looked at, let alone forwarded: a gateway calling a gateway is a loop.
  if (call.signedByGateway) reject(GatewayErrors.gatewayLoop());

  const buyerWait = deps.buyerLimiter.hit(caller.profileId);
  if (buyerWait !== null) reject(CommonErrors.rateLimited(buyerWait));
  const target = Listings.getGatewayTarget(deps, call.listingId);
  if (!target) return reject(GatewayErrors.listingNotFound());
  attempt.sellerId = target.listing.ownerProfileId;
  const listingWait = deps.listingLimiter.hit(target.listing.id);
  if (listingWait !== null) reject(CommonErrors.rateLimited(listingWait));
  // A suspension refuses new calls, never money already paid: a paid intent still completes once.
  const paidBefore = target.listing.status === 'suspended' && (
    Payments.hasPaymentInFlight(deps, { relayRequestId: call.relayRequestId, buyerId: caller.profileId, listingId: target.listing.id })
    || (!!call.paymentSignature && deps.x402.size > 0 && X402.hasX402PaymentInFlight(deps, { header: call.paymentSignature, buyerId: caller.profileId, listingId: target.listing.id })));
  if (target.listing.status === 'suspended' && !paidBefore) reject(GatewayErrors.listingSuspended());
  if (target.listing.status !== 'active' && !paidBefore) reject(GatewayErrors.listingNotActive());
  const endpoint = target.endpoint;
  if (endpoint.status !== 'active' || !hasPrivateUrl(endpoint)) return reject(GatewayErrors.endpointDisabled());
  const body = await call.readBody(endpoint.maxRequestBytes);
  if (body === null) return reject(GatewayErrors.bodyTooLarge(endpoint.maxRequestBytes));
  attempt.requestBytes = body.byteLength;
  // Depth first, by a byte scan: a hostile body never reaches the parser (SPEC §1).
  const verdict = judgeJsonBytes(body, deps.config.max_json_depth);
  if (verdict === 'too_deep') reject(CommonErrors.jsonTooDeep(deps.config.max_json_depth));
  if (verdict === 'not_json') reject(GatewayErrors.bodyNotJson());
  // Hashed once: the signature and a paid call's intent binding both use it.
  const bodySha256 = sha256Hex(body);
  const forward = (relayRequestId?: string) =>
    forwardCall({
      target: endpoint,
      body,
      bodySha256,
      requestId: attempt.id,
      buyerId: caller.profileId,
      relayRequestId,
      now: deps.clock.now(),
      allowPrivate: deps.config.allow_private_upstreams,
      resolve: deps.resolveHost,
      self: deps.self,
      maxJsonDepth: deps.config.max_json_depth,
      tlsCa: deps.upstreamTlsCa,
    });
  const listing = target.listing;
  if (listing.pricingModel === 'free') return finish(deps, attempt, await forward());
  return paidCall(deps, attempt, { ...call, bodySha256 }, { listingId: listing.id, sellerId: listing.ownerProfileId, priceMicroUsd: listing.priceMicroUsd, timeoutMs: endpoint.timeoutMs }, forward);
}

const hasPrivateUrl = <T extends { privateUrl: string | null }>(e: T): e is T & { privateUrl: string } => e.privateUrl !== null && e.privateUrl !== '';

/** Null seller: the listing does not exist. */
type Attempt = { id: string; buyerId: string; sellerId: string | null; listingId: string; requestBytes: number; startedAt: number };

/**
 * SPEC §5: no relay id → a new intent and 402; with one → verify/settle, forward once, and on a
 * handled call release the hold, consume the intent and record the row in one transaction.
 */
async function paidCall(
  deps: GatewayDeps,
  attempt: Attempt,
  call: { bodySha256: string; relayRequestId: string | null; paymentTx: string | null; originCurrency: string | null; paymentSignature?: string | null },
  listing: { listingId: string; sellerId: string; priceMicroUsd: number; timeoutMs: number },
  forward: (relayRequestId: string) => Promise<ForwardResult>,
): Promise<GatewayReply> {
  const { bodySha256 } = call;
  const refuse = (error: unknown, relayRequestId: string | null, amountMicroUsd = 0): never => {
    if (!(error instanceof AppError)) throw error;
    const status: GatewayStatus = error.status === 402 ? 'payment_required' : error.code === 'PAYMENT_SETTLEMENT_PENDING' ? 'payment_pending' : 'rejected';
    record(deps, attempt, { status, httpStatus: error.status, errorCode: error.code, relayRequestId, amountMicroUsd });
    throw withRequestId(error, attempt.id);
  };

  /** A new intent and its 402 (JSON `payment` and PAYMENT-REQUIRED); `instead` replaces code and message (an x402 refusal). */
  const offer = async (instead?: X402.X402Refused): Promise<never> => {
    let created: Awaited<ReturnType<typeof Payments.createIntent>>;
    try {
      created = await Payments.createIntent(deps, {
        buyerId: attempt.buyerId, sellerId: listing.sellerId, listingId: listing.listingId,
        priceMicroUsd: listing.priceMicroUsd, bodySha256, origin: call.originCurrency,
      });
    } catch (error) {
      return refuse(error, null);
    }
    const base = instead?.error ?? created.error;
    const headers = await X402.withPaymentRequired(deps, base, created.intent, instead?.reason);
    const error = new AppError(base.status, base.code, base.message, { details: base.details, recovery: base.recovery, extra: created.error.extra, headers });
    return refuse(error, created.intent.id, created.intent.amountMicroUsd);
  };

  if (call.paymentSignature && deps.x402.size > 0) {
    let authorized: X402.X402Authorized;
    try {
      authorized = await X402.authorizeX402Call(deps, {
        header: call.paymentSignature, buyerId: attempt.buyerId, listingId: listing.listingId, bodySha256, timeoutMs: listing.timeoutMs,
      });
    } catch (error) {
      if (error instanceof X402.X402Refused) return offer(error);
      return refuse(error, null);
    }
    return forwardPaid(deps, attempt, authorized.decision, forward, { 'PAYMENT-RESPONSE': authorized.paymentResponse });
  }

  if (!call.relayRequestId) return offer();

  // gateway → payments (authorize) → forward → payments (complete) → ledger.
  let decision: Payments.PaidCallDecision;
  try {
    decision = await Payments.authorizePaidCall(deps, {
      buyerId: attempt.buyerId, listingId: listing.listingId, bodySha256, relayRequestId: call.relayRequestId, paymentTx: call.paymentTx, timeoutMs: listing.timeoutMs,
    });
  } catch (error) {
    return refuse(error, call.relayRequestId.slice(0, 80));
  }
  if (decision.kind === 'pending') {
    const intent = decision.intent;
    record(deps, attempt, { status: 'payment_pending', httpStatus: 202, relayRequestId: intent.id, amountMicroUsd: intent.amountMicroUsd });
    const body = { success: true, data: { status: 'pending', relay_request_id: intent.id, retryable: true, retry_after_seconds: decision.retryAfterSeconds } };
    return { httpStatus: 202, body: new TextEncoder().encode(JSON.stringify(body)), requestId: attempt.id };
  }
  return forwardPaid(deps, attempt, decision, forward);
}

/** The lease is held: forward once; a handled call is credited, consumed and recorded together. */
async function forwardPaid(
  deps: GatewayDeps,
  attempt: Attempt,
  decision: Extract<Payments.PaidCallDecision, { kind: 'forward' }>,
  forward: (relayRequestId: string) => Promise<ForwardResult>,
  headers?: Record<string, string>,
): Promise<GatewayReply> {
  const intent = decision.intent;
  const paid = { relayRequestId: intent.id, amountMicroUsd: intent.amountMicroUsd };
  try {
    // On record while it is forwarded (as pending until its outcome replaces it).
    deps.history.writeNow(rowOf(deps, attempt, { status: 'payment_pending', httpStatus: 202, ...paid }));
    const result = await forward(intent.id);
    if (result.reply.kind === 'seller') {
      const reply = result.reply;
      // Handled by the seller: credit, consume and record together, or not at all.
      const credited = immediate(deps.db.sqlite, () => {
        const ok = Payments.completePaidCall(deps, intent, { gatewayRequestId: attempt.id, sellerStatus: reply.httpStatus, body: reply.body });
        deps.history.writeNow(rowOf(deps, attempt, outcomeOf(result, paid)));
        deps.metrics.inc('crochet_gateway_calls_total', { status: result.status });
        return ok;
      });
      // Only when this call's lease lapsed and another completed first: the seller's reply still goes back, credited once.
      if (!credited) deps.logger.warn('paid call completed after its intent was consumed elsewhere; not credited again', { relay_request_id: intent.id, request_id: attempt.id });
      return { httpStatus: reply.httpStatus, body: reply.body, requestId: attempt.id, headers };
    }
    // Seller failure: nothing credited, the settled intent stays usable for a retry.
    return finish(deps, attempt, result, paid, headers);
  } finally {
    decision.release();
  }
}

/** How an attempt ended, as its history row records it. */
type Outcome = {
  status: GatewayStatus;
  httpStatus: number;
  sellerStatus?: number | null;
  upstreamLatencyMs?: number | null;
  responseBytes?: number;
  errorCode?: string | null;
  relayRequestId?: string | null;
  amountMicroUsd?: number;
};

function outcomeOf(result: ForwardResult, paid?: { relayRequestId: string; amountMicroUsd: number }): Outcome {
  const reply = result.reply;
  return {
    status: result.status,
    httpStatus: reply.kind === 'seller' ? reply.httpStatus : reply.error.status,
    sellerStatus: result.sellerStatus,
    upstreamLatencyMs: result.upstreamLatencyMs,
    responseBytes: result.responseBytes,
    errorCode: reply.kind === 'error' ? reply.error.code : null,
    relayRequestId: paid?.relayRequestId,
    amountMicroUsd: paid?.amountMicroUsd,
  };
}

function finish(deps: GatewayDeps, attempt: Attempt, result: ForwardResult, paid?: { relayRequestId: string; amountMicroUsd: number }, headers?: Record<string, string>): GatewayReply {
  const reply = result.reply;
  record(deps, attempt, outcomeOf(result, paid));
  if (reply.kind === 'error') throw withRequestId(reply.error, attempt.id, headers);
  return { httpStatus: reply.httpStatus, body: reply.body, requestId: attempt.id, headers };
}

function record(deps: GatewayDeps, attempt: Attempt, outcome: Outcome): void {
  deps.metrics.inc('crochet_gateway_calls_total', { status: outcome.status });
  deps.history.record(rowOf(deps, attempt, outcome));
}

function rowOf(deps: GatewayDeps, a: Attempt, o: Outcome): GatewayRequestRow {
  return {
    id: a.id,
    buyerId: a.buyerId,
    sellerId: a.sellerId,
    listingId: a.listingId,
    relayRequestId: o.relayRequestId ?? null,
    status: o.status,
    httpStatus: o.httpStatus,
    sellerStatus: o.sellerStatus ?? null,
    amountMicroUsd: o.amountMicroUsd ?? 0,
    totalLatencyMs: Math.round(performance.now() - a.startedAt),
    upstreamLatencyMs: o.upstreamLatencyMs ?? null,
    requestBytes: a.requestBytes,
    responseBytes: o.responseBytes ?? 0,
    errorCode: o.errorCode ?? null,
    createdAt: deps.clock.now().toISOString(),
  };
}

const withRequestId = (error: AppError, requestId: string, headers?: Record<string, string>) =>
  new AppError(error.status, error.code, error.message, {
    details: error.details,
    recovery: error.recovery,
    extra: error.extra,
    headers: { ...error.headers, ...headers, 'X-Crochet-Request-Id': requestId },
  });

