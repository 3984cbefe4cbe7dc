import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { PowPurpose } from '../../config.ts';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { newId, randomToken } from '../../shared/ids.ts';
import { checkPow, newPowChallenge } from '../../shared/pow.ts';
import { IdentityErrors } from './errors.ts';
import { authChallenges, type AuthChallenge, wallets } from './schema.ts';
import { buildSignInMessage, PURPOSE_STATEMENTS } from './sign-in-message.ts';
import { verifyWalletSignature } from './signature.ts';
import { isEvmNetwork, parseWalletAddress, type ParsedAddress } from '../../shared/wallet-address.ts';

export type ChallengePurpose = 'register' | 'recover' | 'link_wallet' | 'claim_agent';
const MAX_FAILED_ATTEMPTS = 5;
const NEEDS_POW: ReadonlySet<ChallengePurpose> = new Set(['register', 'recover']);

export function requireAddress(raw: string): ParsedAddress {
  const parsed = parseWalletAddress(raw);
  if (!parsed) throw IdentityErrors.malformedAddress();
  return parsed;
}

function chainIdFor(deps: CoreDeps, chain: 'evm' | 'solana'): string {
  const routes = deps.config.payment_routes;
  if (chain === 'evm') return routes.find((r) => isEvmNetwork(r.network))?.network.slice('eip155:'.length) ?? '1';
  return routes.find((r) => r.network.startsWith('solana:'))?.network ?? 'mainnet';
}

/** Issues a sign-in challenge with its proof-of-work puzzle. */
export function createChallenge(
  deps: CoreDeps,
  input: { wallet_address: string; purpose: ChallengePurpose; profile_id?: string | null; requested_by?: string | null },
) {
  const addr = requireAddress(input.wallet_address);
  const { db } = deps.db;
  if (input.purpose === 'recover') {
    const owner = db.select({ id: wallets.id }).from(wallets)
      .where(and(eq(wallets.chain, addr.chain), eq(wallets.addressKey, addr.key))).get();
    if (!owner) throw IdentityErrors.walletNotRegistered();
  }
  const now = deps.clock.now();
  const expires = new Date(now.getTime() + deps.config.challenge_ttl_seconds * 1000);
  // SIWE nonces are alphanumeric; base64url minus '-'/'_' keeps ≥ 128 bits.
  const nonce = randomToken(24).replace(/[-_]/g, '').slice(0, 32);
  const difficulty = deps.config.pow_difficulty[input.purpose as PowPurpose];
  const row: AuthChallenge = {
    id: newId(),
    nonce,
    purpose: input.purpose,
    chain: addr.chain,
    addressKey: addr.key,
    profileId: input.profile_id ?? null,
    requestedBy: input.requested_by ?? null,
    message: buildSignInMessage({
      chain: addr.chain,
      publicUrl: deps.config.public_url,
      address: addr.address,
      statement: PURPOSE_STATEMENTS[input.purpose],
      nonce,
      issuedAt: iso(now),
      expiresAt: iso(expires),
      chainId: chainIdFor(deps, addr.chain),
    }),
    powChallenge: newPowChallenge(),
    powDifficulty: difficulty,
    expiresAt: iso(expires),
    failedAttempts: 0,
    consumedAt: null,
    createdAt: iso(now),
  };
  // Old challenges are useless after expiry: prune them as new ones are made.
  db.delete(authChallenges).where(lt(authChallenges.expiresAt, iso(new Date(now.getTime() - 86_400_000)))).run();
  db.insert(authChallenges).values(row).run();
  return {
    nonce,
    message: row.message,
    expires_at: row.expiresAt,
    pow: { algorithm: 'sha256' as const, challenge: row.powChallenge, difficulty, expires_at: row.expiresAt },
    pow_required: NEEDS_POW.has(input.purpose),
  };
}

export type ChallengeProof = { wallet_address: string; nonce: string; signature: string; pow_nonce?: string; message?: string };

/**
 * Checks a signed answer to a challenge without consuming it; returns the challenge to consume in
 * the caller's transaction. Each failure after the challenge is found counts toward its retirement.
 */
export async function verifyChallengeProof(
  deps: CoreDeps,
  proof: ChallengeProof,
  expect: { purpose: ChallengePurpose; profileId?: string; requestedBy?: string },
): Promise<{ challenge: AuthChallenge; address: ParsedAddress }> {
  const addr = requireAddress(proof.wallet_address);
  const { db } = deps.db;
  const challenge = db.select().from(authChallenges).where(eq(authChallenges.nonce, proof.nonce)).get();
  if (!challenge) throw IdentityErrors.challengeNotFound();
  if (challenge.consumedAt) throw IdentityErrors.challengeUsed();
  if (challenge.expiresAt <= iso(deps.clock.now())) throw IdentityErrors.challengeExpired();

  const fail = (error: Error) => {
    recordFailure(deps, challenge.id);
    return error;
  };
  if (challenge.purpose !== expect.purpose) throw fail(IdentityErrors.challengePurpose(expect.purpose, challenge.purpose));
  if (challenge.chain !== addr.chain || challenge.addressKey !== addr.key) throw fail(IdentityErrors.challengeAddress());
  if (challenge.profileId && challenge.profileId !== expect.profileId) throw fail(IdentityErrors.challengeProfile());
  // A claim proof works only for the person who asked for it: a leaked signature claims nothing.
  if (challenge.requestedBy && challenge.requestedBy !== expect.requestedBy) throw fail(IdentityErrors.challengeProfile());
  if (proof.message !== undefined && proof.message !== challenge.message) throw fail(IdentityErrors.messageMismatch());
  if (NEEDS_POW.has(expect.purpose) && !checkPow(challenge.powChallenge, challenge.powDifficulty, proof.pow_nonce ?? '')) {
    throw fail(IdentityErrors.powInvalid());
  }
  const valid = await verifyWalletSignature({
    chain: addr.chain,
    address: addr.address,
    message: challenge.message,
    signature: proof.signature,
    evmClient: deps.evmClient,
  });
  if (!valid) throw fail(IdentityErrors.signatureInvalid());
  return { challenge, address: addr };
}

/** Marks a challenge used; call inside the transaction that acts on it. Throws when a concurrent use won. */
export function consumeChallenge(deps: CoreDeps, challengeId: string): void {
  const result = deps.db.sqlite
    .query('UPDATE auth_challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL')
    .run(iso(deps.clock.now()), challengeId);
  if (result.changes !== 1) throw IdentityErrors.challengeUsed();
}

function recordFailure(deps: CoreDeps, challengeId: string): void {
  immediate(deps.db.sqlite, () => {
    deps.db.db.update(authChallenges)
      .set({
        failedAttempts: sql`${authChallenges.failedAttempts} + 1`,
        consumedAt: sql`CASE WHEN ${authChallenges.failedAttempts} + 1 >= ${MAX_FAILED_ATTEMPTS} THEN ${iso(deps.clock.now())} ELSE NULL END`,
      })
      .where(and(eq(authChallenges.id, challengeId), isNull(authChallenges.consumedAt)))
      .run();
  });
}
