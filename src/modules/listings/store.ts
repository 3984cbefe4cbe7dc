/**
 * Reads of listings as the API presents them (joined with category slug and provider score), and
 * their mapping to the public listing object. Raw SQL: search needs FTS joins that a query
 * builder would only obscure.
 */
import type { CoreDeps } from '../../shared/deps.ts';
import { microToDecimalString } from '../../shared/money.ts';
import * as Identity from '../identity/service.ts';
import { ListingErrors } from './errors.ts';
import type { ListingView } from './model.ts';
import { scoreSummary } from './provider.ts';
import type { ListingStatus, PricingModel } from './schema.ts';

export type ListingRow = {
  seq: number;
  id: string;
  slug: string;
  owner_profile_id: string;
  name: string;
  description: string;
  category_slug: string;
  tags: string;
  formats: string;
  connection_instructions: string;
  pricing_model: PricingModel;
  price_micro_usd: number;
  status: ListingStatus;
  calls_total: number;
  calls_succeeded: number;
  p50_latency_ms: number | null;
  rating_average: number;
  rating_count: number;
  created_at: string;
  updated_at: string;
  provider_score: number;
};

/** FROM clause shared by every listing read; `l`, `c` and `ps` are the aliases filters use. */
export const LISTING_FROM = `listings l
  JOIN categories c ON c.id = l.category_id
  LEFT JOIN provider_scores ps ON ps.profile_id = l.owner_profile_id`;

export const LISTING_COLUMNS = `l.seq, l.id, l.slug, l.owner_profile_id, l.name, l.description, c.slug AS category_slug,
  l.tags, l.formats, l.connection_instructions, l.pricing_model, l.price_micro_usd, l.status,
  l.calls_total, l.calls_succeeded, l.p50_latency_ms, l.rating_average, l.rating_count,
  l.created_at, l.updated_at, COALESCE(ps.score, 0) AS provider_score`;

/** A listing by id, else by slug (an id always wins, so no slug can shadow another listing). */
export function findListing(deps: CoreDeps, idOrSlug: string): ListingRow | null {
  const q = (column: 'id' | 'slug') =>
    deps.db.sqlite.query<ListingRow, [string]>(`SELECT ${LISTING_COLUMNS} FROM ${LISTING_FROM} WHERE l.${column} = ?`).get(idOrSlug);
  return q('id') ?? q('slug');
}

/** The caller's listing; anyone else's (or none) is 404, so owner routes reveal nothing. */
export function requireOwnedListing(deps: CoreDeps, ownerId: string, idOrSlug: string): ListingRow {
  const row = findListing(deps, idOrSlug);
  if (!row || row.owner_profile_id !== ownerId) throw ListingErrors.notFound();
  return row;
}

export const gatewayUrl = (deps: CoreDeps, listingId: string) => `${deps.config.public_url}/api/v1/gateway/${listingId}`;

function parseJsonArray<T>(text: string): T[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? (value as T[]) : [];
}

/** Maps rows to public listing objects, with their providers looked up in one query. */
export function presentListings(deps: CoreDeps, rows: ListingRow[]): ListingView[] {
  const profiles = Identity.getProfiles(deps, rows.map((r) => r.owner_profile_id));
  return rows.map((row) => {
    const profile = profiles.get(row.owner_profile_id);
    return {
      id: row.id,
      slug: row.slug,
      name: row.name,
      description: row.description,
      category: row.category_slug,
      tags: parseJsonArray<string>(row.tags),
      delivery_type: 'api',
      auth_method: 'none',
      formats: parseJsonArray<'json'>(row.formats),
      connection_instructions: row.connection_instructions,
      pricing_model: row.pricing_model,
      pricing_amount: microToDecimalString(row.price_micro_usd),
      pricing_currency: 'USD',
      status: row.status,
      gateway_url: gatewayUrl(deps, row.id),
      provider: {
        id: row.owner_profile_id,
        display_name: profile?.displayName ?? '',
        account_type: profile?.accountType ?? 'agent',
        ...scoreSummary(row.provider_score),
      },
      rating: { average: row.rating_average, count: row.rating_count },
      stats: {
        calls: row.calls_total,
        success_rate: row.calls_total > 0 ? Math.round((row.calls_succeeded / row.calls_total) * 10_000) / 10_000 : null,
        p50_latency_ms: row.p50_latency_ms,
      },
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  });
}

export const presentListing = (deps: CoreDeps, row: ListingRow): ListingView => presentListings(deps, [row])[0] as ListingView;
