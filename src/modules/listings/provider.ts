/**
 * Provider trust summary shown on listings. The score itself belongs to the trust module; listing
 * search reads it through the `provider_scores` view (migration `listings_search`), which that
 * module redefines over its score snapshots. Until then the view is empty and every provider
 * honestly scores 0: tier `low`, not verified.
 */
import type { CoreDeps } from '../../shared/deps.ts';
import type { TIERS } from './model.ts';

export type Tier = (typeof TIERS)[number];

/** SPEC §6: the checkmark needs a score of at least 800. */
export const VERIFIED_MIN_SCORE = 800;

/** SPEC §6 tier bands. */
export function tierOf(score: number): Tier {
  if (score >= 900) return 'exceptional';
  if (score >= 800) return 'elite';
  if (score >= 700) return 'trusted';
  if (score >= 400) return 'moderate';
  return 'low';
}

export type ProviderScore = { score: number; tier: Tier; verified: boolean };

export function scoreSummary(score: number): ProviderScore {
  return { score, tier: tierOf(score), verified: score >= VERIFIED_MIN_SCORE };
}

/** A profile's current provider score (0 when it has none). */
export function providerScore(deps: CoreDeps, profileId: string): ProviderScore {
  const row = deps.db.sqlite
    .query<{ score: number }, [string]>('SELECT score FROM provider_scores WHERE profile_id = ? LIMIT 1')
    .get(profileId);
  return scoreSummary(row?.score ?? 0);
}
