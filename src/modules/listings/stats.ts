/**
 * Listing fields other modules keep up to date: the rating (trust, from reviews) and the usage
 * stats (trust's recompute, from gateway outcomes). Neither touches `updated_at`, which tracks
 * the owner's edits.
 */
import type { CoreDeps } from '../../shared/deps.ts';
import type { ListingStatus, PricingModel } from './schema.ts';
import { findListing } from './store.ts';

export type ReviewTarget = { id: string; ownerProfileId: string; status: ListingStatus; pricingModel: PricingModel };

/** A listing by id or slug, in any status, with what a review needs to know; null when none. */
export function reviewTarget(deps: CoreDeps, idOrSlug: string): ReviewTarget | null {
  const row = findListing(deps, idOrSlug);
  if (!row) return null;
  return { id: row.id, ownerProfileId: row.owner_profile_id, status: row.status, pricingModel: row.pricing_model };
}

/** Sets the public rating; `average` is rounded to 2 decimals. Call inside the caller's transaction when part of a larger change. */
export function setListingRating(deps: CoreDeps, listingId: string, rating: { average: number; count: number }): void {
  const average = rating.count > 0 ? Math.round(rating.average * 100) / 100 : 0;
  deps.db.sqlite.query('UPDATE listings SET rating_average = ?, rating_count = ? WHERE id = ?').run(average, rating.count, listingId);
}

/** Sets the usage stats shown on listings and used by `sort=popular`. */
export function setListingUsage(deps: CoreDeps, listingId: string, usage: { callsTotal: number; callsSucceeded: number; p50LatencyMs: number | null }): void {
  deps.db.sqlite
    .query('UPDATE listings SET calls_total = ?, calls_succeeded = ?, p50_latency_ms = ? WHERE id = ?')
    .run(usage.callsTotal, usage.callsSucceeded, usage.p50LatencyMs, listingId);
}
