import type { AppError } from '../../shared/app-error.ts';
import type { UpstreamOutcome } from '../../shared/upstream/client.ts';
import { UNSAFE_ENDPOINT_URL } from '../../shared/upstream/guard.ts';
import { sendSignedCall, type SignedTarget } from '../../shared/upstream/send-signed.ts';
import { GatewayErrors } from './errors.ts';
import type { GatewayStatus } from './schema.ts';

export type ForwardTarget = SignedTarget;

export type ForwardResult = {
  status: GatewayStatus;
  /** What the buyer gets: the seller's reply, or an error. */
  reply: { kind: 'seller'; httpStatus: number; body: Uint8Array } | { kind: 'error'; error: AppError };
  sellerStatus: number | null;
  upstreamLatencyMs: number | null;
  responseBytes: number;
};

/** Sends one signed call to the seller (see sendSignedCall) and maps the outcome to what the buyer sees. */
export async function forwardCall(args: Parameters<typeof sendSignedCall>[0] & { target: ForwardTarget }): Promise<ForwardResult> {
  const result = await sendSignedCall(args);
  if (result.kind !== 'refused') return mapOutcome(result);
  // The buyer learns only that the seller is unreachable, never why in terms of its address.
  const unsafe = result.error.code === UNSAFE_ENDPOINT_URL;
  return failed('seller_failed', unsafe ? GatewayErrors.upstreamUnsafe() : GatewayErrors.upstreamUnreachable(), null, null);
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
