import { eq, inArray } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { forgetCachedKeys, issueApiKey, type KeyDeps } from './api-keys.ts';
import { consumeChallenge, verifyChallengeProof, type ChallengeProof } from './challenges.ts';
import { IdentityErrors } from './errors.ts';
import { type Profile, profiles } from './schema.ts';
import { findWalletOwner, insertWallet, listWallets, walletSummary } from './wallets.ts';

export { authenticate, createKeyCache, forgetCachedKeys, listApiKeys, revokeApiKey, type Caller, type KeyCache, type KeyDeps } from './api-keys.ts';
export { createChallenge, type ChallengePurpose } from './challenges.ts';
export { defaultPayoutWallet, getWallet, linkWallet, listWallets, updateWallet, walletSummary } from './wallets.ts';
export { parseWalletAddress } from '../../shared/wallet-address.ts';

export type ProfileSummary = {
  id: string;
  display_name: string;
  account_type: Profile['accountType'];
  claimed_by: string | null;
  status: Profile['status'];
  created_at: string;
};

export const profileSummary = (p: Profile): ProfileSummary => ({
  id: p.id,
  display_name: p.displayName,
  account_type: p.accountType,
  claimed_by: p.claimedBy,
  status: p.status,
  created_at: p.createdAt,
});

export function getProfile(deps: CoreDeps, id: string): Profile | undefined {
  return deps.db.db.select().from(profiles).where(eq(profiles.id, id)).get();
}

/** Several profiles in one query, by id (ids not found are absent from the map). */
export function getProfiles(deps: CoreDeps, ids: Iterable<string>): Map<string, Profile> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = deps.db.db.select().from(profiles).where(inArray(profiles.id, unique)).all();
  return new Map(rows.map((p) => [p.id, p]));
}

function requireProfile(deps: CoreDeps, id: string): Profile {
  const p = getProfile(deps, id);
  if (!p) throw CommonErrors.notFound('Profile');
  return p;
}

/** The authenticated caller's profile and wallets. */
export function getMe(deps: CoreDeps, profileId: string) {
  return { ...profileSummary(requireProfile(deps, profileId)), wallets: listWallets(deps, profileId).map(walletSummary) };
}

const credentials = (deps: CoreDeps, profile: Profile, raw: string) => ({
  api_key: raw,
  authorization_header: `Bearer ${raw}`,
  profile: getMe(deps, profile.id),
});

/** Creates an agent profile owned by the proven wallet, with its first API key. */
export async function register(deps: CoreDeps, input: ChallengeProof & { display_name: string }) {
  const { challenge, address } = await verifyChallengeProof(deps, input, { purpose: 'register' });
  if (findWalletOwner(deps, address)) throw IdentityErrors.walletAlreadyRegistered();
  return immediate(deps.db.sqlite, () => {
    if (findWalletOwner(deps, address)) throw IdentityErrors.walletAlreadyRegistered();
    consumeChallenge(deps, challenge.id);
    const now = iso(deps.clock.now());
    const profile: Profile = {
      id: newId(),
      displayName: input.display_name.trim(),
      accountType: 'agent',
      claimedBy: null,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    deps.db.db.insert(profiles).values(profile).run();
    insertWallet(deps, profile.id, address);
    const { raw } = issueApiKey(deps, profile.id, 'default');
    return credentials(deps, profile, raw);
  });
}

/** Issues an additional key to the profile that owns the proven auth/recovery wallet. */
export async function recoverAccess(deps: CoreDeps, input: ChallengeProof) {
  const { challenge, address } = await verifyChallengeProof(deps, input, { purpose: 'recover' });
  const wallet = findWalletOwner(deps, address);
  if (!wallet) throw IdentityErrors.walletNotRegistered();
  if (wallet.status !== 'active' || !(wallet.roles.includes('auth') || wallet.roles.includes('recovery'))) {
    throw IdentityErrors.walletNotAuthorized();
  }
  const profile = requireProfile(deps, wallet.profileId);
  if (profile.status !== 'active') throw IdentityErrors.profileSuspended();
  return immediate(deps.db.sqlite, () => {
    consumeChallenge(deps, challenge.id);
    const { raw } = issueApiKey(deps, profile.id, `recovered ${iso(deps.clock.now())}`);
    return credentials(deps, profile, raw);
  });
}

/** A new named key for the caller; the raw key is shown once. */
export function createApiKey(deps: CoreDeps, profileId: string, name: string) {
  const { raw, key } = issueApiKey(deps, profileId, name);
  return { ...key, api_key: raw, authorization_header: `Bearer ${raw}` };
}

/** Inserts the profile of a person (account_type `human`); the humans module adds the credentials in the same transaction. */
export function insertHumanProfile(deps: CoreDeps, displayName: string): Profile {
  const now = iso(deps.clock.now());
  const profile: Profile = { id: newId(), displayName: displayName.trim(), accountType: 'human', claimedBy: null, status: 'active', createdAt: now, updatedAt: now };
  deps.db.db.insert(profiles).values(profile).run();
  return profile;
}

/**
 * A signed-in person claims an agent with a `claim_agent` challenge for that profile, signed by
 * an active auth/recovery wallet of the agent. Ownership context only: no score or checkmark change.
 */
export async function claimAgent(deps: KeyDeps, agentId: string, humanProfileId: string, proof: ChallengeProof) {
  const agent = getProfile(deps, agentId);
  if (!agent) throw CommonErrors.notFound('Profile');
  if (agent.accountType !== 'agent' || agent.claimedBy) throw IdentityErrors.notClaimable();
  if (agent.status !== 'active') throw IdentityErrors.profileSuspended();
  const { challenge, address } = await verifyChallengeProof(deps, proof, { purpose: 'claim_agent', profileId: agentId, requestedBy: humanProfileId });
  const wallet = findWalletOwner(deps, address);
  if (!wallet || wallet.profileId !== agentId || wallet.status !== 'active' || !(wallet.roles.includes('auth') || wallet.roles.includes('recovery'))) {
    throw IdentityErrors.claimWalletNotAuthorized();
  }
  immediate(deps.db.sqlite, () => {
    consumeChallenge(deps, challenge.id);
    const updated = deps.db.sqlite
      .query("UPDATE profiles SET account_type = 'human_claimed_agent', claimed_by = ?, updated_at = ? WHERE id = ? AND account_type = 'agent' AND claimed_by IS NULL")
      .run(humanProfileId, iso(deps.clock.now()), agentId);
    // A concurrent claim won: the challenge stays consumed (each works once).
    if (updated.changes !== 1) throw IdentityErrors.notClaimable();
  });
  forgetCachedKeys(deps, agentId);
  return profileSummary(requireProfile(deps, agentId));
}

/** Profiles claimed by a person, oldest claim first. */
export function claimedBy(deps: CoreDeps, humanProfileId: string): Profile[] {
  return deps.db.db.select().from(profiles).where(eq(profiles.claimedBy, humanProfileId)).all();
}

/** Operator: suspends or restores a profile; its cached keys are forgotten at once. */
export function setProfileStatus(deps: KeyDeps, profileId: string, status: Profile['status']): ProfileSummary {
  const profile = requireProfile(deps, profileId);
  deps.db.db.update(profiles).set({ status, updatedAt: iso(deps.clock.now()) }).where(eq(profiles.id, profileId)).run();
  forgetCachedKeys(deps, profileId);
  return profileSummary({ ...profile, status });
}
