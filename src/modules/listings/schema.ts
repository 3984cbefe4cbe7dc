import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// `suspended` is set and lifted by the operator only (SPEC §2 Operator).
export const LISTING_STATUSES = ['draft', 'active', 'paused', 'archived', 'suspended'] as const;
/** The statuses a seller may set (suspension is the operator's). */
export const OWNER_LISTING_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export const PRICING_MODELS = ['free', 'per_call'] as const;
export const ENDPOINT_STATUSES = ['active', 'disabled'] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];
export type PricingModel = (typeof PRICING_MODELS)[number];
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Seeded by the `seed_categories` migration; listings name a category by slug. */
export const categories = sqliteTable(
  'categories',
  {
    id: text('id').primaryKey(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    position: integer('position').notNull().default(0),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('categories_slug').on(t.slug)],
);

// Search is an FTS5 external-content table over name/description/tags, kept in sync by triggers
// (migration `listings_search`). Its rowid is `seq`: an explicit INTEGER PRIMARY KEY keeps its
// value through VACUUM, where SQLite may renumber an implicit rowid and silently break the index.
export const listings = sqliteTable(
  'listings',
  {
    seq: integer('seq').primaryKey(),
    id: text('id').notNull(),
    slug: text('slug').notNull(),
    /** The authenticated caller that created it (identity owns profiles; no cross-module FK). */
    ownerProfileId: text('owner_profile_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    categoryId: text('category_id').notNull().references(() => categories.id),
    /** JSON array of lowercase tags; FTS tokenizes the JSON text, which splits on its punctuation. */
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull(),
    deliveryType: text('delivery_type', { enum: ['api'] }).notNull().default('api'),
    authMethod: text('auth_method', { enum: ['none'] }).notNull().default('none'),
    formats: text('formats', { mode: 'json' }).$type<'json'[]>().notNull(),
    connectionInstructions: text('connection_instructions').notNull().default(''),
    pricingModel: text('pricing_model', { enum: PRICING_MODELS }).notNull(),
    priceMicroUsd: integer('price_micro_usd').notNull(),
    pricingCurrency: text('pricing_currency', { enum: ['USD'] }).notNull().default('USD'),
    status: text('status', { enum: LISTING_STATUSES }).notNull().default('draft'),
    // Usage stats: the gateway updates these as calls complete.
    callsTotal: integer('calls_total').notNull().default(0),
    callsSucceeded: integer('calls_succeeded').notNull().default(0),
    p50LatencyMs: integer('p50_latency_ms'),
    // Filled by the trust module from reviews; 0/0 until the first review.
    ratingAverage: real('rating_average').notNull().default(0),
    ratingCount: integer('rating_count').notNull().default(0),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('listings_id').on(t.id),
    uniqueIndex('listings_slug').on(t.slug),
    index('listings_owner').on(t.ownerProfileId, t.createdAt),
    // One index per public sort order, each led by status (only active listings are searched).
    index('listings_status_created').on(t.status, t.createdAt),
    index('listings_status_calls').on(t.status, t.callsTotal),
    index('listings_status_price').on(t.status, t.priceMicroUsd),
    index('listings_status_rating').on(t.status, t.ratingAverage, t.ratingCount),
    index('listings_status_category_price').on(t.status, t.categoryId, t.priceMicroUsd),
    index('listings_status_category_created').on(t.status, t.categoryId, t.createdAt),
    // "Free/paid, cheapest/dearest first" (without it, price order walks the other model's rows).
    index('listings_status_pricing_price').on(t.status, t.pricingModel, t.priceMicroUsd),
    // "Best rated" orders by the Bayesian rating (search.ts WEIGHTED_RATING, which must match this
    // expression exactly for SQLite to use the index).
    // Counts under a provider-score filter (the owner checked against a list of scored owners).
    index('listings_status_owner').on(t.status, t.ownerProfileId),
    index('listings_status_weighted_rating').on(t.status, sql`((rating_average * rating_count + 15.0) / (rating_count + 5))`, t.ratingCount),
  ],
);

/**
 * One gateway endpoint per listing. Columns named in `src/modules/vault/registry.ts` hold vault
 * values (`v1$<keyId>$…`, AAD = this table / column / listing_id), never plaintext. The host is
 * not stored: the owner's metadata route derives it from the opened URL.
 */
export const listingGatewayEndpoints = sqliteTable('listing_gateway_endpoints', {
  listingId: text('listing_id').primaryKey().references(() => listings.id),
  privateUrl: text('private_url'),
  upstreamAuthHeaderName: text('upstream_auth_header_name'),
  upstreamAuthValue: text('upstream_auth_value'),
  signingSecret: text('signing_secret').notNull(),
  /** First characters of the current secret, so the owner can tell which one is live. */
  secretPrefix: text('secret_prefix').notNull(),
  secretRotatedAt: text('secret_rotated_at'),
  previousSigningSecret: text('previous_signing_secret'),
  previousSecretExpiresAt: text('previous_secret_expires_at'),
  timeoutMs: integer('timeout_ms').notNull().default(15_000),
  maxRequestBytes: integer('max_request_bytes').notNull().default(262_144),
  maxResponseBytes: integer('max_response_bytes').notNull().default(1_048_576),
  status: text('status', { enum: ENDPOINT_STATUSES }).notNull().default('active'),
  lastTestAt: text('last_test_at'),
  lastTestOk: integer('last_test_ok', { mode: 'boolean' }),
  lastTestStatus: integer('last_test_status'),
  lastTestLatencyMs: integer('last_test_latency_ms'),
  lastTestJson: integer('last_test_json', { mode: 'boolean' }),
  lastTestErrorCode: text('last_test_error_code'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/**
 * Every endpoint test, append-only: the trust module reads it (through `endpointTestsAfter`) as
 * score evidence. The id is the test's `gw_req_` request id, so a row matches what the seller saw.
 * Nothing here can leak: no URL, no status line, only the generic failure code.
 */
export const endpointTests = sqliteTable('endpoint_tests', {
  id: text('id').primaryKey(),
  listingId: text('listing_id').notNull().references(() => listings.id),
  /** The listing's owner, who ran the test (and whose score it may feed). */
  ownerProfileId: text('owner_profile_id').notNull(),
  ok: integer('ok', { mode: 'boolean' }).notNull(),
  errorCode: text('error_code'),
  /** The listing's status when the test started: a failure while `active` is one buyers would have met. */
  listingStatus: text('listing_status', { enum: LISTING_STATUSES }).notNull(),
  testedAt: text('tested_at').notNull(),
});

/** Listing proof-of-work puzzles, bound to the caller's profile, single use. */
export const listingChallenges = sqliteTable(
  'listing_challenges',
  {
    id: text('id').primaryKey(),
    profileId: text('profile_id').notNull(),
    challenge: text('challenge').notNull(),
    difficulty: integer('difficulty').notNull(),
    expiresAt: text('expires_at').notNull(),
    consumedAt: text('consumed_at'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('listing_challenges_profile').on(t.profileId, t.createdAt), index('listing_challenges_expires').on(t.expiresAt)],
);

export type Category = typeof categories.$inferSelect;
export type Listing = typeof listings.$inferSelect;
export type GatewayEndpoint = typeof listingGatewayEndpoints.$inferSelect;
export type ListingChallenge = typeof listingChallenges.$inferSelect;
export type EndpointTest = typeof endpointTests.$inferSelect;
