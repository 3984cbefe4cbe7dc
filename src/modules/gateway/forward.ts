import { AppError } from '../../shared/app-error.ts';
import { buildCrochetHeaders } from '../../shared/request-signing.ts';
import { postToUpstream, type UpstreamOutcome } from '../../shared/upstream/client.ts';
import { type Resolver, vetUpstreamUrl } from '../../shared/upstream/guard.ts';
import { GatewayErrors } from './errors.ts';
import type { GatewayStatus } from './schema.ts';

export type ForwardTarget = {
  listingId: string;
  privateUrl: string;
  upstreamAuth?: { name: string; value: string } | null;
  signingSecret: string;
  previousSigningSecret?: string | null;
  timeoutMs: number;
  maxResponseBytes: number;
};

export type ForwardResult = {
  status: GatewayStatus;
  /** What the buyer gets: the seller's reply, or an error. */
  reply: { kind: 'seller'; httpStatus: number; body: Uint8Array } | { kind: 'error'; error: AppError };
  sellerStatus: number | null;
  upstreamLatencyMs: number | null;
  responseBytes: number;
};

/**
 * Signs and sends one call to the seller, re-vetting the URL now (DNS may have changed since it was
 * saved) and connecting to exactly the vetted address; maps the outcome to what the buyer sees.
 */
export async function forwardCall(args: {
  target: ForwardTarget;
  body: Uint8Array;
  /** SHA-256 hex of `body`, when the caller has it already. */
  bodySha256?: string;
  requestId: string;
  buyerId: string;
  relayRequestId?: string;
  now: Date;
  allowPrivate: boolean;
  resolve: Resolver;
  tlsCa?: string;
}): Promise<ForwardResult> {
  const { target } = args;
  let vetted;
  try {
    ({ vetted } = await vetUpstreamUrl(target.privateUrl, { allowPrivate: args.allowPrivate, resolve: args.resolve, phase: 'call' }));
  } catch (error) {
    // The buyer learns only that the seller is unreachable, never why in terms of its address.
    const unsafe = error instanceof AppError && error.code === 'UNSAFE_ENDPOINT_URL';
    return failed('seller_failed', unsafe ? GatewayErrors.upstreamUnsafe() : GatewayErrors.upstreamUnreachable(), null, null);
  }
  if (!vetted) return failed('seller_failed', GatewayErrors.upstreamUnreachable(), null, null);

  const headers = buildCrochetHeaders({
    body: args.body,
    ...(args.bodySha256 ? { bodySha256: args.bodySha256 } : {}),
    requestId: args.requestId,
    listingId: target.listingId,
    buyerId: args.buyerId,
    timestamp: args.now.toISOString(),
    secret: target.signingSecret,
    ...(target.previousSigningSecret ? { previousSecret: target.previousSigningSecret } : {}),
    ...(args.relayRequestId ? { relayRequestId: args.relayRequestId } : {}),
  });
  if (target.upstreamAuth) headers[target.upstreamAuth.name] = target.upstreamAuth.value;

  const outcome = await postToUpstream(vetted, {
    headers,
    body: args.body,
    timeoutMs: target.timeoutMs,
    maxResponseBytes: target.maxResponseBytes,
    ...(args.tlsCa ? { tlsCa: args.tlsCa } : {}),
  });
  return mapOutcome(outcome);
}

function failed(status: GatewayStatus, error: AppError, sellerStatus: number | null, latency: number | null, bytes = 0): ForwardResult {
  return { status, reply: { kind: 'error', error }, sellerStatus, upstreamLatencyMs: latency, responseBytes: bytes };
}

/** Seller 2xx/4xx pass through; 5xx, timeouts and unusable replies become gateway errors. */
export function mapOutcome(outcome: UpstreamOutcome): ForwardResult {
  if (outcome.kind === 'response') {
    const s = outcome.status;
    if (s >= 500) return failed('seller_failed', GatewayErrors.upstreamError(), s, outcome.latencyMs, outcome.body.byteLength);
    if (s < 200) return failed('seller_failed', GatewayErrors.upstreamInvalid(), s, outcome.latencyMs, outcome.body.byteLength);
    return {
      status: s < 300 ? 'completed' : 'seller_rejected',
      reply: { kind: 'seller', httpStatus: s, body: outcome.body },
      sellerStatus: s,
      upstreamLatencyMs: outcome.latencyMs,
      responseBytes: outcome.body.byteLength,
    };
  }
  const status = outcome.status ?? null;
  switch (outcome.reason) {
    case 'timeout':
      return failed('timeout', GatewayErrors.upstreamTimeout(), status, outcome.latencyMs);
    case 'redirect':
      return failed('seller_failed', GatewayErrors.upstreamRedirect(), status, outcome.latencyMs);
    case 'too_large':
      return failed('seller_failed', GatewayErrors.upstreamTooLarge(), status, outcome.latencyMs);
    case 'not_json':
      // An HTML 500 is still a seller server error.
      return failed('seller_failed', status !== null && status >= 500 ? GatewayErrors.upstreamError() : GatewayErrors.upstreamInvalid(), status, outcome.latencyMs);
    case 'tls_failed':
      return failed('seller_failed', GatewayErrors.upstreamTls(), status, outcome.latencyMs);
    case 'connect_failed':
      return failed('seller_failed', GatewayErrors.upstreamUnreachable(), status, outcome.latencyMs);
  }
}
