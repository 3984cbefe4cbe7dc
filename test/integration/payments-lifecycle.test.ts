// Every (phase, event) pair of the payment lifecycle, performed by `apply` on a real migrated SQLite
// file: the status it leaves, the ledger transactions it posts (in order), or its refusal code. The
// expected table is written out here by hand, independently of src/modules/payments/lifecycle.ts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import { apply, type ApplyEvent } from '../../src/modules/payments/apply.ts';
import { EVENTS, type LifecycleEventType, PHASES, type Phase } from '../../src/modules/payments/lifecycle.ts';
import { generateMasterKey } from '../../src/modules/vault/envelope.ts';
import { createVault } from '../../src/modules/vault/service.ts';
import { manualClock } from '../../src/shared/clock.ts';
import type { CoreDeps } from '../../src/shared/deps.ts';
import { memoryLogger } from '../../src/shared/logger.ts';

/** `status [ledger kinds]`, `=` for an unchanged status, `ignore`, or `!CODE`. */
const EXPECTED: Record<Phase, Record<LifecycleEventType, string>> = {
  open: {
    pay: 'settled [settlement]', pay_again: 'ignore', pay_reclaimed: 'settled [adjustment settlement]', pay_used: '!PAYMENT_ALREADY_USED',
    claim: '!LIFECYCLE_NOT_PAID', complete: '!LIFECYCLE_NOT_PAID', release: 'ignore', expire: '!LIFECYCLE_NOT_DUE', refund: '!REFUND_NOT_FOUND',
  },
  open_expired: {
    pay: 'refund_due [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: '!PAYMENT_ALREADY_USED', pay_used: '!PAYMENT_ALREADY_USED',
    claim: '!PAYMENT_INTENT_EXPIRED', complete: '!PAYMENT_INTENT_EXPIRED', release: 'ignore', expire: 'expired []', refund: '!REFUND_NOT_FOUND',
  },
  expired: {
    pay: 'refund_due [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: '!PAYMENT_ALREADY_USED', pay_used: '!PAYMENT_ALREADY_USED',
    claim: '!PAYMENT_INTENT_EXPIRED', complete: '!PAYMENT_INTENT_EXPIRED', release: 'ignore', expire: 'ignore', refund: '!REFUND_NOT_FOUND',
  },
  settled: {
    pay: '= [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: 'ignore', pay_used: 'ignore',
    claim: '= [] lease taken', complete: 'consumed [release]', release: 'ignore', expire: '!LIFECYCLE_NOT_DUE', refund: '!REFUND_NOT_FOUND',
  },
  settled_expired: {
    pay: '= [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: 'ignore', pay_used: 'ignore',
    claim: '!PAYMENT_INTENT_EXPIRED', complete: 'consumed [release]', release: 'ignore', expire: 'refund_due [refund_due]', refund: '!REFUND_NOT_FOUND',
  },
  forwarding: {
    pay: '= [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: 'ignore', pay_used: 'ignore',
    claim: '!PAYMENT_IN_PROGRESS', complete: 'consumed [release] lease dropped', release: '= [] lease dropped', expire: '!PAYMENT_IN_PROGRESS', refund: '!REFUND_NOT_FOUND',
  },
  consumed: {
    pay: '= [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: 'ignore', pay_used: 'ignore',
    claim: '!PAYMENT_INTENT_CONSUMED', complete: '!PAYMENT_INTENT_CONSUMED', release: 'ignore', expire: 'ignore', refund: '!REFUND_NOT_FOUND',
  },
  refund_due: {
    pay: '= [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: 'ignore', pay_used: 'ignore',
    claim: '!PAYMENT_INTENT_EXPIRED', complete: '!PAYMENT_INTENT_EXPIRED', release: 'ignore', expire: 'ignore', refund: 'refunded [refund]',
  },
  refunded: {
    pay: '= [settlement refund_due]', pay_again: 'ignore', pay_reclaimed: 'ignore', pay_used: 'ignore',
    claim: '!PAYMENT_INTENT_EXPIRED', complete: '!PAYMENT_INTENT_EXPIRED', release: 'ignore', expire: 'ignore', refund: '!REFUND_NOT_FOUND',
  },
};

const NOW = new Date('2026-06-01T12:00:00.000Z');
const FUTURE = '2026-06-01T12:15:00.000Z';
const PAST = '2026-06-01T11:45:00.000Z';
const BUYER = '0190aaaa-0000-7000-8000-000000000001';
const OTHER_BUYER = '0190aaaa-0000-7000-8000-000000000002';
const SELLER = '0190aaaa-0000-7000-8000-000000000003';

