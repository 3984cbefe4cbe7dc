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

// Every order ends in `l.seq` in the direction its index is scanned, so pages never overlap or
// skip when sort keys tie, and no sort order needs a temporary b-tree for the tie-break.
/**
 * "Best rated" ranks by a Bayesian (weighted) rating, so one 5-star review cannot outrank many
 * 4.7s: every listing starts with RATING_PRIOR_COUNT pseudo-reviews of RATING_PRIOR_MEAN (the
 * middle of the 1–5 scale), `weighted = (C × m + n × average) / (C + n)`. One 5 → 3.33; ten
 * 4.7s → 4.13; no review → 3.
 */
export const RATING_PRIOR_COUNT = 5;
export const RATING_PRIOR_MEAN = 3;
const WEIGHTED_RATING = `(l.rating_average * l.rating_count + ${RATING_PRIOR_COUNT * RATING_PRIOR_MEAN}.0) / (l.rating_count + ${RATING_PRIOR_COUNT})`;

const ORDER_BY: Record<ListingSort, string> = {
  newest: 'l.created_at DESC, l.seq DESC',
  popular: 'l.calls_total DESC, l.seq DESC',
  price_low: 'l.price_micro_usd ASC, l.seq ASC',
  price_high: 'l.price_micro_usd DESC, l.seq DESC',
  rating: `${WEIGHTED_RATING} DESC, l.rating_count DESC, l.seq DESC`,
};
// Column weights for bm25: name above tags above description.
const BM25_WEIGHTS = '10.0, 1.0, 4.0';
const BM25 = `bm25(listings_fts, ${BM25_WEIGHTS})`;

export type Page<T> = { items: T[]; total: number; page: number; limit: number };

function categoryId(deps: CoreDeps, slug: string): string {
  const row = deps.db.sqlite.query<{ id: string }, [string]>('SELECT id FROM categories WHERE slug = ?').get(slug);
  if (!row) throw ListingErrors.unknownCategory();
  return row.id;
}

/** Full rows for a page of `seq`s, in that order (the page is chosen on narrow indexes first). */
function rowsBySeq(deps: CoreDeps, seqs: number[]): ListingRow[] {
  if (seqs.length === 0) return [];
  const rows = deps.db.sqlite
    .query<ListingRow, number[]>(`SELECT ${LISTING_COLUMNS} FROM ${LISTING_FROM} WHERE l.seq IN (${seqs.map(() => '?').join(', ')})`)
    .all(...seqs);
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  return seqs.map((seq) => bySeq.get(seq)).filter((r): r is ListingRow => r !== undefined);
}

// A suspended owner's listings are treated as suspended (SPEC §2 Operator). Suspended profiles are
// few: the list is built once per query (an uncorrelated IN list), never looked up per row.
const SUSPENDED_OWNERS = "SELECT id FROM profiles WHERE status = 'suspended'";
// Listings of suspended owners, driven from the (few) suspended profiles through `listings_owner`.
// Pinned: without ANALYZE statistics SQLite would rather walk a status index.
const SUSPENDED_OWNERS_LISTINGS = `profiles o CROSS JOIN listings l INDEXED BY listings_owner ON l.owner_profile_id = o.id`;

/**
 * Active listings matching the query. With `q` and no `sort`, the best matches come first
 * (bm25); otherwise newest first. A `q` with no searchable word matches nothing.
 *
 * The FTS index holds active listings only (migration `listings_search_active`). Totals are exact
 * and counted in two parts — every match, minus the matches of suspended owners (found from the
 * suspended profiles) — so no count visits each matching row for its owner. A sorted page walks
 * that order's index and stops at the page; full rows are read only for the page shown.
 * Measured plans and figures: docs/performance.md, "Listing search".
 */
