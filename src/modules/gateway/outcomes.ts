/**
 * Read-only views of the gateway history for other modules (trust: review eligibility, score
 * events, listing usage stats). They take the core and the app's history writer, not `GatewayDeps`:
 * each flushes the write-behind queue first, so every reader sees calls answered a moment ago.
 */
import type { CoreDeps } from '../../shared/deps.ts';
import type { HistoryDeps } from './history.ts';
import type { GatewayStatus } from './schema.ts';

/** Statuses where the seller was asked: they are the seller's outcomes (SPEC §4 step 6). */
export const SELLER_OUTCOME_STATUSES = ['completed', 'seller_rejected', 'seller_failed', 'timeout'] as const satisfies readonly GatewayStatus[];
export type SellerOutcomeStatus = (typeof SELLER_OUTCOME_STATUSES)[number];

/** One forwarded call as score ingestion reads it; `seq` is its position in the history (rowid). */
export type GatewayOutcome = {
  seq: number;
  id: string;
  buyerId: string;
  sellerId: string;
  listingId: string;
  relayRequestId: string | null;
  status: SellerOutcomeStatus;
  amountMicroUsd: number;
  createdAt: string;
};

const STATUS_LIST = SELLER_OUTCOME_STATUSES.map((s) => `'${s}'`).join(', ');

/** Writes queued history rows now; call before any read of `gateway_requests` outside the gateway. */
export function flushHistory(deps: HistoryDeps): void {
  deps.history.flush();
}

/** What a reader of the gateway history needs. */
export type HistoryReadDeps = CoreDeps & HistoryDeps;

/**
 * The buyer's latest call on the listing that the seller answered 2xx since `sinceIso`; with
 * `paidOnly`, only a call that was paid for (amount > 0 under a relay request). Null when none.
 */
export function findCompletedCall(
  deps: HistoryReadDeps,
  q: { buyerId: string; listingId: string; sinceIso: string; paidOnly: boolean },
): { id: string; createdAt: string } | null {
  flushHistory(deps);
  const paid = q.paidOnly ? 'AND amount_micro_usd > 0 AND relay_request_id IS NOT NULL' : '';
  return (
    deps.db.sqlite
      .query<{ id: string; createdAt: string }, [string, string, string]>(
        `SELECT id, created_at AS createdAt FROM gateway_requests
         WHERE buyer_id = ? AND status = 'completed' AND listing_id = ? AND created_at >= ? ${paid}
         ORDER BY created_at DESC LIMIT 1`,
      )
      .get(q.buyerId, q.listingId, q.sinceIso) ?? null
  );
}

/** Seller outcomes recorded after history position `afterSeq`, oldest first, at most `limit`. */
export function outcomesAfter(deps: HistoryReadDeps, afterSeq: number, limit: number): GatewayOutcome[] {
  flushHistory(deps);
  // rowid order is insertion order, so a row written late (batched, or a slow call) is never
  // behind the cursor, which a created_at cursor could not promise.
  return deps.db.sqlite
    .query<GatewayOutcome, [number, number]>(
      `SELECT rowid AS seq, id, buyer_id AS buyerId, seller_id AS sellerId, listing_id AS listingId,
         relay_request_id AS relayRequestId, status, amount_micro_usd AS amountMicroUsd, created_at AS createdAt
       FROM gateway_requests
       WHERE rowid > ? AND seller_id IS NOT NULL AND status IN (${STATUS_LIST})
       ORDER BY rowid LIMIT ?`,
    )
    .all(afterSeq, limit);
}

/**
 * Current history position of a row, to check a saved cursor: `VACUUM` (or a restored backup) may
 * renumber rowids of a table without an INTEGER PRIMARY KEY. Null when the row is gone.
 */
export function historyPositionOf(deps: CoreDeps, requestId: string): number | null {
  return deps.db.sqlite.query<{ seq: number }, [string]>('SELECT rowid AS seq FROM gateway_requests WHERE id = ?').get(requestId)?.seq ?? null;
}

export type ListingUsage = { callsTotal: number; callsSucceeded: number; p50LatencyMs: number | null };

/**
 * Usage of each of a seller's listings that has calls: calls forwarded to the seller and those
 * answered 2xx (all time), and the median upstream latency of calls answered 2xx since
 * `latencySinceIso`. One pass over the seller's history through the seller index (a listing's
 * seller never changes): history keeps no listing index, one B-tree fewer to update on every
 * gateway call, and asking per listing would read the seller's rows once per listing.
 */
export function sellerListingsUsage(deps: HistoryReadDeps, sellerId: string, latencySinceIso: string): Map<string, ListingUsage> {
  flushHistory(deps);
  const { sqlite } = deps.db;
  const usage = new Map<string, ListingUsage>();
  const counts = sqlite
    .query<{ listingId: string; total: number; succeeded: number }, [string]>(
      `SELECT listing_id AS listingId, COUNT(*) AS total, SUM(status = 'completed') AS succeeded FROM gateway_requests
       WHERE seller_id = ? AND status IN (${STATUS_LIST}) GROUP BY listing_id`,
    )
    .all(sellerId);
  for (const c of counts) usage.set(c.listingId, { callsTotal: c.total, callsSucceeded: c.succeeded, p50LatencyMs: null });
  // Lower median: the middle value for odd counts, the lower of the two middle ones for even counts.
  const medians = sqlite
    .query<{ listingId: string; ms: number }, [string, string]>(
      `SELECT listingId, ms FROM (
         SELECT listing_id AS listingId, upstream_latency_ms AS ms,
           ROW_NUMBER() OVER (PARTITION BY listing_id ORDER BY upstream_latency_ms) AS rn,
           COUNT(*) OVER (PARTITION BY listing_id) AS n
         FROM gateway_requests
         WHERE seller_id = ? AND created_at >= ? AND status = 'completed' AND upstream_latency_ms IS NOT NULL
       ) WHERE rn = (n + 1) / 2`,
    )
    .all(sellerId, latencySinceIso);
  for (const m of medians) {
    const u = usage.get(m.listingId);
    if (u) u.p50LatencyMs = m.ms;
  }
  return usage;
}
