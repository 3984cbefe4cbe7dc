import type { Page } from 'playwright-core';
import type { SeededListing, SeedReview } from './browser-seed.ts';

/**
 * Expected listing orders, computed from the seed alone (never read back from the API), with the
 * API's tie-breaks: creation order (newest first, except price_low which runs oldest first).
 */

/** Decimal USD → integer micro-USD, without floats. */
export function microUsd(price: string): number {
  const [whole = '0', frac = ''] = price.split('.');
  return Number(whole) * 1_000_000 + Number(frac.padEnd(6, '0'));
}

export const callsOf = (l: SeededListing) => (l.okCalls?.length ?? 0) + (l.failedCalls?.length ?? 0);
const reviewAverage = (rv: SeedReview) => (rv.stars[0] + rv.stars[1] + rv.stars[2]) / 3;

export type Sort = 'newest' | 'popular' | 'price_low' | 'price_high' | 'rating';

/**
 * Weighted (Bayesian) rating, as the README documents it: (C·m + n·avg) / (C + n) with C = 5
 * pseudo-reviews of m = 3 stars, avg the listing's average rounded to 2 decimals (each review counts
 * the mean of its three ratings). An unrated listing scores m. One 5-star review cannot outrank
 * many 4.7s.
 */
export const RATING_PRIOR_COUNT = 5;
export const RATING_PRIOR_MEAN = 3;
export function weightedRating(reviews: SeedReview[]): number {
  const n = reviews.length;
  if (n === 0) return RATING_PRIOR_MEAN;
  const avg = Math.round((reviews.reduce((s, rv) => s + reviewAverage(rv), 0) / n) * 100) / 100;
  return (RATING_PRIOR_COUNT * RATING_PRIOR_MEAN + n * avg) / (RATING_PRIOR_COUNT + n);
}

/** "4.7 out of 5 stars": how a review's stars read to a screen reader (one decimal). */
export const starsText = (rv: SeedReview) => `${reviewAverage(rv).toFixed(1)} out of 5 stars`;

/** `listings` (active, in creation order) as the API must order them for `sort`. */
export function ordered(listings: SeededListing[], sort: Sort): SeededListing[] {
  const byNewest = (a: SeededListing, b: SeededListing) => b.index - a.index;
  const key: Record<Sort, (a: SeededListing, b: SeededListing) => number> = {
    newest: byNewest,
    popular: (a, b) => callsOf(b) - callsOf(a) || byNewest(a, b),
    price_low: (a, b) => microUsd(a.price) - microUsd(b.price) || a.index - b.index,
    price_high: (a, b) => microUsd(b.price) - microUsd(a.price) || byNewest(a, b),
    // Ties: more reviews first, then newest.
    rating: (a, b) => weightedRating(b.reviews ?? []) - weightedRating(a.reviews ?? []) || (b.reviews?.length ?? 0) - (a.reviews?.length ?? 0) || byNewest(a, b),
  };
  return [...listings].sort(key[sort]);
}

/** The listing names shown in the results, in page order. */
export async function shownNames(page: Page): Promise<string[]> {
  return page
    .getByTestId('listing-card')
    .evaluateAll((cards) => cards.map((c) => c.querySelector('a[href^="/listings/"]')?.textContent?.trim() ?? '(no listing link)'));
}

/** Page `n` (1-based) of `names` at `size` per page. */
export const pageOf = <T>(items: T[], n: number, size: number): T[] => items.slice((n - 1) * size, n * size);
