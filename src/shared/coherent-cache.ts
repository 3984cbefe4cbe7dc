/**
 * An in-memory cache that empties itself when its database generation moves (another process or a
 * CLI wrote the cached rows: see src/db/change-watch.ts), so it never serves a value more than the
 * watch interval behind the database. This process's own writes also `forget` their entries at once.
 * Only loaded values are kept: a `null` (unknown id) is not, because ids are caller-chosen and
 * would fill the map.
 */
export type CoherentCache<V> = {
  /** The cached value, or `load()`'s result (kept unless null). */
  get(key: string, load: () => V | null): V | null;
  forget(key: string): void;
  /** Drops every entry whose value matches (all entries without a predicate). */
  forgetWhere(matches?: (value: V) => boolean): void;
  size(): number;
};

export function createCoherentCache<V>(opts: {
  /** The current generation of the cached rows; a different value empties the cache. */
  generation: () => number;
  /** Safety net: an entry is reloaded after this long even if no generation moved. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}): CoherentCache<V> {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { value: V; at: number }>();
  let seen = Number.NaN;
  return {
    get(key, load) {
      const generation = opts.generation();
      if (generation !== seen) {
        entries.clear();
        seen = generation;
      }
      const t = now();
      const hit = entries.get(key);
      if (hit && t - hit.at < opts.ttlMs) return hit.value;
      const value = load();
      if (value === null) {
        entries.delete(key);
        return null;
      }
      if (entries.size >= opts.maxEntries) entries.clear();
      entries.set(key, { value, at: t });
      return value;
    },
    forget(key) {
      entries.delete(key);
    },
    forgetWhere(matches) {
      if (!matches) return entries.clear();
      for (const [key, entry] of entries) if (matches(entry.value)) entries.delete(key);
    },
    size: () => entries.size,
  };
}
