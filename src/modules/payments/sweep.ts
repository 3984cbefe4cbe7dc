// Expiry sweep: open intents past their time expire; settled ones left unused become `refund_due`
// (held → the buyer's refund account) — never one with a live forwarding lease; stored replies past
// their time are deleted. In bounded batches (a count and a time budget) that yield to the event
// loop between them, so a backlog never stalls the server. Each intent's move is one `apply`.
import type { CoreDeps } from '../../shared/deps.ts';
import { apply, type ApplyDeps, refusalOf, stepOf } from './apply.ts';

/** Most intents (or stored replies) one batch handles. */
export const SWEEP_BATCH_SIZE = 200;
/** A batch stops early once it has run this long, whatever its count. */
const SWEEP_BATCH_BUDGET_MS = 8;

export type SweepResult = { refundDue: number; expired: number };
/** Where a sweep got to, so the next batch never re-reads an intent it already handled. */
type Cursor = { expiresAt: string; id: string };

/**
 * One bounded batch (synchronous): up to `limit` intents past expiry, oldest first, after `after`.
 * `next` is where the following batch starts, or null when nothing is left.
 */
export function sweepExpiredIntents(deps: ApplyDeps, opts: { limit?: number; after?: Cursor; budgetMs?: number } = {}): SweepResult & { next: Cursor | null } {
  const now = deps.clock.now().toISOString();
  const limit = opts.limit ?? SWEEP_BATCH_SIZE;
  const after = opts.after ?? { expiresAt: '', id: '' };
  // Live leases are left out here, and `apply` refuses them again inside its transaction.
  const due = deps.db.sqlite
    .query<{ id: string; expires_at: string }, [string, string, string, string, number]>(
      `SELECT id, expires_at FROM payment_intents
        WHERE status IN ('open', 'settled') AND expires_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?2)
          AND (expires_at, id) > (?3, ?4)
        ORDER BY expires_at, id LIMIT ?5`,
    )
    .all(now, now, after.expiresAt, after.id, limit);
  const started = performance.now();
  const budget = opts.budgetMs ?? Number.POSITIVE_INFINITY;
  const result: SweepResult & { next: Cursor | null } = { refundDue: 0, expired: 0, next: null };
  for (const row of due) {
    result.next = { expiresAt: row.expires_at, id: row.id };
    const applied = apply(deps, row.id, { type: 'expire' });
    const step = stepOf(applied, 'expire');
    if (step?.transition.kind === 'move' && !refusalOf(applied)) {
      if (step.transition.to === 'refund_due') result.refundDue += 1;
      else result.expired += 1;
    }
    if (performance.now() - started >= budget) return result;
  }
  if (due.length < limit) result.next = null;
  return result;
}

/** Deletes up to `limit` stored replies past their time; how many. */
export function deleteExpiredReplies(deps: Pick<CoreDeps, 'db' | 'clock'>, limit = SWEEP_BATCH_SIZE): number {
  return deps.db.sqlite
    .query('DELETE FROM paid_responses WHERE gateway_request_id IN (SELECT gateway_request_id FROM paid_responses WHERE expires_at <= ? LIMIT ?)')
    .run(deps.clock.now().toISOString(), limit).changes;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The whole sweep, batch after batch with a yield between them. `between` runs after each batch
 * (the job lease renews itself there); returning false stops the sweep early.
 */
export async function sweepAll(deps: ApplyDeps, between: () => boolean = () => true): Promise<SweepResult & { repliesDeleted: number }> {
  const total = { refundDue: 0, expired: 0, repliesDeleted: 0 };
  let after: Cursor | undefined;
  for (;;) {
    const batch = sweepExpiredIntents(deps, { after, budgetMs: SWEEP_BATCH_BUDGET_MS });
    total.refundDue += batch.refundDue;
    total.expired += batch.expired;
    if (batch.next === null) break;
    after = batch.next;
    await yieldToEventLoop();
    if (!between()) return total;
  }
  for (;;) {
    const deleted = deleteExpiredReplies(deps);
    total.repliesDeleted += deleted;
    if (deleted < SWEEP_BATCH_SIZE) break;
    await yieldToEventLoop();
    if (!between()) break;
  }
  return total;
}
