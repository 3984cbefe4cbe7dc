import { createHash } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { newId, randomToken } from '../../shared/ids.ts';
import { IdentityErrors } from './errors.ts';
import { apiKeys, type ApiKey } from './schema.ts';

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
  // Raw prepared statement: this runs on every authenticated request, gateway calls included.
  const row = deps.db.sqlite
    .query<AuthRow, [string]>(
      `SELECT k.id, k.profile_id, k.revoked_at, k.last_used_at, p.account_type, p.status
         FROM api_keys k JOIN profiles p ON p.id = k.profile_id WHERE k.key_hash = ?`,
    )
    .get(hashKey(match[1]));
  if (!row) throw CommonErrors.apiKeyInvalid();
  if (row.revoked_at) throw CommonErrors.apiKeyRevoked();
  if (row.status !== 'active') throw IdentityErrors.profileSuspended();
  const now = deps.clock.now();
  // Coarse last-used stamps keep the hot path free of a write per request.
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > LAST_USED_RESOLUTION_MS) {
    deps.db.sqlite.query('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(iso(now), row.id);
  }
  return { profileId: row.profile_id, accountType: row.account_type, keyId: row.id };
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

export function revokeApiKey(deps: CoreDeps, profileId: string, keyId: string): KeySummary {
  const { db } = deps.db;
  const key = db.select().from(apiKeys).where(and(eq(apiKeys.id, keyId), eq(apiKeys.profileId, profileId))).get();
  if (!key) throw IdentityErrors.apiKeyNotFound();
  if (key.revokedAt) return keySummary(key);
  const revokedAt = iso(deps.clock.now());
  db.update(apiKeys).set({ revokedAt }).where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt))).run();
  return keySummary({ ...key, revokedAt });
}
