import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** One review per buyer per listing (SPEC §6); the unique index settles concurrent second reviews. */
export const reviews = sqliteTable(
  'reviews',
  {
    id: text('id').primaryKey(),
    listingId: text('listing_id').notNull(),
    /** The listing's owner when the review was written (the profile whose score it feeds). */
    sellerId: text('seller_id').notNull(),
    reviewerId: text('reviewer_id').notNull(),
    accuracyRating: integer('accuracy_rating').notNull(),
    reliabilityRating: integer('reliability_rating').notNull(),
    valueRating: integer('value_rating').notNull(),
    title: text('title').notNull(),
    comment: text('comment').notNull().default(''),
    /** The completed call that made the reviewer eligible. */
    gatewayRequestId: text('gateway_request_id').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('reviews_reviewer_listing').on(t.reviewerId, t.listingId),
    index('reviews_listing_created').on(t.listingId, t.createdAt),
    index('reviews_seller').on(t.sellerId),
  ],
);

export const SCORE_EVENT_KINDS = [
  'seller_completed',
  'seller_rejected',
  'seller_failed',
  'seller_timeout',
  'buyer_paid',
  'review_received',
  // Every endpoint test the owner runs; only a failure while the listing is active carries weight.
  'endpoint_test_passed',
  'endpoint_test_failed',
] as const;
export type ScoreEventKind = (typeof SCORE_EVENT_KINDS)[number];
export const SCORE_EVENT_SOURCES = ['gateway_request', 'review', 'endpoint_test'] as const;
export type ScoreEventSource = (typeof SCORE_EVENT_SOURCES)[number];

/**
 * What the Crochet Score is computed from: one row per (source, kind), so ingesting the same
 * gateway row or review twice adds nothing. Discounts (self-dealing) are decided at compute time,
 * because the evidence linking two profiles can arrive after the event.
 */
export const scoreEvents = sqliteTable(
  'score_events',
  {
    id: text('id').primaryKey(),
    profileId: text('profile_id').notNull(),
    kind: text('kind', { enum: SCORE_EVENT_KINDS }).notNull(),
    /**
     * The other side: the buyer for seller events, the seller for buyer events, the reviewer for
     * reviews; for endpoint tests the owner itself (the test is sent with the owner as buyer).
     */
    counterpartyId: text('counterparty_id').notNull(),
    listingId: text('listing_id').notNull(),
    /** Micro-USD paid for the call (0 when free); 0 for reviews. */
    valueMicroUsd: integer('value_micro_usd').notNull().default(0),
    sourceType: text('source_type', { enum: SCORE_EVENT_SOURCES }).notNull(),
    sourceId: text('source_id').notNull(),
    /** The listing's status when it happened; recorded for endpoint tests only (null otherwise). */
    listingStatus: text('listing_status', { enum: ['draft', 'active', 'paused', 'archived', 'suspended'] }),
    occurredAt: text('occurred_at').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('score_events_source').on(t.sourceId, t.kind),
    index('score_events_occurred').on(t.occurredAt),
    index('score_events_profile').on(t.profileId, t.occurredAt),
  ],
);

/** The latest computed score of a profile; listing search reads it through the `provider_scores` view. */
export const scoreSnapshots = sqliteTable(
  'score_snapshots',
  {
    profileId: text('profile_id').primaryKey(),
    score: integer('score').notNull(),
    reliability: integer('reliability').notNull(),
    accuracy: integer('accuracy').notNull(),
    volume: integer('volume').notNull(),
    longevity: integer('longevity').notNull(),
    reputation: integer('reputation').notNull(),
    tier: text('tier', { enum: ['low', 'moderate', 'trusted', 'elite', 'exceptional'] }).notNull(),
    verified: integer('verified', { mode: 'boolean' }).notNull(),
    eventsConsidered: integer('events_considered').notNull(),
    /** SHA-256 of the formula's inputs: equal hashes at equal times mean equal snapshots. */
    inputsHash: text('inputs_hash').notNull(),
    computedAt: text('computed_at').notNull(),
  },
  (t) => [index('score_snapshots_score').on(t.score)],
);

/** How far score ingestion has read each source (the gateway history's rowid, plus that row's id to notice renumbering). */
export const scoreIngestCursors = sqliteTable('score_ingest_cursors', {
  source: text('source').primaryKey(),
  position: integer('position').notNull(),
  rowId: text('row_id').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export type Review = typeof reviews.$inferSelect;
export type ScoreEvent = typeof scoreEvents.$inferSelect;
export type ScoreSnapshot = typeof scoreSnapshots.$inferSelect;
