import type { Database } from 'bun:sqlite';
import { flushHistoryOf } from './history.ts';

/** Gateway calls still running. A clean stop waits for them: each records its row on the way out. */
export type InFlightCalls = {
  begin(): void;
  end(): void;
  /** Resolves true once no call is running, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
};

// Per database handle, like the history writers: the server holds the handle, not the module.
const trackersByDatabase = new WeakMap<Database, Set<InFlightCalls>>();

export function trackInFlightCalls(sqlite: Database): InFlightCalls {
  let running = 0;
  let waiters: (() => void)[] = [];
  const tracker: InFlightCalls = {
    begin() {
      running++;
    },
    end() {
      running--;
      if (running > 0 || waiters.length === 0) return;
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    },
    idle(timeoutMs) {
      if (running === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
  const live = trackersByDatabase.get(sqlite) ?? new Set<InFlightCalls>();
  live.add(tracker);
  trackersByDatabase.set(sqlite, live);
  return tracker;
}

/**
 * Waits (up to `timeoutMs`) for the gateway calls running on this database, then writes the
 * queued history. Bun's server stop waits for open connections only, so a call whose buyer hung
 * up is still talking to its seller then; closing the database under it would lose its row (and
 * a paid call's release). False when calls were still running at the deadline.
 */
export async function drainGatewayCalls(sqlite: Database, timeoutMs: number): Promise<boolean> {
  const trackers = [...(trackersByDatabase.get(sqlite) ?? [])];
  const idle = (await Promise.all(trackers.map((t) => t.idle(timeoutMs)))).every(Boolean);
  flushHistoryOf(sqlite);
  return idle;
}
