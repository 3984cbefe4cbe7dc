// The x402 claims table: a payment authorization is claimed here before it is broadcast, so that
// whatever number of retries and processes present it, it is sent at most once and pays one call.
import { and, eq, ne } from 'drizzle-orm';
import type { CoreDeps } from '../../shared/deps.ts';
import { type ClaimState, type X402Claim, x402Claims } from './schema.ts';

/** The claim already recorded for this payload or idempotency key, if any. */
export function findClaim(deps: CoreDeps, args: { payloadSha256: string; buyerId: string; paymentId: string | null; claimKey?: string; intentId?: string }): X402Claim | undefined {
  const { db } = deps.db;
  if (args.intentId) {
    const live = db.select().from(x402Claims).where(and(eq(x402Claims.intentId, args.intentId), ne(x402Claims.state, 'failed'))).get();
    if (live) return live;
  }
  if (args.claimKey) {
    const byKey = db.select().from(x402Claims).where(eq(x402Claims.claimKey, args.claimKey)).get();
    if (byKey) return byKey;
  }
  const byPayload = db.select().from(x402Claims).where(eq(x402Claims.payloadSha256, args.payloadSha256)).get();
  if (byPayload) return byPayload;
  if (args.paymentId === null) return undefined;
  return db.select().from(x402Claims).where(and(eq(x402Claims.buyerId, args.buyerId), eq(x402Claims.paymentId, args.paymentId))).get();
}

export type NewClaim = Pick<X402Claim, 'claimKey' | 'intentId' | 'buyerId' | 'network' | 'payer' | 'payloadSha256' | 'paymentId'>;

/**
 * Takes the claim: inserts it, or takes over a `failed` one (nothing was sent for it). True when
 * this caller now holds it; false when another request did first (the caller resumes that claim).
 */
export function takeClaim(deps: CoreDeps, claim: NewClaim): boolean {
  const now = deps.clock.now().toISOString();
  const inserted = deps.db.sqlite
    .query(
      `INSERT INTO x402_claims (claim_key, intent_id, buyer_id, network, payer, payload_sha256, payment_id, state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'claimed', ?, ?) ON CONFLICT DO NOTHING`,
    )
    .run(claim.claimKey, claim.intentId, claim.buyerId, claim.network, claim.payer, claim.payloadSha256, claim.paymentId, now, now).changes;
  if (inserted === 1) return true;
  // A failed claim of the same authorization and intent may be taken again (the chain's own nonce
  // check still stops a second transfer if the first send did go out after all).
  try {
    return deps.db.sqlite
      .query("UPDATE x402_claims SET state = 'claimed', error_reason = NULL, updated_at = ? WHERE claim_key = ? AND intent_id = ? AND state = 'failed'")
      .run(now, claim.claimKey, claim.intentId).changes === 1;
  } catch (error) {
    // Another authorization of this intent went live meanwhile (the one-live-claim index).
    if (error instanceof Error && error.message.includes('UNIQUE')) return false;
    throw error;
  }
}

/** Moves a claim on (claimed → sent with its transaction, → settled, → failed with a reason). */
export function markClaim(deps: CoreDeps, claimKey: string, state: ClaimState, fields: { transaction?: string; errorReason?: string } = {}): void {
  deps.db.db
    .update(x402Claims)
    .set({ state, updatedAt: deps.clock.now().toISOString(), ...(fields.transaction ? { transaction: fields.transaction } : {}), ...(fields.errorReason ? { errorReason: fields.errorReason.slice(0, 200) } : {}) })
    .where(eq(x402Claims.claimKey, claimKey))
    .run();
}
