import type { Database } from 'bun:sqlite';
import type { GatewayRequestRow } from './schema.ts';

const COLUMNS = [
  'id', 'buyer_id', 'seller_id', 'listing_id', 'relay_request_id', 'status', 'http_status', 'seller_status', 'amount_micro_usd',
  'total_latency_ms', 'upstream_latency_ms', 'request_bytes', 'response_bytes', 'error_code', 'created_at',
] as const;


type GatewayRowValues = [
  string, string, string | null, string, string | null, string, number, number | null, number,
  number, number | null, number, number, string | null, string,
];

/** What a reader of `gateway_requests` needs: the app's writer, to write what it queued first. */
export type HistoryDeps = { history: Pick<HistoryWriter, 'flush'> };

export type HistoryWriter = {
  /** Queues a row; it is written within `flushAfterMs` or when the batch fills. */
  record(row: GatewayRequestRow): void;
  /** Writes a row now, inside the caller's transaction if one is open (paid calls). */
  writeNow(row: GatewayRequestRow): void;
  /** Writes everything queued, in one transaction. Readers call it first so they see every call. */
  flush(): void;
  pending(): number;
};

const RETRY_AFTER_MS = 1_000;
const MAX_QUEUED_ROWS = 100_000;

/**
 * Write-behind history, one writer per app (created with the app's runtime, src/runtime.ts, and
 * passed to every reader of the history). Attempts are batched into one transaction every 25 ms,
 * which keeps a SQLite write off each call's path. Longer intervals were measured too: a little
 * less work per row, but longer event-loop stalls per flush and a bigger loss window on a crash.
 * Nothing is lost on a clean shutdown (the app flushes on stop) and readers flush first, so history
 * is never seen stale. A crash can lose the last batch. Money never depends on these rows: a settlement writes
 * its attempt's row in the settlement transaction and a handled paid call writes its final row
 * with the release (`writeNow`); refusals, 402s, pending replies and seller failures are batched.
 */
export function createHistoryWriter(
  sqlite: Database,
  opts: { flushAfterMs?: number; maxBatch?: number; onWriteError?: (error: unknown, queued: number) => void } = {},
): HistoryWriter {
  const flushAfterMs = opts.flushAfterMs ?? 25;
  const maxBatch = opts.maxBatch ?? 1024;
  // OR REPLACE: a paid attempt's row is first written inside its settlement transaction and
  // replaced by its outcome later (a new rowid, so score ingestion reads the final row).
  const insert = sqlite.prepare<unknown, GatewayRowValues>(`INSERT OR REPLACE INTO gateway_requests (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  // Arguments listed, not spread from an array: this runs once per gateway call.
  const write = (r: GatewayRequestRow) =>
    insert.run(
      r.id, r.buyerId, r.sellerId, r.listingId, r.relayRequestId, r.status, r.httpStatus, r.sellerStatus, r.amountMicroUsd,
      r.totalLatencyMs, r.upstreamLatencyMs, r.requestBytes, r.responseBytes, r.errorCode, r.createdAt,
    );
  let queue: GatewayRequestRow[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;

  const writeBatch = sqlite.transaction((rows: GatewayRequestRow[]) => {
    for (const row of rows) write(row);
  });

  const flush = () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (queue.length === 0) return;
    const rows = queue;
    queue = [];
    try {
      writeBatch.immediate(rows);
    } catch (error) {
      // A locked or full disk must neither drop these rows nor crash the server from a timer:
      // keep them ahead of newer ones and try again. Memory stays bounded if the disk never recovers.
      queue = rows.concat(queue).slice(-MAX_QUEUED_ROWS);
      opts.onWriteError?.(error, queue.length);
      timer ??= setTimeout(flush, RETRY_AFTER_MS);
    }
  };

  const writer: HistoryWriter = {
    record(row) {
      queue.push(row);
      if (queue.length >= maxBatch) flush();
      else timer ??= setTimeout(flush, flushAfterMs);
    },
    writeNow(row) {
      write(row);
    },
    flush,
    pending: () => queue.length,
  };
  return writer;
}
