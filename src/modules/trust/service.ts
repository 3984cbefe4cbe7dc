/**
 * Trust: purchase-gated reviews and the Crochet Score. Framework-free; handlers call these.
 * Scores are read from snapshots written by `recomputeScores` (schedule, CLI, internal route).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import * as Gateway from '../gateway/service.ts';
import * as Identity from '../identity/service.ts';
import { TrustErrors } from './errors.ts';
import { classify } from './formula.ts';
import type { AgentView, ScoreView } from './model.ts';
import type { ScoreSnapshot } from './schema.ts';

export { classify, computeScore, type ScoreInputs, type ScoreResult } from './formula.ts';
export { recomputeScores, type RecomputeResult } from './recompute.ts';
export { listReviews, listReviewsReceived, postReview, REVIEW_WINDOW_DAYS } from './reviews.ts';
export type { AgentView, ReviewView, ScoreView } from './model.ts';
export { WEIGHTS_PERCENT } from './formula.ts';

/** What the trust services need: the core, and the gateway history writer (readers flush it first). */
export type TrustServiceDeps = Gateway.HistoryReadDeps;

/** The in-process schedule recomputes this often while the server listens. */
export const RECOMPUTE_INTERVAL_MS = 5 * 60_000;
/** A snapshot older than three missed runs is reported `stale`. */
export const STALE_AFTER_MS = 3 * RECOMPUTE_INTERVAL_MS;

function snapshotOf(deps: CoreDeps, profileId: string): ScoreSnapshot | null {
  return (
    deps.db.sqlite
      .query<ScoreSnapshot, [string]>(
        `SELECT profile_id AS profileId, score, reliability, accuracy, volume, longevity, reputation, tier, verified,
           events_considered AS eventsConsidered, inputs_hash AS inputsHash, computed_at AS computedAt
         FROM score_snapshots WHERE profile_id = ?`,
      )
      .get(profileId) ?? null
  );
}

/** Public agents only: humans are not agents, and a missing profile is the same 404. */
function requireAgent(deps: CoreDeps, id: string) {
  const profile = Identity.getProfile(deps, id);
  if (!profile || profile.accountType === 'human') throw TrustErrors.agentNotFound();
  return profile as typeof profile & { accountType: 'agent' | 'human_claimed_agent' };
}

/**
 * A profile's score from its snapshot. Without one (no recompute has seen it yet) the answer is
 * the honest 0 that listing search also uses, with `stale: true` and `computed_at: null`.
 */
export function getScore(deps: CoreDeps, profileId: string): ScoreView {
  requireAgent(deps, profileId);
  const s = snapshotOf(deps, profileId);
  if (!s) {
    return {
      profile_id: profileId, score: 0, ...classify(0),
      components: { reliability: 0, accuracy: 0, volume: 0, longevity: 0, reputation: 0 },
      computed_at: null, stale: true, events_considered: 0,
    };
  }
  // Tier and checkmark are derived again from the score, so they can never disagree with it.
  return {
    profile_id: s.profileId, score: s.score, ...classify(s.score),
    components: { reliability: s.reliability, accuracy: s.accuracy, volume: s.volume, longevity: s.longevity, reputation: s.reputation },
    computed_at: s.computedAt,
    stale: deps.clock.now().getTime() - Date.parse(s.computedAt) > STALE_AFTER_MS,
    events_considered: s.eventsConsidered,
  };
}

/** Public profile of an agent with its score summary; nothing about wallets, keys or claims. */
export function getAgent(deps: CoreDeps, id: string): AgentView {
  const profile = requireAgent(deps, id);
  const score = getScore(deps, id);
  return {
    id: profile.id,
    display_name: profile.displayName,
    account_type: profile.accountType,
    created_at: profile.createdAt,
    score: { score: score.score, tier: score.tier, verified: score.verified, computed_at: score.computed_at, stale: score.stale },
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Guards `POST /internal/recompute-scores`: 404 (as for an unknown route) when no cron secret is
 * configured; 401 unless `Authorization: Bearer <secret>` matches. Hashing both sides first gives
 * equal-length buffers, so the comparison is constant-time whatever was sent.
 */
export function assertCronSecret(deps: CoreDeps, authorization: string | null): void {
  const secret = deps.config.cron_secret;
  if (!secret) throw CommonErrors.routeNotFound();
  const match = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
  const given = match?.[1] ?? '';
  if (!timingSafeEqual(digest(given), digest(secret)) || given.length === 0) throw TrustErrors.cronSecretInvalid();
}
