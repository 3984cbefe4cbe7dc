import type { ChangeWatch } from '../../db/change-watch.ts';
import { createCoherentCache, type CoherentCache } from '../../shared/coherent-cache.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { open } from './endpoint-store.ts';
import type { ListingStatus, PricingModel } from './schema.ts';

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
 * Decrypted gateway targets of one app, so a gateway call costs no query and no decryption (under
 * load even one indexed query per call cost the gateway a fifth of its throughput). Every write to
 * a listing or its endpoint here forgets its entry at once; writes by another process or a CLI
 * bump the `gateway_targets` generation and empty the cache within CHANGE_CHECK_INTERVAL_MS;
 * entries also expire after TARGET_TTL_MS as a safety net.
 */
export type TargetCache = CoherentCache<LoadedTarget>;

const TARGET_TTL_MS = 10_000;
const MAX_TARGETS = 50_000;

export function createTargetCache(changes: ChangeWatch): TargetCache {
  return createCoherentCache<LoadedTarget>({ generation: () => changes.current().gatewayTargets, ttlMs: TARGET_TTL_MS, maxEntries: MAX_TARGETS });
}

/** What reading or changing a listing's gateway target needs: the core and this app's target cache. */
export type TargetDeps = CoreDeps & { targetCache: TargetCache };

/** Call after any change to a listing or its endpoint made through this app. */
export function forgetGatewayTarget(deps: TargetDeps, listingId: string): void {
  deps.targetCache.forget(listingId);
}

/** Drops the cached targets of one owner's listings: call after the owner's status changes (their status is folded in). */
export function forgetOwnerTargets(deps: TargetDeps, ownerProfileId: string): void {
  deps.targetCache.forgetWhere((t) => t !== null && t.current.listing.ownerProfileId === ownerProfileId);
}

/**
 * Everything the gateway needs to forward one call, secrets opened in memory; null when the
 * listing does not exist. Cached per listing (`TargetCache`); the grace period's end is decided
 * per call. Both shapes (with and without the previous secret) are built once at load, so a call
 * allocates nothing here. Throws `VaultError` if a value does not open (wrong master key): an
 * operator problem, rendered as a 500.
 */
export function getGatewayTarget(deps: TargetDeps, listingId: string): GatewayTarget | null {
  const cached = deps.targetCache.get(listingId, () => loadGatewayTarget(deps, listingId));
  if (!cached) return null;
  // The grace period ends by the clock, not by a write: decide it per call.
  return cached.inGrace !== null && deps.clock.now().getTime() < cached.graceEndsAtMs ? cached.inGrace : cached.current;
}

type LoadedTarget = { current: GatewayTarget; inGrace: GatewayTarget | null; graceEndsAtMs: number };

function loadGatewayTarget(deps: CoreDeps, listingId: string): LoadedTarget | null {
  const row = deps.db.sqlite
    .query<TargetRow, [string]>(
      `SELECT l.id, l.owner_profile_id, CASE WHEN p.status = 'suspended' THEN 'suspended' ELSE l.status END AS status, l.pricing_model, l.price_micro_usd, e.status AS endpoint_status,
        e.private_url, e.upstream_auth_header_name, e.upstream_auth_value, e.signing_secret, e.previous_signing_secret,
        e.previous_secret_expires_at, e.timeout_ms, e.max_request_bytes, e.max_response_bytes
       FROM listings l JOIN listing_gateway_endpoints e ON e.listing_id = l.id JOIN profiles p ON p.id = l.owner_profile_id WHERE l.id = ?`,
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
