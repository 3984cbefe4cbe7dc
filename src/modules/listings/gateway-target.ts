import type { CoreDeps } from '../../shared/deps.ts';
import { open } from './endpoint-store.ts';
import type { ListingStatus, PricingModel } from './schema.ts';
import { cachedTarget } from './target-cache.ts';

/** A listing's endpoint, secrets opened, in the shape a signed call is sent with. */
export type GatewayEndpointTarget = {
  listingId: string;
  status: 'active' | 'disabled';
  /** Null only for a draft that never had a URL; such a listing cannot be active. */
  privateUrl: string | null;
  upstreamAuth: { name: string; value: string } | null;
  signingSecret: string;
  /** Set only while a rotated-out secret is in its grace period. */
  previousSigningSecret: string | null;
  timeoutMs: number;
  maxRequestBytes: number;
  maxResponseBytes: number;
};

export type GatewayTarget = {
  listing: { id: string; ownerProfileId: string; status: ListingStatus; pricingModel: PricingModel; priceMicroUsd: number };
  endpoint: GatewayEndpointTarget;
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
 * period's end is decided per call. Both shapes (with and without the previous secret) are built
 * once at load, so a call allocates nothing here. Throws `VaultError` if a value does not open
 * (wrong master key): an operator problem, rendered as a 500.
 */
export function getGatewayTarget(deps: CoreDeps, listingId: string): GatewayTarget | null {
  const cached = cachedTarget(deps.db.sqlite, listingId, () => loadGatewayTarget(deps, listingId));
  if (!cached) return null;
  // The grace period ends by the clock, not by a write: decide it per call.
  return cached.inGrace !== null && deps.clock.now().getTime() < cached.graceEndsAtMs ? cached.inGrace : cached.current;
}

type LoadedTarget = { current: GatewayTarget; inGrace: GatewayTarget | null; graceEndsAtMs: number };

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
  const listing = { id: row.id, ownerProfileId: row.owner_profile_id, status: row.status, pricingModel: row.pricing_model, priceMicroUsd: row.price_micro_usd };
  const endpoint: GatewayEndpointTarget = {
    listingId: row.id,
    status: row.endpoint_status,
    privateUrl: open(deps, 'private_url', listingId, row.private_url),
    upstreamAuth: row.upstream_auth_header_name !== null && authValue !== null ? { name: row.upstream_auth_header_name, value: authValue } : null,
    signingSecret: open(deps, 'signing_secret', listingId, row.signing_secret),
    previousSigningSecret: null,
    timeoutMs: row.timeout_ms,
    maxRequestBytes: row.max_request_bytes,
    maxResponseBytes: row.max_response_bytes,
  };
  const current = { listing, endpoint };
  if (row.previous_signing_secret === null || row.previous_secret_expires_at === null) return { current, inGrace: null, graceEndsAtMs: 0 };
  const previousSigningSecret = open(deps, 'previous_signing_secret', listingId, row.previous_signing_secret);
  return { current, inGrace: { listing, endpoint: { ...endpoint, previousSigningSecret } }, graceEndsAtMs: Date.parse(row.previous_secret_expires_at) };
}