export function searchListings(deps: CoreDeps, query: SearchQuery): Page<ListingView> {
  const { sqlite } = deps.db;
  const empty = { items: [], total: 0, page: query.page, limit: query.limit };
  const offset = (query.page - 1) * query.limit;
  let match: string | null = null;
  if (query.q !== undefined && query.q.trim() !== '') {
    match = ftsQuery(query.q);
    if (match === null) return empty;
  }

  const where: string[] = ["l.status = 'active'"];
  const params: SQLQueryBindings[] = [];
  if (query.category !== undefined) {
    where.push('l.category_id = ?');
    params.push(categoryId(deps, query.category));
  }
  if (query.pricing_model !== undefined) {
    where.push('l.pricing_model = ?');
    params.push(query.pricing_model);
  }
  // Score filters compare the owner's score (no score counts as 0) through an uncorrelated list
  // of owners, built once per query rather than looked up per listing.
  const atLeast = `l.owner_profile_id IN (SELECT profile_id FROM provider_scores WHERE score >= ?)`;
  const below = `l.owner_profile_id NOT IN (SELECT profile_id FROM provider_scores WHERE score >= ?)`;
  if (query.min_score !== undefined && query.min_score > 0) {
    where.push(atLeast);
    params.push(query.min_score);
  }
  if (query.verified !== undefined) {
    where.push(query.verified ? atLeast : below);
    params.push(VERIFIED_MIN_SCORE);
  }
  const count = (sql: string, ...bind: SQLQueryBindings[]) => sqlite.query<{ n: number }, SQLQueryBindings[]>(sql).get(...bind)?.n ?? 0;
  const seqsOf = (sql: string, ...bind: SQLQueryBindings[]) =>
    sqlite
      .query<{ seq: number }, SQLQueryBindings[]>(sql)
      .all(...bind)
      .map((r) => r.seq);
  // Text with filters visits every match anyway (to rank or sort them), so its page query also
  // counts them (`COUNT(*) OVER ()`): one pass over the matches instead of two. Past the last page it returns no row, and
  // `countAll` counts instead.
  const pageAndTotal = (sql: string, bind: SQLQueryBindings[], countAll: () => number): Page<ListingView> => {
    const rows = sqlite.query<{ seq: number; total: number }, SQLQueryBindings[]>(sql).all(...bind);
    const total = rows[0]?.total ?? countAll();
    return { items: presentListings(deps, rowsBySeq(deps, rows.map((r) => r.seq))), total, page: query.page, limit: query.limit };
  };

  // Matches of suspended owners, checked against the FTS index per listing (by rowid).
  const ftsOfRow = match === null ? '' : ' AND EXISTS (SELECT 1 FROM listings_fts WHERE listings_fts MATCH ? AND rowid = l.seq)';
  const matchParams: SQLQueryBindings[] = match === null ? [] : [match];
  const suspended = count(`SELECT COUNT(*) AS n FROM ${SUSPENDED_OWNERS_LISTINGS} WHERE o.status = 'suspended' AND ${where.join(' AND ')}${ftsOfRow}`, ...params, ...matchParams);

  // Text only, by relevance: count and rank inside the FTS index (it holds active listings only).
  if (match !== null && query.sort === undefined && where.length === 1) {
    // Here the FTS index counts its own matches cheaply (its doclists), faster than a window.
    const total = count('SELECT COUNT(*) AS n FROM listings_fts WHERE listings_fts MATCH ?', match) - suspended;
    if (total <= offset) return { ...empty, total };
    const hidden = suspended === 0 ? '' : ` AND rowid NOT IN (SELECT l.seq FROM ${SUSPENDED_OWNERS_LISTINGS} WHERE o.status = 'suspended')`;
    const seqs = seqsOf(
      `SELECT rowid AS seq FROM listings_fts WHERE listings_fts MATCH ? AND rank MATCH 'bm25(${BM25_WEIGHTS})'${hidden} ORDER BY rank, rowid DESC LIMIT ? OFFSET ?`,
      match,
      query.limit,
      offset,
    );
    return { items: presentListings(deps, rowsBySeq(deps, seqs)), total, page: query.page, limit: query.limit };
  }

  const relevance = match !== null && query.sort === undefined;
  // With text and filters the FTS index drives (each match then costs one seek into the narrow
  // `listings_search_filter`); measured faster than walking a sort index against a built IN list.
  const fts = match === null ? '' : `JOIN (SELECT rowid AS seq${relevance ? `, ${BM25} AS rank` : ''} FROM listings_fts WHERE listings_fts MATCH ?) f ON f.seq = l.seq`;
  // With text, each match costs one seek into the narrow covering `listings_search_filter`, pinned
  // because without statistics SQLite would seek into the wide table rows instead.
  const from = `listings l${match === null ? '' : ' INDEXED BY listings_search_filter'} ${fts} WHERE ${where.join(' AND ')}`;
  const countAll = () => count(`SELECT COUNT(*) AS n FROM ${from}`, ...matchParams, ...params) - suspended;
  const orderBy = relevance ? 'f.rank, l.seq DESC' : ORDER_BY[query.sort ?? 'newest'];
  const visible = suspended === 0 ? '' : ` AND l.owner_profile_id NOT IN (${SUSPENDED_OWNERS})`;
  if (match !== null) {
    return pageAndTotal(`SELECT l.seq, COUNT(*) OVER () AS total FROM ${from}${visible} ORDER BY ${orderBy} LIMIT ? OFFSET ?`, [...matchParams, ...params, query.limit, offset], countAll);
  }
  // Without text a sorted page stops early on its index, so the total is a count of its own.
  const total = countAll();
  if (total <= offset) return { ...empty, total };
  const seqs = seqsOf(`SELECT l.seq FROM ${from}${visible} ORDER BY ${orderBy} LIMIT ? OFFSET ?`, ...matchParams, ...params, query.limit, offset);
  return { items: presentListings(deps, rowsBySeq(deps, seqs)), total, page: query.page, limit: query.limit };
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
