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
