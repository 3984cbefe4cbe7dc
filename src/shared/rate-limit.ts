/**
 * Fixed-window counters in memory, one map per limiter, created with the app's runtime
 * (src/runtime.ts). Each process counts its own requests; windows reset on restart.
 */
export type RateLimiter = {
  /** Counts one hit; returns null when allowed, else the seconds until the window resets. */
  hit(key: string, nowMs?: number): number | null;
};

export function createRateLimiter(limit: number, windowMs: number): RateLimiter {
  if (limit <= 0) return { hit: () => null };
  const windows = new Map<string, { start: number; count: number }>();
  let lastSweep = 0;
  return {
    hit(key, nowMs = Date.now()) {
      if (nowMs - lastSweep > windowMs) {
        // Drop finished windows so the map does not grow with every key ever seen.
        for (const [k, w] of windows) if (nowMs - w.start >= windowMs) windows.delete(k);
        lastSweep = nowMs;
      }
      let w = windows.get(key);
      if (!w || nowMs - w.start >= windowMs) {
        w = { start: nowMs, count: 0 };
        windows.set(key, w);
      }
      w.count += 1;
      if (w.count <= limit) return null;
      return Math.max(1, Math.ceil((w.start + windowMs - nowMs) / 1000));
    },
  };
}
