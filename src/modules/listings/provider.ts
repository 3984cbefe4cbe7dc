/**
 * Provider trust summary shown on listings. The score itself belongs to the trust module; listing
 * search reads it through the `provider_scores` view, which the trust module defines over its
 * score snapshots. A provider without a snapshot honestly scores 0: tier `low`, not verified.
 */
import type { CoreDeps } from '../../shared/deps.ts';
import { classify, type Tier } from '../../shared/tiers.ts';

export { tierOf, VERIFIED_MIN_SCORE } from '../../shared/tiers.ts';

export type ProviderScore = { score: number; tier: Tier; verified: boolean };

export function scoreSummary(score: number): ProviderScore {
  return { score, ...classify(score) };
}

/** A profile's current provider score (0 when it has none). */
export function providerScore(deps: CoreDeps, profileId: string): ProviderScore {
  const row = deps.db.sqlite
    .query<{ score: number }, [string]>('SELECT score FROM provider_scores WHERE profile_id = ? LIMIT 1')
    .get(profileId);
  return scoreSummary(row?.score ?? 0);
}
