/** Public listing search (FTS5 + filters + sort + pagination) and the owner's own list. */
import type { SQLQueryBindings } from 'bun:sqlite';
import type { CoreDeps } from '../../shared/deps.ts';
import { ListingErrors } from './errors.ts';
import type { ListingSort, ListingView, SearchQuery } from './model.ts';
import { VERIFIED_MIN_SCORE } from './provider.ts';
import type { ListingStatus } from './schema.ts';
import { LISTING_COLUMNS, LISTING_FROM, presentListings, type ListingRow } from './store.ts';

const MAX_TERMS = 16;
const MAX_TERM_CHARS = 64;
// Prefix matching makes "transl" find "translation"; one- and two-letter prefixes would match
// most of the index, so short words must match whole.
const MIN_PREFIX_CHARS = 3;

/**
 * Turns user text into a safe FTS5 query: only runs of letters, digits and combining marks
 * survive, each becomes a quoted phrase (so `"`, `*`, `:`, `-`, `^`, `NEAR(`, `AND`/`OR`/`NOT`
 * are plain text or gone, never syntax), and all must match. Null when no word is left.
 *
 * @example ftsQuery('weather -"NEAR(x') // → '"weather"* "NEAR"* "x"'
 */
export function ftsQuery(q: string): string | null {
  const words = q.normalize('NFKC').match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  const terms = words.slice(0, MAX_TERMS).map((w) => w.slice(0, MAX_TERM_CHARS));
  if (terms.length === 0) return null;
  return terms.map((t) => (t.length >= MIN_PREFIX_CHARS ? `"${t}"*` : `"${t}"`)).join(' ');
}

// Every order ends in `l.seq DESC` so pages never overlap or skip when sort keys tie.
const ORDER_BY: Record<ListingSort | 'relevance', string> = {
  newest: 'l.created_at DESC, l.seq DESC',
  popular: 'l.calls_total DESC, l.seq DESC',
  price_low: 'l.price_micro_usd ASC, l.seq DESC',
  price_high: 'l.price_micro_usd DESC, l.seq DESC',
  rating: 'l.rating_average DESC, l.rating_count DESC, l.seq DESC',
  relevance: 'f.rank ASC, l.seq DESC',
};

export type Page<T> = { items: T[]; total: number; page: number; limit: number };

function categoryId(deps: CoreDeps, slug: string): string {
  const row = deps.db.sqlite.query<{ id: string }, [string]>('SELECT id FROM categories WHERE slug = ?').get(slug);
  if (!row) throw ListingErrors.unknownCategory();
  return row.id;
}

/**
 * Active listings matching the query. With `q` and no `sort`, the best matches come first
 * (bm25, name weighted above tags above description); otherwise newest first. A `q` with no
 * searchable word matches nothing.
 */
export function searchListings(deps: CoreDeps, query: SearchQuery): Page<ListingView> {
  const where: string[] = ["l.status = 'active'"];
  const params: SQLQueryBindings[] = [];
  let fts = '';
  const ftsParams: SQLQueryBindings[] = [];
  if (query.q !== undefined && query.q.trim() !== '') {
    const match = ftsQuery(query.q);
    if (match === null) return { items: [], total: 0, page: query.page, limit: query.limit };
    fts = `JOIN (SELECT rowid AS seq, bm25(listings_fts, 10.0, 1.0, 4.0) AS rank FROM listings_fts WHERE listings_fts MATCH ?) f ON f.seq = l.seq`;
    ftsParams.push(match);
  }
  if (query.category !== undefined) {
    where.push('l.category_id = ?');
    params.push(categoryId(deps, query.category));
  }
  if (query.pricing_model !== undefined) {
    where.push('l.pricing_model = ?');
    params.push(query.pricing_model);
  }
  if (query.min_score !== undefined) {
    where.push('COALESCE(ps.score, 0) >= ?');
    params.push(query.min_score);
  }
  if (query.verified !== undefined) {
    where.push(query.verified ? 'COALESCE(ps.score, 0) >= ?' : 'COALESCE(ps.score, 0) < ?');
    params.push(VERIFIED_MIN_SCORE);
  }
  const sort = query.sort ?? (fts ? 'relevance' : 'newest');
  const from = `${LISTING_FROM} ${fts} WHERE ${where.join(' AND ')}`;
  const { sqlite } = deps.db;
  const total = sqlite.query<{ n: number }, SQLQueryBindings[]>(`SELECT COUNT(*) AS n FROM ${from}`).get(...ftsParams, ...params)?.n ?? 0;
  const offset = (query.page - 1) * query.limit;
  const rows = total <= offset
    ? []
    : sqlite
        .query<ListingRow, SQLQueryBindings[]>(`SELECT ${LISTING_COLUMNS} FROM ${from} ORDER BY ${ORDER_BY[sort]} LIMIT ? OFFSET ?`)
        .all(...ftsParams, ...params, query.limit, offset);
  return { items: presentListings(deps, rows), total, page: query.page, limit: query.limit };
}

/** The caller's own listings in every status (or one), newest first. */
export function listOwnListings(
  deps: CoreDeps,
  ownerId: string,
  query: { status?: ListingStatus; page: number; limit: number },
): Page<ListingView> {
  const where = query.status ? 'l.owner_profile_id = ? AND l.status = ?' : 'l.owner_profile_id = ?';
  const params: SQLQueryBindings[] = query.status ? [ownerId, query.status] : [ownerId];
  const { sqlite } = deps.db;
  const total = sqlite.query<{ n: number }, SQLQueryBindings[]>(`SELECT COUNT(*) AS n FROM listings l WHERE ${where}`).get(...params)?.n ?? 0;
  const rows = sqlite
    .query<ListingRow, SQLQueryBindings[]>(`SELECT ${LISTING_COLUMNS} FROM ${LISTING_FROM} WHERE ${where} ORDER BY l.created_at DESC, l.seq DESC LIMIT ? OFFSET ?`)
    .all(...params, query.limit, (query.page - 1) * query.limit);
  return { items: presentListings(deps, rows), total, page: query.page, limit: query.limit };
}
