/**
 * Listing proof of work (SPEC §3): publishing costs a little CPU, so a flood of listings costs a
 * lot. A puzzle is bound to the caller's profile, expires, and is consumed by the listing it paid for.
 */
import { desc, eq, lt } from 'drizzle-orm';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { newId } from '../../shared/ids.ts';
import { checkPow, newPowChallenge } from '../../shared/pow.ts';
import { ListingErrors } from './errors.ts';
import { listingChallenges, type ListingChallenge } from './schema.ts';

// How many of the caller's latest puzzles a pow_nonce is tried against.
const CHALLENGES_CONSIDERED = 20;
const PRUNE_AFTER_MS = 86_400_000;

/** A new puzzle for the caller. */
export function createListingChallenge(deps: CoreDeps, profileId: string) {
  const now = deps.clock.now();
  const expiresAt = iso(new Date(now.getTime() + deps.config.challenge_ttl_seconds * 1000));
  const row: ListingChallenge = {
    id: newId(),
    profileId,
    challenge: newPowChallenge(),
    difficulty: deps.config.pow_difficulty.listing,
    expiresAt,
    consumedAt: null,
    createdAt: iso(now),
  };
  const { db } = deps.db;
  db.delete(listingChallenges).where(lt(listingChallenges.expiresAt, iso(new Date(now.getTime() - PRUNE_AFTER_MS)))).run();
  db.insert(listingChallenges).values(row).run();
  return { pow: { algorithm: 'sha256' as const, challenge: row.challenge, difficulty: row.difficulty, expires_at: expiresAt } };
}

/**
 * The caller's open puzzle that `powNonce` solves, not yet consumed (consume it in the transaction
 * that creates the listing). When none is open, the newest puzzle it solves says why: used or expired.
 */
export function findSolvedChallenge(deps: CoreDeps, profileId: string, powNonce: string): ListingChallenge {
  const now = iso(deps.clock.now());
  const recent = deps.db.db
    .select()
    .from(listingChallenges)
    .where(eq(listingChallenges.profileId, profileId))
    .orderBy(desc(listingChallenges.createdAt), desc(listingChallenges.id))
    .limit(CHALLENGES_CONSIDERED)
    .all();
  const isOpen = (c: ListingChallenge) => c.consumedAt === null && c.expiresAt > now;
  const solved = recent.filter((c) => checkPow(c.challenge, c.difficulty, powNonce));
  const open = solved.find(isOpen);
  if (open) return open;
  const newest = solved[0];
  if (newest?.consumedAt) throw ListingErrors.challengeUsed();
  if (newest) throw ListingErrors.challengeExpired();
  if (!recent.some(isOpen)) throw ListingErrors.challengeNotFound();
  throw ListingErrors.powInvalid();
}

/** Marks the puzzle used; call inside the creating transaction. Throws when a concurrent use won. */
export function consumeListingChallenge(deps: CoreDeps, challengeId: string): void {
  const result = deps.db.sqlite
    .query('UPDATE listing_challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL')
    .run(iso(deps.clock.now()), challengeId);
  if (result.changes !== 1) throw ListingErrors.challengeUsed();
}
