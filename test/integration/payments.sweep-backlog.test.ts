// Threat: a backlog of expired intents freezes the server while it is swept, or the sweep turns a
// call that is being forwarded right now into a refund (the buyer refunded and the seller credited).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { immediate } from '../../src/db/tx.ts';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import * as Payments from '../../src/modules/payments/service.ts';
import { generateMasterKey } from '../../src/modules/vault/envelope.ts';
import { createVault } from '../../src/modules/vault/service.ts';
import { manualClock } from '../../src/shared/clock.ts';
import type { CoreDeps } from '../../src/shared/deps.ts';
import { memoryLogger } from '../../src/shared/logger.ts';

/** CPU time of the calling thread (Bun implements Node's `process.threadCpuUsage`). */
const threadCpuUsage = (since?: NodeJS.CpuUsage): NodeJS.CpuUsage => (process as unknown as { threadCpuUsage(p?: NodeJS.CpuUsage): NodeJS.CpuUsage }).threadCpuUsage(since);

const BACKLOG = 20_000;
const REPLIES = 5_000;
/** The bound on any single event-loop stall while the backlog is swept. */
const MAX_STALL_MS = 50;
const START = new Date('2026-06-01T12:00:00.000Z');
const BUYER = '0190aaaa-0000-7000-8000-00000000000b';

let dir: string;
let deps: CoreDeps & { clock: ReturnType<typeof manualClock> };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crochet-sweep-'));
  const config = loadConfig({ env: { CROCHET_DATA_DIR: dir } });
  deps = { config, db: openDatabase(join(dir, 'crochet.db')), clock: manualClock(START), logger: memoryLogger(), vault: createVault(generateMasterKey()) };
});
afterAll(() => {
  deps.db.sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

const iso = (offsetMs: number) => new Date(START.getTime() + offsetMs).toISOString();
const statuses = () =>
  Object.fromEntries((deps.db.sqlite.query('SELECT status, COUNT(*) AS n FROM payment_intents GROUP BY status').all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));

/** `count` intents in `status` that expired a minute ago (settled ones with their payment recorded). */
function seed(prefix: string, count: number, status: 'open' | 'settled', lease: { id: string; until: string } | null = null) {
  const insert = deps.db.sqlite.query(
    `INSERT INTO payment_intents (id, buyer_id, seller_id, listing_id, body_sha256, amount_micro_usd, fee_bps, routes, status, created_at, expires_at,
       settlement_key, settled_network, settled_tx_ref, settled_at, lease_id, lease_until)
     VALUES (?, ?, ?, 'lst', ?, 250000, 0, '[]', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  immediate(deps.db.sqlite, () => {
    for (let i = 0; i < count; i++) {
      const settled = status === 'settled';
      insert.run(`rly_${prefix}${i}`, BUYER, BUYER, '0'.repeat(64), status, iso(-960_000), iso(-60_000 + (i % 1000)),
        settled ? `eip155:1:0x${prefix}${i}:0` : null, settled ? 'eip155:1' : null, settled ? `0x${prefix}${i}` : null, settled ? iso(-900_000) : null,
        lease?.id ?? null, lease?.until ?? null);
    }
  });
}

test(`a backlog of ${BACKLOG} expired intents and ${REPLIES} stored replies is swept with no event-loop stall over ${MAX_STALL_MS} ms`, async () => {
  seed('o', BACKLOG / 2, 'open');
  seed('s', BACKLOG / 2, 'settled');
  const reply = deps.db.sqlite.query("INSERT INTO paid_responses (gateway_request_id, intent_id, buyer_id, seller_status, body_sealed, created_at, expires_at) VALUES (?, 'rly_x', ?, 200, 'v1$x', ?, ?)");
  immediate(deps.db.sqlite, () => {
    for (let i = 0; i < REPLIES; i++) reply.run(`gw_req_old${i}`, BUYER, iso(-90_000_000), iso(-1_000));
  });

  // Probe: a 2 ms timer. Between two ticks, the wall-clock gap less the period is how long the loop
  // did not run timers. On a shared machine that gap also counts time the OS gave to other
  // processes, so a stall is the smaller of that gap and the CPU time the event-loop thread used
  // meanwhile (`threadCpuUsage`: other threads, such as the collector's, do not block the loop):
  // work that kept the loop from running, however long the OS took to schedule it.
  let last = performance.now();
  let lastCpu = threadCpuUsage();
  let longest = 0;
  let longestWall = 0;
  let ticks = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    const cpu = threadCpuUsage(lastCpu);
    const wall = now - last - 2;
    longestWall = Math.max(longestWall, wall);
    longest = Math.max(longest, Math.min(wall, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = threadCpuUsage();
    ticks++;
  }, 2);
  await Bun.sleep(20);
  longest = 0;
  longestWall = 0;
  last = performance.now();
  lastCpu = threadCpuUsage();
  let result: Awaited<ReturnType<typeof Payments.sweepAll>>;
  try {
    result = await Payments.sweepAll(deps);
  } finally {
    clearInterval(probe);
  }
  expect(result).toEqual({ expired: BACKLOG / 2, refundDue: BACKLOG / 2, repliesDeleted: REPLIES });
  expect(statuses()).toEqual({ expired: BACKLOG / 2, refund_due: BACKLOG / 2 });
  expect(ticks).toBeGreaterThan(10); // the probe really ran during the sweep
  console.log(`sweep of the backlog: longest stall ${longest.toFixed(1)} ms (wall-clock gap ${longestWall.toFixed(1)} ms)`);
  expect(longest).toBeLessThan(MAX_STALL_MS);
  expect(verifyLedger(deps.db.sqlite).ok).toBe(true);
  // Swept again: nothing left to do, nothing posted twice.
  expect(await Payments.sweepAll(deps)).toEqual({ expired: 0, refundDue: 0, repliesDeleted: 0 });
}, 120_000);

test('an expired intent whose call is being forwarded (a live lease) is left alone until the lease lapses', async () => {
  seed('lease', 3, 'settled', { id: 'held-by-a-live-process', until: iso(30_000) });
  const entries = () => (deps.db.sqlite.query("SELECT COUNT(*) AS n FROM ledger_entries WHERE relay_request_id LIKE 'rly_lease%'").get() as { n: number }).n;
  expect(await Payments.sweepAll(deps)).toMatchObject({ refundDue: 0 });
  expect(deps.db.sqlite.query("SELECT DISTINCT status FROM payment_intents WHERE id LIKE 'rly_lease%'").all()).toEqual([{ status: 'settled' }]);
  expect(entries()).toBe(0);
  deps.clock.advance(30_001);
  expect(await Payments.sweepAll(deps)).toMatchObject({ refundDue: 3 });
  expect(entries()).toBe(6);
});
