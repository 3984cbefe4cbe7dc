import { Database } from 'bun:sqlite';
import { expect, test } from 'bun:test';
import { drainGatewayCalls, trackInFlightCalls } from '../../src/modules/gateway/in-flight.ts';

test('idle at once with no call running; otherwise when the last call ends', async () => {
  const calls = trackInFlightCalls(new Database(':memory:'));
  expect(await calls.idle(1_000)).toBe(true);
  calls.begin();
  calls.begin();
  let settled: boolean | null = null;
  const waiting = calls.idle(5_000).then((v) => (settled = v));
  calls.end();
  await Bun.sleep(5);
  expect(settled).toBeNull(); // one call is still running
  calls.end();
  expect(await waiting).toBe(true);
});

test('gives up at the deadline while a call is still running', async () => {
  const calls = trackInFlightCalls(new Database(':memory:'));
  calls.begin();
  expect(await calls.idle(20)).toBe(false);
  calls.end();
  expect(await calls.idle(20)).toBe(true);
});

test('drain waits for every tracker of that database only', async () => {
  const db = new Database(':memory:');
  const [a, b] = [trackInFlightCalls(db), trackInFlightCalls(db)];
  const elsewhere = trackInFlightCalls(new Database(':memory:'));
  elsewhere.begin(); // another database's call never holds this one's drain
  a.begin();
  b.begin();
  let lastEnded = false;
  setTimeout(() => a.end(), 10);
  setTimeout(() => ((lastEnded = true), b.end()), 30);
  expect(await drainGatewayCalls(db, 5_000)).toBe(true);
  expect(lastEnded).toBe(true);
  b.begin();
  expect(await drainGatewayCalls(db, 20)).toBe(false);
});
