import type { Database } from 'bun:sqlite';

/**
 * Counters of the cached tables (migration `cache_generations`): triggers bump them in the very
 * transaction that writes an API key, a profile's status, a listing or an endpoint, whichever
 * process or tool writes it. A cache remembers the generation it was filled under and empties
 * itself when the counter moves.
 */
export type Generations = { apiKeys: number; gatewayTargets: number };

export type ChangeWatch = {
  /** The counters, re-read from the database when the last read is older than the interval. */
  current(): Generations;
};

/**
 * How stale another process's write may look here. SPEC §5 item 9 allows one second. Reading the
 * row costs ≈ 5 µs (a WAL read transaction), measured; once per request it would cost a gateway
 * call ≈ 8% of its CPU (two caches per call), once per 100 ms it costs nothing measurable.
 */
export const CHANGE_CHECK_INTERVAL_MS = 100;

export function watchChanges(sqlite: Database, opts: { checkEveryMs?: number; now?: () => number } = {}): ChangeWatch {
  const checkEveryMs = opts.checkEveryMs ?? CHANGE_CHECK_INTERVAL_MS;
  const now = opts.now ?? (() => performance.now());
  const read = sqlite.query<Generations, []>('SELECT api_keys AS apiKeys, gateway_targets AS gatewayTargets FROM cache_generations WHERE id = 1');
  let generations: Generations = { apiKeys: -1, gatewayTargets: -1 };
  let readAt = -Infinity;
  return {
    current() {
      const t = now();
      if (t - readAt < checkEveryMs) return generations;
      // Callers ask before they load rows: a row loaded after this read is at least as new as
      // these counters, so a cache filled under them never hides a write that bumped them.
      generations = read.get() ?? generations;
      readAt = t;
      return generations;
    },
  };
}
