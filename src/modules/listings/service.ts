/**
 * Listings: categories, creation (with its proof of work), reads, owner updates, and the one
 * lookup the gateway needs (`getGatewayTarget`). Framework-free; handlers call these.
 */
import type { SQLQueryBindings } from 'bun:sqlite';
import { asc, eq } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { MoneyParseError, microToDecimalString, parseUsdToMicro } from '../../shared/money.ts';
import { consumeListingChallenge, findSolvedChallenge } from './challenges.ts';
import { type SelfAwareDeps, endpointRow, hostOf, insertEndpoint, secretPrefixOf, setPrivateUrl, vetForSave } from './endpoint-store.ts';
import { ListingErrors } from './errors.ts';
import type { CreateListingInput, PatchListingInput } from './model.ts';
import { categories, listings, type ListingStatus, type PricingModel } from './schema.ts';
import { uniqueSlug, slugify } from './slug.ts';
import { findListing, presentListing, requireOwnedListing } from './store.ts';
import { forgetGatewayTarget, type TargetDeps } from './gateway-target.ts';

export { createListingChallenge } from './challenges.ts';
export { MAX_TIMEOUT_MS as MAX_UPSTREAM_TIMEOUT_MS } from './model.ts';
export { createTargetCache, forgetOwnerTargets, getGatewayTarget, type GatewayTarget, type TargetCache, type TargetDeps } from './gateway-target.ts';
export { getEndpointMetadata, rotateSigningSecret, testEndpoint, updateEndpoint } from './endpoint.ts';
export { endpointTestPositionOf, endpointTestsAfter, type EndpointTestRecord } from './endpoint-tests.ts';
export { providerScore, tierOf, VERIFIED_MIN_SCORE } from './provider.ts';
export { ftsQuery, listOwnListings, RATING_PRIOR_COUNT, RATING_PRIOR_MEAN, searchListings } from './search.ts';
export { searchQuery, SORTS, type ListingSort, type ListingView, type SearchQuery } from './model.ts';
export { reviewTarget, setListingRating, setListingUsage, type ReviewTarget } from './stats.ts';

/** All categories, in their display order. */
export function listCategories(deps: CoreDeps) {
  return deps.db.db
    .select({ id: categories.id, slug: categories.slug, name: categories.name })
    .from(categories)
    .orderBy(asc(categories.position), asc(categories.slug))
    .all();
}

function categoryIdOf(deps: CoreDeps, slug: string): string {
  const row = deps.db.db.select({ id: categories.id }).from(categories).where(eq(categories.slug, slug)).get();
  if (!row) throw ListingErrors.unknownCategory();
  return row.id;
}

/** Validated price in micro-USD: 0 for free; > 0 and ≤ CROCHET_MAX_PRICE_USD per call; ≤ 6 decimals. */
export function priceMicroUsd(deps: CoreDeps, model: PricingModel, amount: number | string): number {
  let micro: number;
  try {
    micro = parseUsdToMicro(amount);
  } catch (error) {
    if (error instanceof MoneyParseError) throw ListingErrors.invalidPrice(`pricing_amount: ${error.message}.`);
    throw error;
  }
  if (model === 'free' && micro !== 0) throw ListingErrors.invalidPrice('A free listing has pricing_amount 0.');
  if (model === 'per_call') {
    if (micro === 0) throw ListingErrors.invalidPrice('A per_call listing costs more than 0.');
    const max = parseUsdToMicro(deps.config.max_price_usd);
    if (micro > max) throw ListingErrors.invalidPrice(`pricing_amount exceeds this instance's maximum of ${microToDecimalString(max)} USD.`);
  }
  return micro;
}

const dedupe = (tags: string[]) => [...new Set(tags)];

/**
 * Publishes a listing (proof of work first, then every field; the puzzle is consumed only when
 * the listing is stored). Returns the owner's view with the signing secret, shown this once.
 */
