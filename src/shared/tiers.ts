/** SPEC §6 Crochet Score tiers, in ascending order. */
export const TIERS = ['low', 'moderate', 'trusted', 'elite', 'exceptional'] as const;
export type Tier = (typeof TIERS)[number];

/** The verified checkmark needs a score of at least 800. */
export const VERIFIED_MIN_SCORE = 800;

/** SPEC §6 tier bands: low 0–399, moderate 400–699, trusted 700–799, elite 800–899, exceptional 900–1000. */
export function tierOf(score: number): Tier {
  if (score >= 900) return 'exceptional';
  if (score >= 800) return 'elite';
  if (score >= 700) return 'trusted';
  if (score >= 400) return 'moderate';
  return 'low';
}

/** Tier and checkmark of a score, derived together so they never disagree. */
export function classify(score: number): { tier: Tier; verified: boolean } {
  return { tier: tierOf(score), verified: score >= VERIFIED_MIN_SCORE };
}
