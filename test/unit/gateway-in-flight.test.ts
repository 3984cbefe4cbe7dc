import { expect, test } from 'bun:test';
import { trackInFlightCalls } from '../../src/modules/gateway/in-flight.ts';

test('idle at once with no call running; otherwise when the last call ends', async () => {
  const calls = trackInFlightCalls();
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
  const calls = trackInFlightCalls();
  calls.begin();
  expect(await calls.idle(20)).toBe(false);
  calls.end();
  expect(await calls.idle(20)).toBe(true);
});