export async function createListing(deps: SelfAwareDeps, ownerId: string, input: CreateListingInput) {
  const challenge = findSolvedChallenge(deps, ownerId, input.pow_nonce);
  const categoryId = categoryIdOf(deps, input.category);
  const price = priceMicroUsd(deps, input.pricing_model, input.pricing_amount);
  const url = input.private_endpoint_url ?? null;
  if (input.status !== 'draft' && url === null) throw ListingErrors.endpointUrlRequired();
  const warnings = url === null ? [] : await vetForSave(deps, url);

  const { id, secret } = immediate(deps.db.sqlite, () => {
    consumeListingChallenge(deps, challenge.id);
    const now = iso(deps.clock.now());
    const listingId = newId();
    deps.db.db
      .insert(listings)
      .values({
        id: listingId,
        slug: uniqueSlug(deps.db.sqlite, slugify(input.name)),
        ownerProfileId: ownerId,
        name: input.name,
        description: input.description,
        categoryId,
        tags: dedupe(input.tags),
        formats: input.formats,
        connectionInstructions: input.connection_instructions,
        pricingModel: input.pricing_model,
        priceMicroUsd: price,
        status: input.status,
        createdAt: now,
        updatedAt: now,
      })
      .run();
    return { id: listingId, secret: insertEndpoint(deps, listingId, url, now) };
  });
  const endpoint = endpointRow(deps, id);
  if (!endpoint) throw new Error('endpoint row missing after insert');
  return {
    ...getListing(deps, id, ownerId),
    gateway_endpoint: {
      signing_secret: secret,
      secret_prefix: secretPrefixOf(secret),
      status: endpoint.status,
      timeout_ms: endpoint.timeoutMs,
      max_request_bytes: endpoint.maxRequestBytes,
      max_response_bytes: endpoint.maxResponseBytes,
      host: hostOf(url),
      has_upstream_auth: false,
    },
    warnings,
  };
}

/** A listing by id or slug: public when active; otherwise only its owner sees it (others get 404). */
export function getListing(deps: CoreDeps, idOrSlug: string, viewerId?: string | null) {
  const row = findListing(deps, idOrSlug);
  if (!row || (row.status !== 'active' && row.owner_profile_id !== viewerId)) throw ListingErrors.notFound();
  return presentListing(deps, row);
}

/** Owner update of any listing field, status moves included; a new private URL is vetted again. */
export async function updateListing(deps: TargetDeps & SelfAwareDeps, ownerId: string, idOrSlug: string, input: PatchListingInput) {
  const current = requireOwnedListing(deps, ownerId, idOrSlug);
  if (current.status === 'suspended' && input.status !== undefined) throw ListingErrors.listingSuspended();
  const categoryId = input.category === undefined ? undefined : categoryIdOf(deps, input.category);
  const model = input.pricing_model ?? current.pricing_model;
  const price =
    input.pricing_model === undefined && input.pricing_amount === undefined
      ? undefined
      : priceMicroUsd(deps, model, input.pricing_amount ?? microToDecimalString(current.price_micro_usd));
  const warnings = input.private_endpoint_url === undefined ? [] : await vetForSave(deps, input.private_endpoint_url);

  immediate(deps.db.sqlite, () => {
    const endpoint = endpointRow(deps, current.id);
    const status: ListingStatus = input.status ?? current.status;
    const hasUrl = input.private_endpoint_url !== undefined || (endpoint?.privateUrl ?? null) !== null;
    if (status !== 'draft' && !hasUrl) throw ListingErrors.endpointUrlRequired();
    const now = iso(deps.clock.now());
    if (input.private_endpoint_url !== undefined) setPrivateUrl(deps, current.id, input.private_endpoint_url, now);
    deps.db.db
      .update(listings)
      .set({
        updatedAt: now,
        ...(input.name === undefined ? {} : { name: input.name }),
        ...(input.description === undefined ? {} : { description: input.description }),
        ...(categoryId === undefined ? {} : { categoryId }),
        ...(input.tags === undefined ? {} : { tags: dedupe(input.tags) }),
        ...(input.connection_instructions === undefined ? {} : { connectionInstructions: input.connection_instructions }),
        ...(input.pricing_model === undefined ? {} : { pricingModel: input.pricing_model }),
        ...(price === undefined ? {} : { priceMicroUsd: price }),
        ...(input.status === undefined ? {} : { status: input.status }),
      })
      .where(eq(listings.id, current.id))
      .run();
  });
  forgetGatewayTarget(deps, current.id);
  return { ...getListing(deps, current.id, ownerId), warnings };
}

/** Name and slug of each public (active) listing among `ids`, by id; others are absent. */
export function activeListingRefs(deps: CoreDeps, ids: readonly string[]): Map<string, { name: string; slug: string }> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = deps.db.sqlite
    .query<{ id: string; name: string; slug: string }, string[]>(
      `SELECT id, name, slug FROM listings WHERE status = 'active' AND id IN (${unique.map(() => '?').join(', ')})`,
    )
    .all(...unique);
  return new Map(rows.map((r) => [r.id, { name: r.name, slug: r.slug }]));
}

/** Operator: every listing (any owner, any status), newest first, for the console. */
export function listAllListings(deps: CoreDeps, q: { page: number; limit: number; status?: ListingStatus }) {
  const where = q.status ? 'WHERE status = ?' : '';
  const params: SQLQueryBindings[] = q.status ? [q.status] : [];
  const { sqlite } = deps.db;
  const total = sqlite.query<{ n: number }, SQLQueryBindings[]>(`SELECT COUNT(*) AS n FROM listings ${where}`).get(...params)?.n ?? 0;
  const items = sqlite
    .query<{ id: string; slug: string; name: string; owner_profile_id: string; status: ListingStatus; created_at: string }, SQLQueryBindings[]>(
      `SELECT id, slug, name, owner_profile_id, status, created_at FROM listings ${where} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`,
    )
    .all(...params, q.limit, (q.page - 1) * q.limit);
  return { items, total };
}

