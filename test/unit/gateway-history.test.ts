// Threat: a failing database write silently drops call history, or crashes the server from a timer.
import { expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/open.ts';
import { createHistoryWriter } from '../../src/modules/gateway/history.ts';
import type { GatewayRequestRow } from '../../src/modules/gateway/schema.ts';

const row = (id: string): GatewayRequestRow => ({
  id, buyerId: 'b', sellerId: 's', listingId: 'l', relayRequestId: null, status: 'completed', httpStatus: 200, sellerStatus: 200,
  amountMicroUsd: 0, totalLatencyMs: 1, upstreamLatencyMs: 1, requestBytes: 2, responseBytes: 2, errorCode: null, createdAt: new Date().toISOString(),
});

test('rows queued while the database refuses writes are kept and written once it accepts them again', async () => {
  const { sqlite } = openDatabase(join(mkdtempSync(join(tmpdir(), 'crochet-history-')), 'crochet.db'));
  const errors: number[] = [];
  const history = createHistoryWriter(sqlite, { flushAfterMs: 1, onWriteError: (_e, queued) => errors.push(queued) });
  // Another connection holds the write lock: every write fails with SQLITE_BUSY (no busy wait here).
  sqlite.run('PRAGMA busy_timeout = 0');
  const { Database } = await import('bun:sqlite');
  const other = new Database(sqlite.filename);
  other.run('BEGIN IMMEDIATE');
  history.record(row('gw_req_1'));
  history.record(row('gw_req_2'));
  expect(() => history.flush()).not.toThrow();
  expect(errors.at(-1)).toBe(2);
  expect(history.pending()).toBe(2);
  other.run('ROLLBACK');
  other.close();
  history.record(row('gw_req_3'));
  history.flush();
  expect(history.pending()).toBe(0);
  expect(sqlite.query('SELECT id FROM gateway_requests ORDER BY id').all()).toEqual([{ id: 'gw_req_1' }, { id: 'gw_req_2' }, { id: 'gw_req_3' }]);
  sqlite.close();
});

test('from its worker: every row queued before a flush is readable after it, and close writes the rest before the thread ends', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'crochet-history-')), 'crochet.db');
  const { sqlite } = openDatabase(path);
  const history = createHistoryWriter(sqlite, { flushAfterMs: 60_000, inWorker: { path } });
  for (let i = 0; i < 2500; i++) history.record(row(`gw_req_a${String(i).padStart(4, '0')}`));
  history.flush();
  expect(sqlite.query('SELECT COUNT(*) AS n FROM gateway_requests').get()).toEqual({ n: 2500 });
  // A paid attempt: its pending row written inline, its outcome batched; the outcome wins.
  history.writeNow({ ...row('gw_req_paid'), status: 'payment_pending', httpStatus: 202 });
  history.record({ ...row('gw_req_paid'), status: 'seller_failed', httpStatus: 502 });
  history.record(row('gw_req_last'));
  history.close();
  expect(sqlite.query("SELECT status FROM gateway_requests WHERE id = 'gw_req_paid'").get()).toEqual({ status: 'seller_failed' });
  expect(sqlite.query('SELECT COUNT(*) AS n FROM gateway_requests').get()).toEqual({ n: 2502 });
  sqlite.close();
});

test('from its worker: rows refused by a locked database are retried, not lost, and the failure is reported', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'crochet-history-')), 'crochet.db');
  const { sqlite } = openDatabase(path);
  const errors: number[] = [];
  const history = createHistoryWriter(sqlite, { flushAfterMs: 1, inWorker: { path }, onWriteError: (_e, queued) => errors.push(queued) });
  history.record(row('gw_req_warm'));
  history.flush();
  // Held for longer than the worker's busy timeout (5 s) would take to give up: it gives up at 5 s.
  sqlite.run('BEGIN IMMEDIATE');
  history.record(row('gw_req_locked'));
  await Bun.sleep(5_500);
  sqlite.run('COMMIT');
  expect(errors.at(-1)).toBe(1);
  await Bun.sleep(1_500);
  history.close();
  expect(sqlite.query('SELECT id FROM gateway_requests ORDER BY id').all()).toEqual([{ id: 'gw_req_locked' }, { id: 'gw_req_warm' }]);
  sqlite.close();
}, 20_000);

test('a history worker that cannot run loses no row: its batches are written on the main connection and the failure reported', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'crochet-history-')), 'crochet.db');
  const { sqlite } = openDatabase(path);
  const errors: string[] = [];
  const broken = join(mkdtempSync(join(tmpdir(), 'crochet-history-')), 'throws.ts');
  await Bun.write(broken, "throw new Error('this worker cannot start');\n");
  const history = createHistoryWriter(sqlite, { flushAfterMs: 1, inWorker: { path, workerUrl: broken }, onWriteError: (e) => errors.push(String(e)) });
  history.record(row('gw_req_x1'));
  history.record(row('gw_req_x2'));
  await Bun.sleep(200);
  history.record(row('gw_req_x3'));
  history.flush();
  history.close();
  expect(errors.some((e) => e.includes('history worker failed'))).toBe(true);
  expect(sqlite.query('SELECT id FROM gateway_requests ORDER BY id').all()).toEqual([{ id: 'gw_req_x1' }, { id: 'gw_req_x2' }, { id: 'gw_req_x3' }]);
  sqlite.close();
});
