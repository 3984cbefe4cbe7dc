// Job leases: a background job (sweep, score recompute) runs in one process at a time across every
// process sharing the data folder. The lease lives in the database; a holder that died stops
// blocking the others once its lease lapses. The jobs stay idempotent: a lease only saves work.
import type { CoreDeps } from '../../shared/deps.ts';
import { randomHex } from '../../shared/ids.ts';

export type JobLeaseDeps = Pick<CoreDeps, 'db' | 'clock'>;

/** What a run holding the lease may do: extend it (false once it was lost). */
export type HeldLease = { renew(): boolean };

const later = (deps: JobLeaseDeps, ms: number) => new Date(deps.clock.now().getTime() + ms).toISOString();

/** Takes the lease `name` for `ttlMs` with a fresh holder id, or null when a live holder has it. */
export function tryTakeJobLease(deps: JobLeaseDeps, name: string, ttlMs: number): { holder: string } | null {
  const holder = randomHex(12);
  const taken = deps.db.sqlite
    .query(
      `INSERT INTO job_leases (name, holder, until) VALUES (?1, ?2, ?3)
       ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE job_leases.until <= ?4`,
    )
    .run(name, holder, later(deps, ttlMs), deps.clock.now().toISOString()).changes;
  return taken === 1 ? { holder } : null;
}

/**
 * Runs `job` if this process gets the lease `name` (for `ttlMs`, renewable through `lease.renew()`
 * between steps of a long job), then releases it. `{ ran: false }` when another run holds it.
 */
export async function runExclusive<T>(
  deps: JobLeaseDeps,
  name: string,
  ttlMs: number,
  job: (lease: HeldLease) => T | Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  const taken = tryTakeJobLease(deps, name, ttlMs);
  if (!taken) return { ran: false };
  const renew = () =>
    deps.db.sqlite.query('UPDATE job_leases SET until = ? WHERE name = ? AND holder = ?').run(later(deps, ttlMs), name, taken.holder).changes === 1;
  try {
    return { ran: true, value: await job({ renew }) };
  } finally {
    try {
      deps.db.sqlite.query('DELETE FROM job_leases WHERE name = ? AND holder = ?').run(name, taken.holder);
    } catch {
      // The database closed under a stopping server: the lease lapses after ttlMs instead.
    }
  }
}
