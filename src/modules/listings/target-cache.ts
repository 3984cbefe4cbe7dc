import type { Database } from 'bun:sqlite';

/**
 * Decrypted gateway targets, per database, so a gateway call costs no query and no decryption.
 * Every write to a listing or its endpoint calls `forgetGatewayTarget` (same process: the server
 * is the only writer of these rows), and entries also expire after TARGET_TTL_MS as a safety net.
 */
const TARGET_TTL_MS = 10_000;
const MAX_ENTRIES = 50_000;

type Entry<T> = { value: T; at: number };
const caches = new WeakMap<Database, Map<string, Entry<unknown>>>();

export function cachedTarget<T>(sqlite: Database, listingId: string, load: () => T | null): T | null {
  let cache = caches.get(sqlite);
  if (!cache) caches.set(sqlite, (cache = new Map()));
  const now = Date.now();
  const hit = cache.get(listingId);
  if (hit && now - hit.at < TARGET_TTL_MS) return hit.value as T;
  const value = load();
  if (cache.size >= MAX_ENTRIES) cache.clear();
  // Unknown ids are not cached: ids are caller-chosen and would fill the map.
  if (value === null) cache.delete(listingId);
  else cache.set(listingId, { value, at: now });
  return value;
}

/** Call after any change to a listing or its endpoint. */
export function forgetGatewayTarget(sqlite: Database, listingId: string): void {
  caches.get(sqlite)?.delete(listingId);
}
