/** Purchase-gated reviews (SPEC §6) and the listing ratings they produce. */
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { newId } from '../../shared/ids.ts';
import * as Gateway from '../gateway/service.ts';
import * as Identity from '../identity/service.ts';
import * as Listings from '../listings/service.ts';
import { TrustErrors } from './errors.ts';
import { insertEvent } from './ingest.ts';
import type { ReviewInput, ReviewView } from './model.ts';
import type { Review } from './schema.ts';

/** A completed call makes its buyer eligible to review for this long. */
export const REVIEW_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

type ReviewRow = {
  id: string;
  listing_id: string;
  reviewer_id: string;
  accuracy_rating: number;
  reliability_rating: number;
  value_rating: number;
  title: string;
  comment: string;
  created_at: string;
};

const REVIEW_COLUMNS = 'id, listing_id, reviewer_id, accuracy_rating, reliability_rating, value_rating, title, comment, created_at';

function present(deps: CoreDeps, rows: ReviewRow[]): ReviewView[] {
  const reviewers = Identity.getProfiles(deps, rows.map((r) => r.reviewer_id));
  return rows.map(({ reviewer_id, ...r }) => ({ ...r, reviewer: { id: reviewer_id, display_name: reviewers.get(reviewer_id)?.displayName ?? '' } }));
}

/** Average of the three ratings over every review of the listing, and their count. */
function ratingOf(deps: CoreDeps, listingId: string): { average: number; count: number } {
  const row = deps.db.sqlite
    .query<{ average: number | null; count: number }, [string]>(
      'SELECT AVG((accuracy_rating + reliability_rating + value_rating) / 3.0) AS average, COUNT(*) AS count FROM reviews WHERE listing_id = ?',
    )
    .get(listingId);
  return { average: row?.average ?? 0, count: row?.count ?? 0 };
}

const hasReviewed = (deps: CoreDeps, reviewerId: string, listingId: string) =>
  deps.db.sqlite.query('SELECT 1 FROM reviews WHERE reviewer_id = ? AND listing_id = ?').get(reviewerId, listingId) !== null;

const isUniqueViolation = (error: unknown) => error instanceof Error && /UNIQUE constraint failed: reviews\./.test(error.message);

/**
 * Writes a review, its score event and the listing's new rating in one transaction. Checks, in
 * order: account type, listing, ownership, an earlier review, then a completed call (paid when
 * the listing is paid) in the last REVIEW_WINDOW_DAYS days.
 */
export function postReview(
  deps: Gateway.HistoryReadDeps,
  caller: { profileId: string; accountType: string },
  listingIdOrSlug: string,
  input: ReviewInput,
): ReviewView {
  if (caller.accountType !== 'agent') throw TrustErrors.accountTypeCannotReview(caller.accountType);
  const listing = Listings.reviewTarget(deps, listingIdOrSlug);
  if (!listing || listing.status === 'draft') throw TrustErrors.listingNotFound();
  if (listing.ownerProfileId === caller.profileId) throw TrustErrors.ownListing();
  if (hasReviewed(deps, caller.profileId, listing.id)) throw TrustErrors.reviewExists();
  const now = deps.clock.now();
  const paidOnly = listing.pricingModel === 'per_call';
  const call = Gateway.findCompletedCall(deps, {
    buyerId: caller.profileId,
    listingId: listing.id,
    sinceIso: iso(new Date(now.getTime() - REVIEW_WINDOW_DAYS * DAY_MS)),
    paidOnly,
  });
  if (!call) throw TrustErrors.notEligible(REVIEW_WINDOW_DAYS, paidOnly);

  const review: Review = {
    id: newId(),
    listingId: listing.id,
    sellerId: listing.ownerProfileId,
    reviewerId: caller.profileId,
    accuracyRating: input.accuracy_rating,
    reliabilityRating: input.reliability_rating,
    valueRating: input.value_rating,
    title: input.title,
    comment: input.comment,
    gatewayRequestId: call.id,
    createdAt: iso(now),
  };
  try {
    immediate(deps.db.sqlite, () => {
      if (hasReviewed(deps, caller.profileId, listing.id)) throw TrustErrors.reviewExists();
      deps.db.sqlite
        .query(
          `INSERT INTO reviews (id, listing_id, seller_id, reviewer_id, accuracy_rating, reliability_rating, value_rating, title, comment, gateway_request_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(review.id, review.listingId, review.sellerId, review.reviewerId, review.accuracyRating, review.reliabilityRating,
          review.valueRating, review.title, review.comment, review.gatewayRequestId, review.createdAt);
      insertEvent(deps, {
        profileId: review.sellerId, kind: 'review_received', counterpartyId: review.reviewerId, listingId: review.listingId,
        valueMicroUsd: 0, sourceType: 'review', sourceId: review.id, occurredAt: review.createdAt,
      }, review.createdAt);
      Listings.setListingRating(deps, listing.id, ratingOf(deps, listing.id));
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw TrustErrors.reviewExists();
    throw error;
  }
  return present(deps, [{
    id: review.id, listing_id: review.listingId, reviewer_id: review.reviewerId, accuracy_rating: review.accuracyRating,
    reliability_rating: review.reliabilityRating, value_rating: review.valueRating, title: review.title, comment: review.comment,
    created_at: review.createdAt,
  }])[0] as ReviewView;
}

/** Reviews of a listing, newest first. Drafts (never public) answer 404 like a missing listing. */
export function listReviews(deps: CoreDeps, listingIdOrSlug: string, q: { page: number; limit: number }): { items: ReviewView[]; total: number } {
  const listing = Listings.reviewTarget(deps, listingIdOrSlug);
  if (!listing || listing.status === 'draft') throw TrustErrors.listingNotFound();
  const { sqlite } = deps.db;
  const total = sqlite.query<{ n: number }, [string]>('SELECT COUNT(*) AS n FROM reviews WHERE listing_id = ?').get(listing.id)?.n ?? 0;
  const rows = sqlite
    .query<ReviewRow, [string, number, number]>(
      `SELECT ${REVIEW_COLUMNS} FROM reviews WHERE listing_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
    )
    .all(listing.id, q.limit, (q.page - 1) * q.limit);
  return { items: present(deps, rows), total };
}

/** Re-derives every reviewed listing's rating from its reviews; returns the listing ids it touched. */
export function refreshAllListingRatings(deps: CoreDeps): string[] {
  const { sqlite } = deps.db;
  const listingIds = sqlite.query<{ id: string }, []>('SELECT DISTINCT listing_id AS id FROM reviews ORDER BY listing_id').all().map((r) => r.id);
  immediate(sqlite, () => {
    for (const id of listingIds) Listings.setListingRating(deps, id, ratingOf(deps, id));
  });
  return listingIds;
}

/** Reviews of every listing a seller owned when reviewed, newest first (the agent page). */
export function listReviewsReceived(deps: CoreDeps, sellerId: string, q: { page: number; limit: number }): { items: ReviewView[]; total: number } {
  const { sqlite } = deps.db;
  const total = sqlite.query<{ n: number }, [string]>('SELECT COUNT(*) AS n FROM reviews WHERE seller_id = ?').get(sellerId)?.n ?? 0;
  const rows = sqlite
    .query<ReviewRow, [string, number, number]>(`SELECT ${REVIEW_COLUMNS} FROM reviews WHERE seller_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
    .all(sellerId, q.limit, (q.page - 1) * q.limit);
  return { items: present(deps, rows), total };
}