let dir: string;
let deps: CoreDeps;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crochet-lifecycle-'));
  const config = loadConfig({ env: { CROCHET_DATA_DIR: dir, CROCHET_FEE_BPS: '250' } });
  deps = { config, db: openDatabase(join(dir, 'crochet.db')), clock: manualClock(NOW), logger: memoryLogger(), vault: createVault(generateMasterKey()) };
});
afterAll(() => {
  deps.db.sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const sql = (text: string, ...args: (string | number | null)[]) => deps.db.sqlite.query(text).run(...args);

/** An intent in `status`, with its paying transfer recorded when it has one. */
function intent(status: string, opts: { expiresAt?: string; buyer?: string; amount?: number; lease?: boolean } = {}): string {
  const id = `rly_cell${++n}`;
  const paid = status !== 'open' && status !== 'expired';
  const key = paid ? `eip155:1:0xpaid${n}:0` : null;
  sql(
    `INSERT INTO payment_intents (id, buyer_id, seller_id, listing_id, body_sha256, amount_micro_usd, fee_bps, routes, status, created_at, expires_at,
       settlement_key, settled_network, settled_tx_ref, settled_at, refund_tx_ref, lease_id, lease_until)
     VALUES (?, ?, ?, 'lst', ?, ?, 250, '[]', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id, opts.buyer ?? BUYER, SELLER, '0'.repeat(64), opts.amount ?? 250_000, status, PAST, opts.expiresAt ?? FUTURE,
    key, paid ? 'eip155:1' : null, paid ? `0xpaid${n}` : null, paid ? PAST : null, status === 'refunded' ? '0xrefunded' : null,
    opts.lease ? 'lease-held' : null, opts.lease ? FUTURE : null,
  );
  if (key) transfer(key, id, false);
  return id;
}

function transfer(key: string, intentId: string, surplus: boolean): void {
  sql(
    `INSERT INTO payment_settlements (settlement_key, intent_id, network, tx_ref, transfer_index, payer, amount_atomic, created_at, surplus)
     VALUES (?, ?, 'eip155:1', ?, 0, '0xpayer', '250000', ?, ?)`,
    key, intentId, key.split(':')[2] as string, PAST, surplus ? 1 : 0,
  );
}

const IN_PHASE: Record<Phase, () => string> = {
  open: () => intent('open'),
  open_expired: () => intent('open', { expiresAt: PAST }),
  expired: () => intent('expired', { expiresAt: PAST }),
  settled: () => intent('settled'),
  settled_expired: () => intent('settled', { expiresAt: PAST }),
  forwarding: () => intent('settled', { lease: true }),
  consumed: () => intent('consumed'),
  refund_due: () => intent('refund_due', { expiresAt: PAST }),
  refunded: () => intent('refunded', { expiresAt: PAST }),
};

/** The event of the table, as its caller would present it (a transfer the books classify as the event says). */
function eventFor(type: LifecycleEventType, id: string): ApplyEvent {
  const verified = (key: string) => ({ type: 'payment', transfer: { status: 'verified', settlementKey: key, txRef: key.split(':')[2] as string, payer: '0xpayer', amountAtomic: 250_000n, transferIndex: 0, network: 'eip155:1' } }) as const;
  switch (type) {
    case 'pay':
      return verified(`eip155:1:0xfresh${++n}:0`);
    case 'pay_again': {
      const key = `eip155:1:0xmine${++n}:0`;
      transfer(key, id, true);
      return verified(key);
    }
    case 'pay_reclaimed': {
      const key = `eip155:1:0xowed${++n}:0`;
      transfer(key, intent('consumed', { amount: 200_000 }), true);
      return verified(key);
    }
    case 'pay_used': {
      const key = `eip155:1:0xused${++n}:0`;
      transfer(key, intent('consumed', { buyer: OTHER_BUYER }), false);
      return verified(key);
    }
    case 'claim':
      return { type: 'claim', claim: { leaseId: 'lease-new', until: FUTURE } };
    case 'complete':
      return { type: 'complete', call: { gatewayRequestId: `gw_req_cell${++n}`, sellerStatus: 200, body: new TextEncoder().encode('{"ok":true}') } };
    case 'release':
      return { type: 'release', leaseId: 'lease-held' };
    case 'expire':
      return { type: 'expire' };
    case 'refund':
      return { type: 'refund', txRef: `0xrefund${++n}` };
  }
}

const lastLedgerTransaction = () => (deps.db.sqlite.query('SELECT max(rowid) AS r FROM ledger_transactions').get() as { r: number | null }).r ?? 0;

describe.each(PHASES.map((p) => [p]))('%s', (phase) => {
  test.each(EVENTS.map((e) => [e]))('%s', (event) => {
    const id = IN_PHASE[phase]();
    const before = deps.db.sqlite.query('SELECT status, lease_id FROM payment_intents WHERE id = ?').get(id) as { status: string; lease_id: string | null };
    const e = eventFor(event, id);
    const mark = lastLedgerTransaction();
    const result = apply(deps, id, e);
    const after = deps.db.sqlite.query('SELECT status, lease_id FROM payment_intents WHERE id = ?').get(id) as { status: string; lease_id: string | null };
    const posted = (deps.db.sqlite.query('SELECT kind FROM ledger_transactions WHERE rowid > ? ORDER BY rowid').all(mark) as { kind: string }[]).map((r) => r.kind);
    // The books classified the transfer as the event of this column, in this phase.
    expect(result.steps[0]).toMatchObject({ event, phase });
    const cell = result.steps[0]!.transition;
    let seen: string;
    if (cell.kind === 'refuse') seen = `!${cell.code}`;
    else if (cell.kind === 'ignore') seen = 'ignore';
    else {
      const lease = after.lease_id === before.lease_id ? '' : after.lease_id === null ? ' lease dropped' : ' lease taken';
      seen = `${after.status === before.status ? '=' : after.status} [${posted.join(' ')}]${lease}`;
    }
    expect(seen).toBe(EXPECTED[phase][event]);
    // Refusals and ignored events change nothing at all.
    if (cell.kind !== 'move') {
      expect(after).toEqual(before);
      expect(posted).toEqual([]);
    }
  });
});

test('every cell kept the ledger balanced and chained', () => {
  expect(verifyLedger(deps.db.sqlite).ok).toBe(true);
});
