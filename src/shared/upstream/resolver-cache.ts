import type { Resolver } from './guard.ts';

/**
 * Remembers answers for `ttlMs` so the gateway does not pay a DNS lookup per call. Safe against
 * rebinding: every answer is still vetted on every call, and the client connects to the vetted
 * address itself, never to a fresh lookup.
 */
export function cachedResolver(resolve: Resolver, ttlMs: number, maxEntries = 10_000): Resolver {
  const cache = new Map<string, { at: number; addresses: string[] }>();
  return async (hostname) => {
    const now = Date.now();
    const hit = cache.get(hostname);
    if (hit && now - hit.at < ttlMs) return hit.addresses;
    const addresses = await resolve(hostname);
    if (cache.size >= maxEntries) cache.clear();
    // Failures are not cached: a seller fixing its DNS is seen at once.
    if (addresses.length > 0) cache.set(hostname, { at: now, addresses });
    return addresses;
  };
}
