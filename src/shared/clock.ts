/** Time source, injectable so tests can move time (challenge expiry, intent expiry, sweeps). */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

/** A clock that tests move by hand. */
export function manualClock(start = new Date('2026-05-03T12:00:00.000Z')) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    set(d: Date) {
      t = d.getTime();
    },
  };
}

/** ISO-8601 UTC with milliseconds. */
export const iso = (d: Date) => d.toISOString();
