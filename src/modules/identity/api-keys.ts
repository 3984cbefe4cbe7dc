import { and, desc, eq, isNull } from 'drizzle-orm';
import { iso } from '../../shared/clock.ts';
import type { ChangeWatch } from '../../db/change-watch.ts';
import { createCoherentCache, type CoherentCache } from '../../shared/coherent-cache.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { newId, randomToken } from '../../shared/ids.ts';
import { IdentityErrors } from './errors.ts';
import { apiKeys, type ApiKey } from './schema.ts';

const KEY_PREFIX = 'am_k_';
const LAST_USED_RESOLUTION_MS = 60_000;

// Bun's one-shot hasher: this runs on every authenticated request (node:crypto's is ~4x slower).
const hashKey = (raw: string) => Bun.SHA256.hash(raw, 'hex');

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

/**
 * Resolved keys of one app, so an authenticated call costs no query. Revocation and profile
 * changes forget their entries in this process at once; writes by another process or a CLI bump
 * the `api_keys` generation and empty the cache within CHANGE_CHECK_INTERVAL_MS; entries also
 * expire after KEY_CACHE_TTL_MS as a safety net.
 */
export type KeyCache = CoherentCache<AuthRow>;

const KEY_CACHE_TTL_MS = 30_000;
const KEY_CACHE_MAX = 100_000;

export function createKeyCache(changes: ChangeWatch): KeyCache {
  return createCoherentCache<AuthRow>({ generation: () => changes.current().apiKeys, ttlMs: KEY_CACHE_TTL_MS, maxEntries: KEY_CACHE_MAX });
}

/** What key resolution and revocation need: the core and this app's key cache. */
export type KeyDeps = CoreDeps & { keyCache: KeyCache };

/** Resolves `Authorization: Bearer am_k_…` to its caller, or throws 401. */
export function authenticate(deps: KeyDeps, authorization: string | null | undefined): Caller {
  if (!authorization) throw CommonErrors.authRequired();
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match?.[1] || !match[1].startsWith(KEY_PREFIX)) throw CommonErrors.apiKeyInvalid();
  const hash = hashKey(match[1]);
  const now = deps.clock.now();
  // Raw prepared statement: this runs on every authenticated request, gateway calls included.
  const row = deps.keyCache.get(hash, () =>
    deps.db.sqlite
      .query<AuthRow, [string]>(
        `SELECT k.id, k.profile_id, k.revoked_at, k.last_used_at, p.account_type, p.status
           FROM api_keys k JOIN profiles p ON p.id = k.profile_id WHERE k.key_hash = ?`,
      )
      .get(hash),
  );
  if (!row) throw CommonErrors.apiKeyInvalid();
  if (row.revoked_at) throw CommonErrors.apiKeyRevoked();
  if (row.status !== 'active') throw IdentityErrors.profileSuspended();
  // Coarse last-used stamps keep the hot path free of a write per request.
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > LAST_USED_RESOLUTION_MS) {
    row.last_used_at = iso(now);
    deps.db.sqlite.query('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(row.last_used_at, row.id);
  }
  return { profileId: row.profile_id, accountType: row.account_type, keyId: row.id };
}

/** Drops cached keys of a profile (all profiles when omitted): call after revoking a key or changing a profile's status. */
export function forgetCachedKeys(deps: KeyDeps, profileId?: string): void {
  deps.keyCache.forgetWhere(profileId === undefined ? undefined : (row) => row.profile_id === profileId);
}

type AuthRow = {
  id: string;
  profile_id: string;
  revoked_at: string | null;
  last_used_at: string | null;
  account_type: Caller['accountType'];
  status: 'active' | 'suspended';
};

export function listApiKeys(deps: CoreDeps, profileId: string): KeySummary[] {
  return deps.db.db.select().from(apiKeys).where(eq(apiKeys.profileId, profileId)).orderBy(desc(apiKeys.createdAt)).all().map(keySummary);
}

export function revokeApiKey(deps: KeyDeps, profileId: string, keyId: string): KeySummary {
  const { db } = deps.db;
  const key = db.select().from(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.profileId, profileId))).get();
  if (!key) throw IdentityErrors.apiKeyNotFound();
  if (key.revokedAt) return keySummary(key);
  const revokedAt = iso(deps.clock.now());
  db.update(apiKeys).set({ revokedAt }).where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt))).run();
  forgetCachedKeys(deps, profileId);
  return keySummary({ ...key, revokedAt });
}
