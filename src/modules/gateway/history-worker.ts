// The history writer's thread (history.ts, `createHistoryWriter` with `inWorker`): its own SQLite
// connection, so batches of gateway_requests rows — and the WAL checkpoints their commits start —
// never run on the thread that serves requests. Messages: `open` (path, a shared counter), then
// `rows` batches numbered in order, then `close`. After each batch is handled the counter holds its
// number, so a reader on the main thread can wait for everything queued before it to be written.
import { Database } from 'bun:sqlite';
import { type HistoryRowValues, historyInsertSql, valuesOf } from './history-row.ts';
import type { GatewayRequestRow } from './schema.ts';

declare const self: Worker;

export type HistoryWorkerMessage =
  | { type: 'open'; path: string; done: SharedArrayBuffer }
  | { type: 'rows'; batch: number; rows: GatewayRequestRow[] }
  | { type: 'close'; batch: number };
/** To the main thread: a batch that could not be written (kept and retried). */
export type HistoryWorkerReport = { type: 'write_failed'; error: string; queued: number };

const RETRY_AFTER_MS = 1_000;
const MAX_QUEUED_ROWS = 100_000;

let sqlite: Database | null = null;
let done: Int32Array | null = null;
let write: ((rows: GatewayRequestRow[]) => void) | null = null;
let failed: GatewayRequestRow[] = [];
let retry: ReturnType<typeof setTimeout> | null = null;

function handled(batch: number) {
  if (!done) return;
  Atomics.store(done, 0, batch);
  Atomics.notify(done, 0);
}

function writeAll(rows: GatewayRequestRow[]) {
  const all = failed.length > 0 ? failed.concat(rows) : rows;
  failed = [];
  try {
    write?.(all);
  } catch (error) {
    // A locked or full disk must not drop rows: keep them (bounded) and try again.
    failed = all.slice(-MAX_QUEUED_ROWS);
    self.postMessage({ type: 'write_failed', error: error instanceof Error ? error.message : String(error), queued: failed.length } satisfies HistoryWorkerReport);
    retry ??= setTimeout(() => {
      retry = null;
      if (failed.length > 0) writeAll([]);
    }, RETRY_AFTER_MS);
  }
}

self.onmessage = (event: MessageEvent<HistoryWorkerMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'open': {
      // The same settings as the main connection (src/db/open.ts); the schema is already migrated.
      sqlite = new Database(message.path, { strict: true });
      sqlite.run('PRAGMA busy_timeout = 5000');
      sqlite.run('PRAGMA synchronous = NORMAL');
      sqlite.run('PRAGMA wal_autocheckpoint = 10000');
      sqlite.run('PRAGMA journal_size_limit = 67108864');
      sqlite.run('PRAGMA foreign_keys = ON');
      const insert = sqlite.prepare<unknown, HistoryRowValues>(historyInsertSql);
      const batch = sqlite.transaction((rows: GatewayRequestRow[]) => {
        for (const row of rows) insert.run(...valuesOf(row));
      });
      write = (rows) => batch.immediate(rows);
      done = new Int32Array(message.done);
      break;
    }
    case 'rows':
      writeAll(message.rows);
      handled(message.batch);
      break;
    case 'close':
      if (retry) clearTimeout(retry);
      if (failed.length > 0) writeAll([]);
      sqlite?.close();
      sqlite = null;
      handled(message.batch);
      break;
  }
};
