import { AppError } from '../app-error.ts';
import { buildCrochetHeaders } from '../request-signing.ts';
import { postToUpstream, type UpstreamOutcome } from './client.ts';
import { isReservedHeaderName } from './forwarded-headers.ts';
import { type Resolver, vetUpstreamUrl } from './guard.ts';
import type { InstanceAddress } from './self-address.ts';

/** A listing's endpoint, secrets opened, as a forwarded call needs it. */
export type SignedTarget = {
  listingId: string;
  privateUrl: string;
  upstreamAuth: { name: string; value: string } | null;
  signingSecret: string;
  /** Set only during a rotation's grace period. */
  previousSigningSecret: string | null;
  timeoutMs: number;
  maxResponseBytes: number;
};

/** What sending produced: the seller's outcome, or a refusal before anything was sent. */
export type SignedCallResult = UpstreamOutcome | { kind: 'refused'; error: AppError };

/**
 * One forwarded call, as the gateway and the endpoint test both make it: re-vet the URL now (DNS
 * may have changed since it was saved), sign with the current secret (and the previous one during
 * its grace period), add the upstream auth header, and send to exactly the vetted address.
 */
export async function sendSignedCall(args: {
  target: SignedTarget;
  body: Uint8Array;
  /** SHA-256 hex of `body`, when the caller has it already. */
  bodySha256?: string;
  requestId: string;
  buyerId: string;
  relayRequestId?: string;
  now: Date;
  allowPrivate: boolean;
  resolve: Resolver;
  /** This instance: an endpoint leading back here is refused, however it was saved (no loops). */
  self: InstanceAddress;
  /** Deepest JSON nesting accepted in the seller's reply. */
  maxJsonDepth: number;
  tlsCa?: string;
}): Promise<SignedCallResult> {
  const { target } = args;
  let vetted;
  try {
    ({ vetted } = await vetUpstreamUrl(target.privateUrl, { allowPrivate: args.allowPrivate, resolve: args.resolve, phase: 'call', self: args.self }));
  } catch (error) {
    if (error instanceof AppError) return { kind: 'refused', error };
    throw error;
  }
  if (!vetted) {
    return { kind: 'refused', error: new AppError(502, 'UPSTREAM_UNREACHABLE', 'The seller endpoint could not be reached.') };
  }
  const headers = buildCrochetHeaders({
    body: args.body,
    bodySha256: args.bodySha256,
    requestId: args.requestId,
    listingId: target.listingId,
    buyerId: args.buyerId,
    timestamp: args.now.toISOString(),
    secret: target.signingSecret,
    previousSecret: target.previousSigningSecret ?? undefined,
    relayRequestId: args.relayRequestId,
  });
  // A name saved before the deny list covered it must not replace a signed or framing header.
  if (target.upstreamAuth && !isReservedHeaderName(target.upstreamAuth.name)) headers[target.upstreamAuth.name] = target.upstreamAuth.value;
  return postToUpstream(vetted, {
    headers,
    body: args.body,
    timeoutMs: target.timeoutMs,
    maxResponseBytes: target.maxResponseBytes,
    maxJsonDepth: args.maxJsonDepth,
    tlsCa: args.tlsCa,
  });
}
