/**
 * One recompute: ingest new gateway outcomes and endpoint tests, score every profile with
 * evidence, write the snapshots, refresh the listings' usage stats and ratings. Deterministic: the
 * same events at the same time give the same snapshots, whatever ran before (reviewer weights come
 * from this run's own first pass, never from older snapshots).
 */
import { createHash } from 'node:crypto';
import { immediate } from '../../db/tx.ts';
import * as Gateway from '../gateway/service.ts';
import * as Listings from '../listings/service.ts';
import { gatherEvidence, type ProfileEvidence } from './evidence.ts';
import { computeScore, type ScoreInputs, type ScoreResult } from './formula.ts';
import { ingestEndpointTests, ingestGatewayOutcomes } from './ingest.ts';
import { refreshAllListingRatings } from './reviews.ts';

const WRITE_BATCH = 200;
const DAY_MS = 86_400_000;
/** Usage stats report the median latency of the last 30 days. */
const LATENCY_WINDOW_DAYS = 30;

export type RecomputeResult = {
  events_ingested: number;
  profiles_scored: number;
  listings_refreshed: number;
  computed_at: string;
  duration_ms: number;
};

const inputsOf = (e: ProfileEvidence, reviewerScore: (id: string) => number): ScoreInputs => ({
  profileCreatedAt: e.profileCreatedAt,
  sellerCalls: e.sellerCalls,
  endpointTests: e.endpointTests,
  purchases: e.purchases,
  reviews: e.reviews.map(({ reviewerId, ...r }) => ({ ...r, reviewerScore: reviewerScore(reviewerId) })),
});

/**
 * Two passes: first every profile with reviewer weights at their floor (reviewer score 0), then
 * again with each reviewer's first-pass score. One level of indirection keeps it cheap and free
 * of feedback loops between profiles that review each other.
 */
export function scoreAll(evidence: Map<string, ProfileEvidence>, now: Date): Map<string, { result: ScoreResult; inputs: ScoreInputs }> {
  const base = new Map<string, number>();
  for (const [id, e] of evidence) base.set(id, computeScore(inputsOf(e, () => 0), now).score);
  const out = new Map<string, { result: ScoreResult; inputs: ScoreInputs }>();
  for (const [id, e] of evidence) {
    const inputs = inputsOf(e, (reviewerId) => base.get(reviewerId) ?? 0);
    out.set(id, { result: computeScore(inputs, now), inputs });
  }
  return out;
}

const hashInputs = (inputs: ScoreInputs) => createHash('sha256').update(JSON.stringify(inputs)).digest('hex');

/** Runs a full recompute (see the file comment). Synchronous; each batch of writes is one short transaction. */
export function recomputeScores(deps: Gateway.HistoryReadDeps): RecomputeResult {
  const started = performance.now();
  const now = deps.clock.now();
  const computedAt = now.toISOString();
  const { inserted, listingIds } = ingestGatewayOutcomes(deps);
  // Endpoint tests change no usage stats (they are not calls), only evidence.
  const insertedTests = ingestEndpointTests(deps);
  const evidence = gatherEvidence(deps);
  const scored = [...scoreAll(evidence, now)];

  const upsert = deps.db.sqlite.query(
    `INSERT INTO score_snapshots (profile_id, score, reliability, accuracy, volume, longevity, reputation, tier, verified, events_considered, inputs_hash, computed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (profile_id) DO UPDATE SET score = excluded.score, reliability = excluded.reliability, accuracy = excluded.accuracy,
       volume = excluded.volume, longevity = excluded.longevity, reputation = excluded.reputation, tier = excluded.tier,
       verified = excluded.verified, events_considered = excluded.events_considered, inputs_hash = excluded.inputs_hash,
       computed_at = excluded.computed_at`,
  );
  for (let i = 0; i < scored.length; i += WRITE_BATCH) {
    const batch = scored.slice(i, i + WRITE_BATCH);
    immediate(deps.db.sqlite, () => {
      for (const [id, { result, inputs }] of batch) {
        const c = result.components;
        upsert.run(id, result.score, c.reliability, c.accuracy, c.volume, c.longevity, c.reputation, result.tier,
          result.verified ? 1 : 0, evidence.get(id)?.eventsConsidered ?? 0, hashInputs(inputs), computedAt);
      }
    });
  }

  const latencySince = new Date(now.getTime() - LATENCY_WINDOW_DAYS * DAY_MS).toISOString();
  // One read per seller, whatever the number of its listings that had calls.
  const bySeller = new Map<string, string[]>();
  for (const id of [...listingIds].sort()) {
    const owner = Listings.reviewTarget(deps, id)?.ownerProfileId;
    if (owner !== undefined) bySeller.set(owner, [...(bySeller.get(owner) ?? []), id]);
  }
  const none: Gateway.ListingUsage = { callsTotal: 0, callsSucceeded: 0, p50LatencyMs: null };
  const usage = [...bySeller].flatMap(([sellerId, ids]) => {
    const ofSeller = Gateway.sellerListingsUsage(deps, sellerId, latencySince);
    return ids.map((id) => [id, ofSeller.get(id) ?? none] as const);
  });
  immediate(deps.db.sqlite, () => {
    for (const [id, u] of usage) Listings.setListingUsage(deps, id, u);
  });
  const rated = refreshAllListingRatings(deps);

  return {
    events_ingested: inserted + insertedTests,
    profiles_scored: scored.length,
    listings_refreshed: new Set([...listingIds, ...rated]).size,
    computed_at: computedAt,
    duration_ms: Math.round(performance.now() - started),
  };
}
