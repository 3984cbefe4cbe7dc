import type { Database } from 'bun:sqlite';
import { randomHex } from '../../shared/ids.ts';

const MAX_SLUG_CHARS = 60;
// A slug shaped like a row id could shadow another listing's id in `GET /listings/:idOrSlug`.
const UUID_LIKE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** URL-safe ASCII slug of a listing name: "Météo API v2!" → "meteo-api-v2". */
export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, MAX_SLUG_CHARS)
    .replace(/-+$/, '');
  const slug = base === '' ? 'listing' : base;
  return UUID_LIKE.test(slug) ? `l-${slug}` : slug;
}

/** The slug itself if free, else `slug-2`, `slug-3`, … (then a random suffix). Call inside the inserting transaction. */
export function uniqueSlug(sqlite: Database, slug: string): string {
  const taken = sqlite.query<{ one: number }, [string]>('SELECT 1 AS one FROM listings WHERE slug = ?');
  if (!taken.get(slug)) return slug;
  for (let n = 2; n <= 20; n++) {
    const candidate = `${slug}-${n}`;
    if (!taken.get(candidate)) return candidate;
  }
  return `${slug}-${randomHex(4)}`;
}
