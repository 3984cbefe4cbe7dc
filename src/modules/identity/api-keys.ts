import { createHash } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { newId, randomToken } from '../../shared/ids.ts';
import { IdentityErrors } from './errors.ts';
import { apiKeys, type ApiKey, profiles } from './schema.ts';

const KEY_PREFIX = 'am_k_';
const LAST_USED_RESOLUTION_MS = 60_000;

const hashKey = (raw: string) => createHash('sha256').update(raw).digest('hex');

export type Caller = { profileId: string; accountType: 'agent' | 'human' | 'human_claimed_agent'; keyId: string };

export type KeySummary = { id: string; name: string; key_prefix: string; created_at: string; last_used_at: string | null; revoked_at: string | null };

export const keySummary = (k: ApiKey): KeySummary => ({
  id: k.id,
  name: k.name,
  key_prefix: k.keyPrefix,
  created_at: k.createdAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
});

/** Creates a key for a profile; the raw key is returned here and never again. Call inside a transaction when part of a larger change. */
export function issueApiKey(deps: CoreDeps, profileId: string, name: string) {
  const raw = KEY_PREFIX + randomToken(32);
  const row: ApiKey = {
    id: newId(),
    profileId,
    name,
    keyPrefix: raw.slice(0, KEY_PREFIX.length + 8),
    keyHash: hashKey(raw),
    createdAt: iso(deps.clock.now()),
    lastUsedAt: null,
    revokedAt: null,
  };
  deps.db.db.insert(apiKeys).values(row).run();
  return { raw, key: keySummary(row) };
}

/** Resolves `Authorization: Bearer am_k_…` to its caller, or throws 401. */
export function authenticate(deps: CoreDeps, authorization: string | null | undefined): Caller {
  if (!authorization) throw CommonErrors.authRequired();
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match?.[1] || !match[1].startsWith(KEY_PREFIX)) throw CommonErrors.apiKeyInvalid();
  const row = deps.db.db
    .select({ key: apiKeys, accountType: profiles.accountType, status: profiles.status })
    .from(apiKeys)
    .innerJoin(profiles, eq(profiles.id, apiKeys.profileId))
    .where(eq(apiKeys.keyHash, hashKey(match[1])))
    .get();
  if (!row) throw CommonErrors.apiKeyInvalid();
  if (row.key.revokedAt) throw CommonErrors.apiKeyRevoked();
  if (row.status !== 'active') throw IdentityErrors.profileSuspended();
  const now = deps.clock.now();
  // Coarse last-used stamps keep the hot path free of a write per request.
  if (!row.key.lastUsedAt || now.getTime() - Date.parse(row.key.lastUsedAt) > LAST_USED_RESOLUTION_MS) {
    deps.db.db.update(apiKeys).set({ lastUsedAt: iso(now) }).where(eq(apiKeys.id, row.key.id)).run();
  }
  return { profileId: row.key.profileId, accountType: row.accountType, keyId: row.key.id };
}

export function listApiKeys(deps: CoreDeps, profileId: string): KeySummary[] {
  return deps.db.db.select().from(apiKeys).where(eq(apiKeys.profileId, profileId)).orderBy(desc(apiKeys.createdAt)).all().map(keySummary);
}

export function revokeApiKey(deps: CoreDeps, profileId: string, keyId: string): KeySummary {
  const { db } = deps.db;
  const key = db.select().from(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.profileId, profileId))).get();
  if (!key) throw IdentityErrors.apiKeyNotFound();
  if (key.revokedAt) return keySummary(key);
  const revokedAt = iso(deps.clock.now());
  db.update(apiKeys).set({ revokedAt }).where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt))).run();
  return keySummary({ ...key, revokedAt });
}
