// Expiry sweep: open intents past their time expire; settled ones left unused become `refund_due`
// (held → the buyer's refund account) — never one with a live forwarding lease; stored replies past
// their time are deleted. In bounded batches (a count and a time budget) that yield to the event
// loop between them, so a backlog never stalls the server. Each intent's move is one `apply`.
import { immediate } from '../../db/tx.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { apply, type ApplyDeps, stepOf } from './apply.ts';

/** Most intents (or stored replies) one batch handles. */
export const SWEEP_BATCH_SIZE = 200;
/** A batch stops early once it has run this long, whatever its count. */
const SWEEP_BATCH_BUDGET_MS = 5;
/** Batches between two checkpoints of the sweep's own writes (see checkpointOwnWrites). */
const BATCHES_PER_CHECKPOINT = 8;

export type SweepResult = { refundDue: number; expired: number };
/**
 * Where a sweep got to, so the next batch never re-reads an intent it already handled: a status
 * (open ones first) and a position in the (status, expires_at) index, whose entries end in rowid.
 */
type Cursor = { status: 'open' | 'settled'; expiresAt: string; rowid: number };

const FIRST: Cursor = { status: 'open', expiresAt: '', rowid: 0 };

/**
 * One bounded batch (synchronous, one transaction): up to `limit` intents past expiry, oldest first,
 * from `after` on, stopping early once `budgetMs` has passed. `next` is where the following batch
 * starts, or null when nothing is left.
 */
export function sweepExpiredIntents(deps: ApplyDeps, opts: { limit?: number; after?: Cursor; budgetMs?: number } = {}): SweepResult & { next: Cursor | null } {
  const now = deps.clock.now().toISOString();
  const limit = opts.limit ?? SWEEP_BATCH_SIZE;
  const budget = opts.budgetMs ?? Number.POSITIVE_INFINITY;
  const result: SweepResult & { next: Cursor | null } = { refundDue: 0, expired: 0, next: null };
  let cursor = opts.after ?? FIRST;
  // Live leases are left out here, and `apply` refuses them again inside its transaction. The
  // order matches the index, so a batch reads only its own rows, however large the backlog.
  const page = deps.db.sqlite.query<{ rowid: number; id: string; expires_at: string }, [string, string, string, number, number]>(
    `SELECT rowid, id, expires_at FROM payment_intents
      WHERE status = ?1 AND expires_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2) AND (expires_at, rowid) > (?3, ?4)
      ORDER BY expires_at, rowid LIMIT ?5`,
  );
  const started = performance.now();
  // One transaction per batch (each intent's `apply` nests in it): one commit, not one per intent.
  immediate(deps.db.sqlite, () => {
    for (;;) {
      const due = page.all(cursor.status, now, cursor.expiresAt, cursor.rowid, limit);
      for (const row of due) {
        cursor = { status: cursor.status, expiresAt: row.expires_at, rowid: row.rowid };
        const step = stepOf(apply(deps, row.id, { type: 'expire' }), 'expire');
        if (step?.transition.kind === 'move') {
          if (step.transition.to === 'refund_due') result.refundDue += 1;
          else result.expired += 1;
        }
        if (performance.now() - started >= budget || result.refundDue + result.expired >= limit) {
          result.next = cursor;
          return;
        }
      }
      if (due.length === limit) continue;
      if (cursor.status === 'settled') return;
      cursor = { status: 'settled', expiresAt: '', rowid: 0 };
    }
  });
  return result;
}

/** Deletes up to `limit` stored replies past their time; how many. */
export function deleteExpiredReplies(deps: Pick<CoreDeps, 'db' | 'clock'>, limit = SWEEP_BATCH_SIZE): number {
  return deps.db.sqlite
    .query('DELETE FROM paid_responses WHERE gateway_request_id IN (SELECT gateway_request_id FROM paid_responses WHERE expires_at <= ? LIMIT ?)')
    .run(deps.clock.now().toISOString(), limit).changes;
}

/**
 * Copies the sweep's recent pages from the WAL into the database file while they are few. Left to
 * the automatic checkpoint (≈40 MB, see db/open.ts), a backlog's writes pile up into one large
 * checkpoint that blocks whichever call commits next. PASSIVE: it never waits for readers, in this
 * process or another.
 */
function checkpointOwnWrites(deps: Pick<CoreDeps, 'db'>): void {
  deps.db.sqlite.run('PRAGMA wal_checkpoint(PASSIVE)');
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The whole sweep, batch after batch with a yield between them. `between` runs after each batch
 * (the job lease renews itself there); returning false stops the sweep early.
 */
export async function sweepAll(deps: ApplyDeps, between: () => boolean = () => true): Promise<SweepResult & { repliesDeleted: number }> {
  const total = { refundDue: 0, expired: 0, repliesDeleted: 0 };
  let after: Cursor | undefined;
  for (let n = 1; ; n++) {
    const batch = sweepExpiredIntents(deps, { after, budgetMs: SWEEP_BATCH_BUDGET_MS });
    total.refundDue += batch.refundDue;
    total.expired += batch.expired;
    if (n % BATCHES_PER_CHECKPOINT === 0) checkpointOwnWrites(deps);
    if (batch.next === null) break;
    after = batch.next;
    await yieldToEventLoop();
    if (!between()) return total;
  }
  for (let n = 1; ; n++) {
    const deleted = deleteExpiredReplies(deps);
    total.repliesDeleted += deleted;
    if (n % BATCHES_PER_CHECKPOINT === 0) checkpointOwnWrites(deps);
    if (deleted < SWEEP_BATCH_SIZE) break;
    await yieldToEventLoop();
    if (!between()) break;
  }
  return total;
}
