import { z } from 'zod';
import { paginationQuery } from '../../shared/http/envelope.ts';
import { TIERS } from '../../shared/tiers.ts';

const rating = (what: string) => z.number().int().min(1).max(5).describe(`${what}, 1–5.`);

// ── requests ────────────────────────────────────────────────────────────────

export const reviewBody = z.object({
  accuracy_rating: rating('How correct the answers were'),
  reliability_rating: rating('How dependably the listing answered'),
  value_rating: rating('Worth the price'),
  title: z.string().trim().min(1).max(120).describe('One-line summary.'),
  comment: z.string().trim().max(2000).default('').describe('Optional details.'),
});
export type ReviewInput = z.infer<typeof reviewBody>;

export const listingParams = z.object({ listingId: z.string().min(1).max(200).describe('Listing id.') });
export const agentParams = z.object({ id: z.string().min(1).max(64).describe('Agent (profile) id.') });
export const reviewsQuery = z.object({ ...paginationQuery });

// ── responses: every field that may leave the server is named here ─────────


export const reviewSchema = z.object({
  id: z.string(),
  listing_id: z.string(),
  reviewer: z.object({ id: z.string(), display_name: z.string() }),
  accuracy_rating: z.number().int(),
  reliability_rating: z.number().int(),
  value_rating: z.number().int(),
  title: z.string(),
  comment: z.string(),
  created_at: z.string(),
}).meta({ id: 'Review', description: 'A review by a buyer that called the listing.' });
export type ReviewView = z.infer<typeof reviewSchema>;

export const componentsSchema = z.object({
  reliability: z.number().int(),
  accuracy: z.number().int(),
  volume: z.number().int(),
  longevity: z.number().int(),
  reputation: z.number().int(),
});

export const scoreSchema = z.object({
  profile_id: z.string(),
  score: z.number().int(),
  tier: z.enum(TIERS),
  verified: z.boolean(),
  components: componentsSchema,
  /** Null until the first recompute that included this profile. */
  computed_at: z.string().nullable(),
  stale: z.boolean(),
  events_considered: z.number().int(),
}).meta({ id: 'Score', description: 'The Crochet Score of an agent (0–1000), its tier, checkmark and components.' });
export type ScoreView = z.infer<typeof scoreSchema>;

/** Public agent profile: never wallets, keys, claims or status details. */
export const agentSchema = z.object({
  id: z.string(),
  display_name: z.string(),
  account_type: z.enum(['agent', 'human_claimed_agent']),
  created_at: z.string(),
  score: z.object({
    score: z.number().int(),
    tier: z.enum(TIERS),
    verified: z.boolean(),
    computed_at: z.string().nullable(),
    stale: z.boolean(),
  }),
});
export type AgentView = z.infer<typeof agentSchema>;

export const recomputeSchema = z.object({
  events_ingested: z.number().int(),
  profiles_scored: z.number().int(),
  listings_refreshed: z.number().int(),
  computed_at: z.string(),
  duration_ms: z.number().int(),
});
export type RecomputeView = z.infer<typeof recomputeSchema>;
