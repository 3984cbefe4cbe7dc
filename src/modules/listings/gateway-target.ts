import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { open } from './endpoint-store.ts';
import type { ListingStatus, PricingModel } from './schema.ts';
import { cachedTarget } from './target-cache.ts';

export type GatewayTarget = {
  listing: { id: string; ownerProfileId: string; status: ListingStatus; pricingModel: PricingModel; priceMicroUsd: number };
  endpoint: {
    status: 'active' | 'disabled';
    /** Null only for a draft that never had a URL; such a listing cannot be active. */
    privateUrl: string | null;
    upstreamAuth?: { name: string; value: string };
    signingSecret: string;
    /** Present only while a rotated-out secret is in its grace period. */
    previousSigningSecret?: string;
    timeoutMs: number;
    maxRequestBytes: number;
    maxResponseBytes: number;
  };
};

type TargetRow = {
  id: string;
  owner_profile_id: string;
  status: ListingStatus;
  pricing_model: PricingModel;
  price_micro_usd: number;
  endpoint_status: 'active' | 'disabled';
  private_url: string | null;
  upstream_auth_header_name: string | null;
  upstream_auth_value: string | null;
  signing_secret: string;
  previous_signing_secret: string | null;
  previous_secret_expires_at: string | null;
  timeout_ms: number;
  max_request_bytes: number;
  max_response_bytes: number;
};

/**
 * Everything the gateway needs to forward one call, secrets opened in memory; null when the
 * listing does not exist. Cached per listing (target-cache.ts): under load even one indexed query
 * per call cost the gateway a fifth of its throughput; writes forget the entry, and the grace
 * period's end is decided per call. Throws `VaultError` if a value does not open (wrong master key): an
 * operator problem, rendered as a 500.
 */
export function getGatewayTarget(deps: CoreDeps, listingId: string): GatewayTarget | null {
  const cached = cachedTarget(deps.db.sqlite, listingId, () => loadGatewayTarget(deps, listingId));
  if (!cached) return null;
  // The grace period ends by the clock, not by a write: decide it per call.
  const { previous, ...target } = cached;
  const inGrace = previous !== null && previous.expiresAt > iso(deps.clock.now());
  return inGrace ? { ...target, endpoint: { ...target.endpoint, previousSigningSecret: previous.secret } } : target;
}

type LoadedTarget = GatewayTarget & { previous: { secret: string; expiresAt: string } | null };

function loadGatewayTarget(deps: CoreDeps, listingId: string): LoadedTarget | null {
  const row = deps.db.sqlite
    .query<TargetRow, [string]>(
      `SELECT l.id, l.owner_profile_id, l.status, l.pricing_model, l.price_micro_usd, e.status AS endpoint_status,
        e.private_url, e.upstream_auth_header_name, e.upstream_auth_value, e.signing_secret, e.previous_signing_secret,
        e.previous_secret_expires_at, e.timeout_ms, e.max_request_bytes, e.max_response_bytes
       FROM listings l JOIN listing_gateway_endpoints e ON e.listing_id = l.id WHERE l.id = ?`,
    )
    .get(listingId);
  if (!row) return null;
  const authValue = open(deps, 'upstream_auth_value', listingId, row.upstream_auth_value);
  const previous =
    row.previous_signing_secret !== null && row.previous_secret_expires_at !== null
      ? { secret: open(deps, 'previous_signing_secret', listingId, row.previous_signing_secret), expiresAt: row.previous_secret_expires_at }
      : null;
  return {
    listing: { id: row.id, ownerProfileId: row.owner_profile_id, status: row.status, pricingModel: row.pricing_model, priceMicroUsd: row.price_micro_usd },
    endpoint: {
      status: row.endpoint_status,
      privateUrl: open(deps, 'private_url', listingId, row.private_url),
      ...(row.upstream_auth_header_name !== null && authValue !== null ? { upstreamAuth: { name: row.upstream_auth_header_name, value: authValue } } : {}),
      signingSecret: open(deps, 'signing_secret', listingId, row.signing_secret),
      timeoutMs: row.timeout_ms,
      maxRequestBytes: row.max_request_bytes,
      maxResponseBytes: row.max_response_bytes,
    },
    previous,
  };
}