/** Counts by status, for the operator overview. */
export function countListings(deps: CoreDeps): Record<string, number> {
  const rows = deps.db.sqlite.query<{ status: string; n: number }, []>('SELECT status, COUNT(*) AS n FROM listings GROUP BY status').all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Operator: suspends a listing or restores it to active; the seller cannot undo a suspension. */
export function setListingStatusByOperator(deps: TargetDeps, listingId: string, status: 'suspended' | 'active') {
  const row = findListing(deps, listingId);
  if (!row) throw ListingErrors.notFound();
  deps.db.db.update(listings).set({ status, updatedAt: iso(deps.clock.now()) }).where(eq(listings.id, row.id)).run();
  forgetGatewayTarget(deps, row.id);
  return { id: row.id, slug: row.slug, name: row.name, owner_profile_id: row.owner_profile_id, status, previous_status: row.status };
}

/** Operator: adds a category (slug must be new). */
export function addCategory(deps: CoreDeps, input: { slug: string; name: string }) {
  if (deps.db.db.select({ id: categories.id }).from(categories).where(eq(categories.slug, input.slug)).get()) throw ListingErrors.categoryExists();
  const row = { id: newId(), slug: input.slug, name: input.name, position: 1000, createdAt: iso(deps.clock.now()) };
  deps.db.db.insert(categories).values(row).run();
  return { id: row.id, slug: row.slug, name: row.name };
}

/** Operator: renames a category (its slug, used by listings and search, stays). */
export function renameCategory(deps: CoreDeps, slug: string, name: string) {
  const row = deps.db.db.select().from(categories).where(eq(categories.slug, slug)).get();
  if (!row) throw CommonErrors.notFound('Category');
  deps.db.db.update(categories).set({ name }).where(eq(categories.id, row.id)).run();
  return { id: row.id, slug: row.slug, name };
}

/**
 * Operator: retires (removes) a category nobody uses. Refused while any listing, in any status,
 * is filed under it: silently moving sellers' listings elsewhere would misfile them.
 */
export function retireCategory(deps: CoreDeps, slug: string) {
  const row = deps.db.db.select().from(categories).where(eq(categories.slug, slug)).get();
  if (!row) throw CommonErrors.notFound('Category');
  const used = deps.db.sqlite.query<{ n: number }, [string]>('SELECT COUNT(*) AS n FROM listings WHERE category_id = ?').get(row.id)?.n ?? 0;
  if (used > 0) throw ListingErrors.categoryInUse(used);
  deps.db.db.delete(categories).where(eq(categories.id, row.id)).run();
  return { id: row.id, slug: row.slug, name: row.name, retired: true as const };
}

/** An active paid listing as x402 discovery lists it. */
export type PaidListingRef = { id: string; slug: string; name: string; description: string; category: string; tags: string[]; priceMicroUsd: number; ownerProfileId: string; updatedAt: string };

/**
 * Active paid listings whose endpoint is active and whose owner is not suspended (what a buyer
 * can pay for now), newest change first, paginated by offset (x402 Bazaar discovery).
 */
export function listPaidListings(deps: CoreDeps, q: { limit: number; offset: number }): { items: PaidListingRef[]; total: number } {
  const where = `l.status = 'active' AND l.pricing_model != 'free'
    AND EXISTS (SELECT 1 FROM listing_gateway_endpoints e WHERE e.listing_id = l.id AND e.status = 'active')
    AND NOT EXISTS (SELECT 1 FROM profiles o WHERE o.id = l.owner_profile_id AND o.status = 'suspended')`;
  const { sqlite } = deps.db;
  const total = sqlite.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM listings l WHERE ${where}`).get()?.n ?? 0;
  const rows = sqlite
    .query<{ id: string; slug: string; name: string; description: string; category: string; tags: string; price_micro_usd: number; owner_profile_id: string; updated_at: string }, [number, number]>(
      `SELECT l.id, l.slug, l.name, l.description, c.slug AS category, l.tags, l.price_micro_usd, l.owner_profile_id, l.updated_at
         FROM listings l JOIN categories c ON c.id = l.category_id
        WHERE ${where} ORDER BY l.updated_at DESC, l.seq DESC LIMIT ? OFFSET ?`,
    )
    .all(q.limit, q.offset);
  return {
    total,
    items: rows.map((r) => ({ id: r.id, slug: r.slug, name: r.name, description: r.description, category: r.category, tags: JSON.parse(r.tags) as string[], priceMicroUsd: r.price_micro_usd, ownerProfileId: r.owner_profile_id, updatedAt: r.updated_at })),
  };
}
