// Threat: two processes on one data folder run the sweep or the score recompute at the same time
// (double work, racing writes), or a process that died holding the job blocks it for ever.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/open.ts';
import { runExclusive, tryTakeJobLease } from '../../src/modules/scheduler/service.ts';
import { manualClock } from '../../src/shared/clock.ts';

const dir = mkdtempSync(join(tmpdir(), 'crochet-jobs-'));
const clock = manualClock(new Date('2026-06-01T12:00:00.000Z'));
// Two connections to one file: what two processes sharing the data folder hold.
const one = { db: openDatabase(join(dir, 'crochet.db')), clock };
const two = { db: openDatabase(join(dir, 'crochet.db')), clock };
afterAll(() => {
  one.db.sqlite.close();
  two.db.sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

test('while one connection runs a job, the other does not; once it is done, the other may', async () => {
  let finish = () => {};
  const running = runExclusive(one, 'payments-sweep', 60_000, () => new Promise<string>((resolve) => (finish = () => resolve('swept'))));
  expect(await runExclusive(two, 'payments-sweep', 60_000, () => 'twice')).toEqual({ ran: false });
  // Another job is not blocked by it.
  expect(await runExclusive(two, 'score-recompute', 60_000, () => 'scores')).toEqual({ ran: true, value: 'scores' });
  finish();
  expect(await running).toEqual({ ran: true, value: 'swept' });
  expect(await runExclusive(two, 'payments-sweep', 60_000, () => 'next')).toEqual({ ran: true, value: 'next' });
});

test('a holder that died stops blocking once its lease lapses; a renewing holder keeps it', async () => {
  expect(tryTakeJobLease(one, 'payments-sweep', 30_000)).not.toBeNull(); // never released: its process "died"
  expect(await runExclusive(two, 'payments-sweep', 30_000, () => 'blocked')).toEqual({ ran: false });
  clock.advance(30_001);
  expect(await runExclusive(two, 'payments-sweep', 30_000, async (lease) => {
    clock.advance(20_000);
    expect(lease.renew()).toBe(true);
    clock.advance(20_000); // 40 s after it was taken, 20 s after the renewal
    return (await runExclusive(one, 'payments-sweep', 30_000, () => 'stolen')).ran;
  })).toEqual({ ran: true, value: false });
});
