import type { Database } from 'bun:sqlite';
import { historyInsertSql, type HistoryRowValues } from './history-row.ts';
import type { HistoryWorkerMessage, HistoryWorkerReport } from './history-worker.ts';
import type { GatewayRequestRow } from './schema.ts';

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
  /** Writes everything queued and ends the writer's thread, if it has one (a clean stop). */
  close(): void;
};

// A compiled executable holds the worker as its own entry point, named by its path under src/
// (scripts/build.ts); from source it is the file next to this one.
const HISTORY_WORKER_URL = import.meta.url.includes('/$bunfs/') ? './modules/gateway/history-worker.ts' : new URL('./history-worker.ts', import.meta.url).href;

/** How long a reader waits for the history thread to write what was queued before it. */
const WORKER_FLUSH_TIMEOUT_MS = 10_000;

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
 *
 * With `inWorker` (the server: src/server.ts) batches are written by a Worker on its own
 * connection (history-worker.ts, started with the first batch), so neither the inserts nor the
 * WAL checkpoints their commits trigger run on the thread that serves requests; `flush` then
 * waits for the worker to have written everything queued before it. `writeNow` stays on the
 * caller's connection: it is part of the caller's transaction. A row's batched outcome always
 * follows its `writeNow` pending row, so OR REPLACE keeps the outcome on either path.
 * Measured: docs/performance.md, "History writer".
 */
export function createHistoryWriter(
  sqlite: Database,
  opts: { flushAfterMs?: number; maxBatch?: number; onWriteError?: (error: unknown, queued: number) => void; inWorker?: { path: string; workerUrl?: string } } = {},
): HistoryWriter {
  const flushAfterMs = opts.flushAfterMs ?? 25;
  const maxBatch = opts.maxBatch ?? 1024;
  const insert = sqlite.prepare<unknown, HistoryRowValues>(historyInsertSql);
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
    close: flush,
  };
  return opts.inWorker ? inWorker(writer, opts.inWorker.path, { flushAfterMs, maxBatch, onWriteError: opts.onWriteError, workerUrl: opts.inWorker.workerUrl ?? HISTORY_WORKER_URL }) : writer;
}

/** The same writer with its batches sent to a Worker (see createHistoryWriter). */
function inWorker(
  local: HistoryWriter,
  path: string,
  opts: { flushAfterMs: number; maxBatch: number; onWriteError?: (error: unknown, queued: number) => void; workerUrl: string },
): HistoryWriter {
  let worker: Worker | null = null;
  // Set when the worker could not run: every batch is then written here, on the caller's connection.
  let broken = false;
  // The number of the last batch the worker has handled, written by the worker.
  const done = new Int32Array(new SharedArrayBuffer(4));
  let posted = 0;
  // Batches sent and not yet confirmed: written here if the worker dies before handling them.
  let unconfirmed: { batch: number; rows: GatewayRequestRow[] }[] = [];
  let queue: GatewayRequestRow[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const writeHere = (rows: GatewayRequestRow[]) => {
    for (const row of rows) local.record(row);
    local.flush();
  };
  const post = (message: HistoryWorkerMessage) => {
    if (!worker) {
      worker = new Worker(opts.workerUrl);
      // The process may end while it idles: only a clean stop (close) must wait for it.
      (worker as Worker & { unref(): void }).unref();
      worker.onmessage = (event: MessageEvent<HistoryWorkerReport>) => opts.onWriteError?.(new Error(event.data.error), event.data.queued);
      worker.onerror = (event) => {
        broken = true;
        worker?.terminate();
        worker = null;
        const handled = Atomics.load(done, 0);
        const lost = unconfirmed.filter((b) => b.batch > handled).flatMap((b) => b.rows);
        unconfirmed = [];
        opts.onWriteError?.(new Error(`history worker failed, writing on the main connection: ${event.message}`), lost.length);
        writeHere(lost);
      };
      worker.postMessage({ type: 'open', path, done: done.buffer as SharedArrayBuffer } satisfies HistoryWorkerMessage);
    }
    worker.postMessage(message);
  };
  const send = () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (queue.length === 0) return;
    const rows = queue;
    queue = [];
    if (broken) return writeHere(rows);
    const handled = Atomics.load(done, 0);
    if (unconfirmed.length > 0 && (unconfirmed[0]?.batch ?? 0) <= handled) unconfirmed = unconfirmed.filter((b) => b.batch > handled);
    unconfirmed.push({ batch: ++posted, rows });
    post({ type: 'rows', batch: posted, rows });
  };
  // Blocks this thread until the worker has handled batch `upTo` (readers need every row queued before them).
  const waitFor = (upTo: number) => {
    const deadline = performance.now() + WORKER_FLUSH_TIMEOUT_MS;
    for (let seen = Atomics.load(done, 0); seen < upTo; seen = Atomics.load(done, 0)) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      Atomics.wait(done, 0, seen, left);
    }
  };
  return {
    record(row) {
      queue.push(row);
      if (queue.length >= opts.maxBatch) send();
      else timer ??= setTimeout(send, opts.flushAfterMs);
    },
    writeNow: local.writeNow,
    flush() {
      send();
      if (worker) waitFor(posted);
      if (broken) local.flush();
    },
    pending: () => queue.length,
    close() {
      send();
      if (!worker) return;
      post({ type: 'close', batch: ++posted });
      waitFor(posted);
      worker.terminate();
      worker = null;
    },
  };
}
