/**
 * The Crochet Score: a pure function from a profile's evidence to a score 0–1000, its five
 * components, tier and checkmark. `docs/crochet-score.md` explains every constant below and works
 * one example through; `test/unit/crochet-score.test.ts` asserts that example's numbers.
 *
 * Design: trust is earned. Every component starts at 0 and grows only with evidence, so a new
 * profile scores 0 like a profile with no snapshot, and no failure, timeout or poor review can
 * ever raise a score. Self-dealing evidence is marked `discounted` by whoever builds the inputs
 * and never adds credit here.
 */
import { classify, type Tier } from '../../shared/tiers.ts';

export type { Tier } from '../../shared/tiers.ts';
export { classify };
export type SellerOutcome = 'completed' | 'rejected' | 'failed' | 'timeout';

export type ScoreInputs = {
  /** When the profile was created (tenure). */
  profileCreatedAt: string;
  /** Calls this profile answered as seller, grouped; `paid` when the buyer paid for them. */
  sellerCalls: { outcome: SellerOutcome; paid: boolean; discounted: boolean; count: number; at: string }[];
  /** Endpoint tests this profile ran on its listings, grouped; `listingActive` when buyers could call the listing then. */
  endpointTests: { ok: boolean; listingActive: boolean; count: number; at: string }[];
  /** Completed paid calls this profile made as buyer. */
  purchases: { discounted: boolean; count: number; at: string }[];
  /** Reviews of this profile's listings; ratings 1–5; `reviewerScore` is the reviewer's own score 0–1000. */
  reviews: { accuracy: number; reliability: number; value: number; reviewerScore: number; discounted: boolean; at: string }[];
};

export type Components = { reliability: number; accuracy: number; volume: number; longevity: number; reputation: number };
export type ScoreResult = { score: number; components: Components; tier: Tier; verified: boolean };

/** Component weights in percent; they sum to 100. Integers, so the final sum is exact. */
export const WEIGHTS_PERCENT: Readonly<Components> = { reliability: 30, volume: 20, accuracy: 15, reputation: 20, longevity: 15 };
/** Evidence loses half its weight every 90 days… */
export const RECENCY_HALF_LIFE_DAYS = 90;
/** …and counts not at all after a year. */
export const EVENT_HORIZON_DAYS = 365;
/** Pseudo-failures every seller starts with: reliability is earned call by call (1 success → 167). */
export const RELIABILITY_PRIOR_CALLS = 5;
/** A seller failure (5xx, bad reply, unreachable) costs as much as two successes earn. */
export const FAILURE_PENALTY = 2;
/** A timeout costs three: the buyer waited the whole timeout for nothing. */
export const TIMEOUT_PENALTY = 3;
/** Volume weight of a paid call answered 2xx, of a free one, and of a paid call made as buyer. */
export const PAID_CALL_VOLUME = 1;
export const FREE_CALL_VOLUME = 0.5;
export const PURCHASE_VOLUME = 0.5;
/** Weighted calls at which volume reaches 1000; growth is logarithmic (diminishing returns). */
export const VOLUME_SATURATION = 10_000;
/** Pseudo-weight of review evidence every profile starts with (pulls few reviews toward 0). */
export const REVIEW_PRIOR_WEIGHT = 1;
/** A review weighs 0.5 from a reviewer scoring 0, up to 1 from a reviewer scoring 1000. */
export const REVIEWER_BASE_WEIGHT = 0.5;
/** Tenure at which longevity reaches 1000 (linear before). */
export const TENURE_FULL_DAYS = 365;

const DAY_MS = 86_400_000;
const MAX = 1000;

/** Recency weight of evidence dated `at`: 1 now (or in the future), ½ after the half-life, 0 past the horizon. */
export function recencyWeight(at: string, now: Date): number {
  const ageDays = Math.max(0, (now.getTime() - Date.parse(at)) / DAY_MS);
  if (ageDays > EVENT_HORIZON_DAYS) return 0;
  return 0.5 ** (ageDays / RECENCY_HALF_LIFE_DAYS);
}

/** Rating 1–5 → 0–1. */
const unit = (rating: number) => (rating - 1) / 4;

/**
 * Computes the score at `now`.
 *
 * @example computeScore({ profileCreatedAt: now.toISOString(), sellerCalls: [], endpointTests: [], purchases: [], reviews: [] }, now)
 *   // → { score: 0, components: { reliability: 0, accuracy: 0, volume: 0, longevity: 0, reputation: 0 }, tier: 'low', verified: false }
 */
export function computeScore(inputs: ScoreInputs, now: Date): ScoreResult {
  let successes = 0;
  let failures = 0;
  let timeouts = 0;
  let volume = 0;
  for (const c of inputs.sellerCalls) {
    const w = recencyWeight(c.at, now) * c.count;
    if (c.outcome === 'failed') failures += w;
    else if (c.outcome === 'timeout') timeouts += w;
    else if (!c.discounted) {
      // A 4xx is the seller answering correctly (often the buyer's mistake): reliable, not volume.
      successes += w;
      if (c.outcome === 'completed') volume += w * (c.paid ? PAID_CALL_VOLUME : FREE_CALL_VOLUME);
    }
  }
  for (const t of inputs.endpointTests) {
    // A pass is not evidence (the owner can run tests at will, so passes could be farmed), nor is a
    // failure while setting up (draft, paused, archived). A failure while the listing is active is
    // one a buyer would have met right then: it counts as one seller failure.
    if (!t.ok && t.listingActive) failures += recencyWeight(t.at, now) * t.count;
  }
  for (const p of inputs.purchases) {
    if (!p.discounted) volume += recencyWeight(p.at, now) * p.count * PURCHASE_VOLUME;
  }

  let reviewWeight = 0;
  let accuracySum = 0;
  let reputationSum = 0;
  for (const r of inputs.reviews) {
    if (r.discounted) continue;
    const reviewer = Math.min(MAX, Math.max(0, r.reviewerScore)) / MAX;
    const w = recencyWeight(r.at, now) * (REVIEWER_BASE_WEIGHT + (1 - REVIEWER_BASE_WEIGHT) * reviewer);
    reviewWeight += w;
    accuracySum += w * unit(r.accuracy);
    reputationSum += w * unit((r.reliability + r.value) / 2);
  }

  const tenureDays = Math.max(0, (now.getTime() - Date.parse(inputs.profileCreatedAt)) / DAY_MS);
  const components: Components = {
    reliability: Math.round((MAX * successes) / (successes + FAILURE_PENALTY * failures + TIMEOUT_PENALTY * timeouts + RELIABILITY_PRIOR_CALLS)),
    volume: Math.round(MAX * Math.min(1, Math.log1p(volume) / Math.log1p(VOLUME_SATURATION))),
    accuracy: Math.round((MAX * accuracySum) / (reviewWeight + REVIEW_PRIOR_WEIGHT)),
    reputation: Math.round((MAX * reputationSum) / (reviewWeight + REVIEW_PRIOR_WEIGHT)),
    longevity: Math.round(MAX * Math.min(1, tenureDays / TENURE_FULL_DAYS)),
  };
  // The score is built from the rounded components, so anyone can check it from the API's numbers.
  const weighted = (Object.keys(WEIGHTS_PERCENT) as (keyof Components)[]).reduce((sum, k) => sum + WEIGHTS_PERCENT[k] * components[k], 0);
  // Half a point rounds up (686.5 → 687).
  const score = Math.min(MAX, Math.max(0, Math.round(weighted / 100)));
  return { score, components, ...classify(score) };
}
