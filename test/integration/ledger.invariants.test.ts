// Threat: tampering with or unbalancing the money record — rewriting, deleting or forging ledger rows, or posting entries that do not sum to zero.
import { afterEach, describe, expect, test } from 'bun:test';
import type { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { immediate } from '../../src/db/tx.ts';
import {
  entryHash,
  GENESIS_HASH,
  getTransactionEntries,
  postLedgerTransaction,
  refundDueEntries,
  refundEntries,
  releaseEntries,
  settlementEntries,
  verifyLedger,
  type LedgerEntryInput,
  type PostLedgerTransactionInput,
} from '../../src/modules/ledger/service.ts';
import { newId } from '../../src/shared/ids.ts';
import { createTestApp, type TestContext } from '../support/app.ts';

const REPO = join(import.meta.dir, '../..');
const open: TestContext[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function freshApp() {
  const t = await createTestApp();
  open.push(t);
  return t;
}

const counts = (sqlite: Database) => ({
  transactions: sqlite.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM ledger_transactions').get()?.n,
  entries: sqlite.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM ledger_entries').get()?.n,
});

type Row = { id: string; seq: number; transaction_id: string; amount_micro_usd: number; hash: string; prev_hash: string };
const rows = (sqlite: Database) => sqlite.query<Row, []>('SELECT id, seq, transaction_id, amount_micro_usd, hash, prev_hash FROM ledger_entries ORDER BY seq').all();

/** A paid call served (settlement + release), then one that expired unused and was refunded: 5 transactions, 11 entries. */
function seedLedger(t: TestContext) {
  const buyerId = newId();
  const sellerId = newId();
  const relay1 = 'rly_one';
  const settle1 = postLedgerTransaction(t.deps, { kind: 'settlement', entries: settlementEntries({ buyerId, amountMicroUsd: 250_000 }), network: 'eip155:8453', txRef: '0xaaa', relayRequestId: relay1 });
  const release1 = postLedgerTransaction(t.deps, { kind: 'release', entries: releaseEntries({ sellerId, amountMicroUsd: 250_000, feeBps: 250 }), relayRequestId: relay1, gatewayRequestId: 'gw_req_one' });
  const settle2 = postLedgerTransaction(t.deps, { kind: 'settlement', entries: settlementEntries({ buyerId, amountMicroUsd: 10_000 }), network: 'eip155:8453', txRef: '0xbbb', relayRequestId: 'rly_two' });
  const due2 = postLedgerTransaction(t.deps, { kind: 'refund_due', entries: refundDueEntries({ buyerId, amountMicroUsd: 10_000 }), relayRequestId: 'rly_two' });
  const refund2 = postLedgerTransaction(t.deps, { kind: 'refund', entries: refundEntries({ buyerId, amountMicroUsd: 10_000 }), network: 'eip155:8453', txRef: '0xrefund', relayRequestId: 'rly_two', memo: 'refunded by operator' });
  return { buyerId, sellerId, settle1, release1, settle2, due2, refund2 };
}

async function cliVerify(dir: string) {
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'ledger', 'verify', '--data-dir', dir], { cwd: REPO, stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: stdout + stderr };
}

describe('posting', () => {
  test('a paid call writes the SPEC entries, chained from the genesis hash, and verifies', async () => {
    const t = await freshApp();
    const { buyerId, sellerId, settle1, release1, refund2 } = seedLedger(t);
    const pick = (id: string) => getTransactionEntries(t.deps, id).map((e) => [e.account, e.entry_type, e.amount_micro_usd]);
    expect(pick(settle1)).toEqual([
      [`buyer:${buyerId}`, 'buyer_payment', -250_000],
      ['held', 'payment_held', 250_000],
    ]);
    expect(pick(release1)).toEqual([
      ['held', 'hold_released', -250_000],
      [`seller:${sellerId}`, 'seller_credit', 243_750],
      ['fees', 'marketplace_fee', 6_250],
    ]);
    expect(pick(refund2)).toEqual([
      [`refunds:${buyerId}`, 'refund', -10_000],
      [`buyer:${buyerId}`, 'refund', 10_000],
    ]);
    const all = rows(t.deps.db.sqlite);
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(all[0]?.prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < all.length; i++) expect(all[i]?.prev_hash).toBe(all[i - 1]?.hash as string);
    expect(verifyLedger(t.deps.db.sqlite)).toMatchObject({ ok: true, transactionsChecked: 5, entriesChecked: 11, head: { seq: 11, hash: all[10]?.hash } });
  });

  test('an empty ledger verifies', async () => {
    const t = await freshApp();
    expect(verifyLedger(t.deps.db.sqlite)).toEqual({ ok: true, transactionsChecked: 0, entriesChecked: 0 });
  });

  const buyer = newId();
  const refused: [string, Partial<PostLedgerTransactionInput> & { entries: LedgerEntryInput[] }, string][] = [
    ['unbalanced', { entries: [{ account: `buyer:${buyer}`, entryType: 'buyer_payment', amountMicroUsd: -250_000 }, { account: 'held', entryType: 'payment_held', amountMicroUsd: 249_999 }] }, 'sum to -1'],
    ['a single entry', { entries: [{ account: 'held', entryType: 'adjustment', amountMicroUsd: 5 }] }, 'at least 2'],
    ['no entries', { entries: [] }, 'at least 2'],
    ['a zero amount', { entries: [{ account: `buyer:${buyer}`, entryType: 'buyer_payment', amountMicroUsd: 0 }, { account: 'held', entryType: 'payment_held', amountMicroUsd: 0 }] }, 'zero'],
    ['a float amount', { entries: [{ account: `buyer:${buyer}`, entryType: 'buyer_payment', amountMicroUsd: -0.5 }, { account: 'held', entryType: 'payment_held', amountMicroUsd: 0.5 }] }, 'safe integer'],
    ['an unsafe integer', { entries: [{ account: `buyer:${buyer}`, entryType: 'buyer_payment', amountMicroUsd: -(2 ** 60) }, { account: 'held', entryType: 'payment_held', amountMicroUsd: 2 ** 60 }] }, 'safe integer'],
    ['a malformed account', { entries: [{ account: 'buyer:', entryType: 'buyer_payment', amountMicroUsd: -1 }, { account: 'held', entryType: 'payment_held', amountMicroUsd: 1 }] }, 'malformed account'],
    ['an unknown account kind', { entries: [{ account: `wallet:${buyer}`, entryType: 'adjustment', amountMicroUsd: -1 }, { account: 'held', entryType: 'adjustment', amountMicroUsd: 1 }] }, 'malformed account'],
    ['an entry type on the wrong account', { entries: [{ account: `buyer:${buyer}`, entryType: 'buyer_payment', amountMicroUsd: -1 }, { account: 'held', entryType: 'marketplace_fee', amountMicroUsd: 1 }] }, 'cannot be posted'],
    ['an unknown entry type', { entries: [{ account: `buyer:${buyer}`, entryType: 'gift' as 'adjustment', amountMicroUsd: -1 }, { account: 'held', entryType: 'adjustment', amountMicroUsd: 1 }] }, 'unknown entry type'],
    ['a profile that is not the account owner', { entries: [{ account: `buyer:${buyer}`, profileId: newId(), entryType: 'buyer_payment', amountMicroUsd: -1 }, { account: 'held', entryType: 'payment_held', amountMicroUsd: 1 }] }, 'does not match'],
    ['a profile on a shared account', { entries: [{ account: `buyer:${buyer}`, entryType: 'buyer_payment', amountMicroUsd: -1 }, { account: 'held', profileId: buyer, entryType: 'payment_held', amountMicroUsd: 1 }] }, 'does not match'],
    ['an unknown kind', { kind: 'gift' as 'adjustment', entries: settlementEntries({ buyerId: buyer, amountMicroUsd: 1 }) }, 'unknown transaction kind'],
    ['an empty tx_ref', { txRef: '', entries: settlementEntries({ buyerId: buyer, amountMicroUsd: 1 }) }, 'txRef'],
  ];
  test.each(refused)('refuses %s and writes nothing', async (_name, input, message) => {
    const t = await freshApp();
    seedLedger(t);
    const before = counts(t.deps.db.sqlite);
    expect(() => postLedgerTransaction(t.deps, { kind: 'adjustment', ...input })).toThrow(message);
    expect(counts(t.deps.db.sqlite)).toEqual(before);
    expect(verifyLedger(t.deps.db.sqlite).ok).toBe(true);
  });

  test('builders refuse non-positive or float amounts and out-of-range fees', () => {
    expect(() => settlementEntries({ buyerId: buyer, amountMicroUsd: 0 })).toThrow();
    expect(() => settlementEntries({ buyerId: buyer, amountMicroUsd: 1.5 })).toThrow();
    expect(() => releaseEntries({ sellerId: buyer, amountMicroUsd: 100, feeBps: 10_001 })).toThrow();
    expect(() => releaseEntries({ sellerId: buyer, amountMicroUsd: 100, feeBps: 2.5 })).toThrow();
    expect(() => refundDueEntries({ buyerId: buyer, amountMicroUsd: -5 })).toThrow();
    expect(() => settlementEntries({ buyerId: 'has:colon', amountMicroUsd: 5 })).toThrow();
  });

  test('release fee rounds down in integer math and a zero fee is left out', () => {
    expect(releaseEntries({ sellerId: buyer, amountMicroUsd: 250_000, feeBps: 250 }).map((e) => e.amountMicroUsd)).toEqual([-250_000, 243_750, 6_250]);
    expect(releaseEntries({ sellerId: buyer, amountMicroUsd: 399, feeBps: 250 }).map((e) => e.amountMicroUsd)).toEqual([-399, 390, 9]);
    expect(releaseEntries({ sellerId: buyer, amountMicroUsd: 39, feeBps: 250 }).map((e) => e.entryType)).toEqual(['hold_released', 'seller_credit']);
    expect(releaseEntries({ sellerId: buyer, amountMicroUsd: 1000, feeBps: 10_000 }).map((e) => e.entryType)).toEqual(['hold_released', 'marketplace_fee']);
  });

  test("inside the caller's transaction it joins it: a later failure rolls the ledger back too", async () => {
    const t = await freshApp();
    seedLedger(t);
    const before = counts(t.deps.db.sqlite);
    expect(() =>
      immediate(t.deps.db.sqlite, () => {
        postLedgerTransaction(t.deps, { kind: 'settlement', entries: settlementEntries({ buyerId: newId(), amountMicroUsd: 5 }) });
        postLedgerTransaction(t.deps, { kind: 'release', entries: releaseEntries({ sellerId: newId(), amountMicroUsd: 5, feeBps: 0 }) });
        throw new Error('the intent update failed');
      }),
    ).toThrow('the intent update failed');
    expect(counts(t.deps.db.sqlite)).toEqual(before);
    immediate(t.deps.db.sqlite, () => {
      postLedgerTransaction(t.deps, { kind: 'settlement', entries: settlementEntries({ buyerId: newId(), amountMicroUsd: 5 }) });
      postLedgerTransaction(t.deps, { kind: 'release', entries: releaseEntries({ sellerId: newId(), amountMicroUsd: 5, feeBps: 0 }) });
    });
    expect(verifyLedger(t.deps.db.sqlite)).toMatchObject({ ok: true, transactionsChecked: 7, entriesChecked: 15 });
  });
});

describe('the database refuses to change ledger rows', () => {
  test.each([
    ['UPDATE an amount', 'UPDATE ledger_entries SET amount_micro_usd = 1 WHERE seq = 1', 'append-only'],
    ['UPDATE a tx_ref', "UPDATE ledger_entries SET tx_ref = '0xforged'", 'append-only'],
    ['UPDATE a hash', "UPDATE ledger_entries SET hash = 'x' WHERE seq = 3", 'append-only'],
    ['DELETE an entry', 'DELETE FROM ledger_entries WHERE seq = 4', 'append-only'],
    ['DELETE all entries', 'DELETE FROM ledger_entries', 'append-only'],
    ['UPDATE a transaction', "UPDATE ledger_transactions SET kind = 'refund'", 'append-only'],
    ['DELETE a transaction', 'DELETE FROM ledger_transactions', 'append-only'],
    ['INSERT OR REPLACE over an entry', "INSERT OR REPLACE INTO ledger_entries SELECT id, seq, transaction_id, profile_id, account, entry_type, 1, network, tx_ref, gateway_request_id, relay_request_id, created_at, prev_hash, hash FROM ledger_entries WHERE seq = 2", 'append-only'],
    ['INSERT OR REPLACE over a transaction', "INSERT OR REPLACE INTO ledger_transactions SELECT id, 'adjustment', created_at, memo FROM ledger_transactions LIMIT 1", 'append-only'],
    ['INSERT an entry off the end of the chain', "INSERT INTO ledger_entries SELECT 'new-id', seq + 5, transaction_id, profile_id, account, entry_type, amount_micro_usd, network, tx_ref, gateway_request_id, relay_request_id, created_at, prev_hash, hash FROM ledger_entries WHERE seq = 1", 'append-only'],
  ])('%s fails', async (_name, sql, message) => {
    const t = await freshApp();
    seedLedger(t);
    const before = rows(t.deps.db.sqlite);
    expect(() => t.deps.db.sqlite.run(sql)).toThrow(message);
    expect(rows(t.deps.db.sqlite)).toEqual(before);
    expect(verifyLedger(t.deps.db.sqlite).ok).toBe(true);
  });
});

/** Tampering as someone with raw file access would: drop the guards first. */
function dropGuards(sqlite: Database) {
  for (const trigger of ['ledger_entries_no_update', 'ledger_entries_no_delete', 'ledger_transactions_no_update', 'ledger_entries_append_only_insert']) sqlite.run(`DROP TRIGGER ${trigger}`);
}

/** Recomputes every hash from `fromSeq` on, as a careful forger would. */
function rehashFrom(sqlite: Database, fromSeq: number) {
  const all = sqlite
    .query<Parameters<typeof entryHash>[0] & { hash: string }, []>(
      `SELECT e.*, t.kind AS transaction_kind, t.memo AS transaction_memo FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id ORDER BY e.seq`,
    )
    .all();
  let prev = GENESIS_HASH;
  for (const e of all) {
    if (e.seq >= fromSeq) {
      const hash = entryHash({ ...e, prev_hash: prev });
      sqlite.run('UPDATE ledger_entries SET prev_hash = ?, hash = ? WHERE id = ?', [prev, hash, e.id]);
      prev = hash;
    } else prev = e.hash;
  }
}

describe('verify detects tampering and names the first bad entry', () => {
  // Chain of seedLedger: 1–2 settlement, 3–5 release (3 held −250000, 4 seller +243750, 5 fees +6250),
  // 6–7 settlement, 8–9 refund_due, 10–11 refund. [name, seq tampered with, tamper, reason, seq named]
  const cases: [string, number, (sqlite: Database, target: Row) => void, RegExp, number][] = [
    ['an altered amount', 4, (s, e) => s.run('UPDATE ledger_entries SET amount_micro_usd = 1 WHERE id = ?', [e.id]), /hash does not match/, 4],
    ['an altered tx_ref', 2, (s, e) => s.run("UPDATE ledger_entries SET tx_ref = '0xforged' WHERE id = ?", [e.id]), /hash does not match/, 2],
    ['an altered account', 4, (s, e) => s.run('UPDATE ledger_entries SET account = ? WHERE id = ?', [`seller:${newId()}`, e.id]), /hash does not match/, 4],
    ['an altered transaction kind', 3, (s, e) => s.run("UPDATE ledger_transactions SET kind = 'adjustment' WHERE id = ?", [e.transaction_id]), /hash does not match/, 3],
    ['an altered amount, that entry re-hashed', 4, (s, e) => {
      s.run('UPDATE ledger_entries SET amount_micro_usd = 1 WHERE id = ?', [e.id]);
      const row = s.query<Parameters<typeof entryHash>[0], [string]>('SELECT e.*, t.kind AS transaction_kind, t.memo AS transaction_memo FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE e.id = ?').get(e.id);
      if (row) s.run('UPDATE ledger_entries SET hash = ? WHERE id = ?', [entryHash(row), e.id]);
    }, /prev_hash does not match/, 5],
    ['an altered amount, the whole chain re-hashed', 4, (s, e) => {
      s.run('UPDATE ledger_entries SET amount_micro_usd = 1 WHERE id = ?', [e.id]);
      rehashFrom(s, e.seq);
    }, /sums to -243749 micro-USD, not 0/, 5],
    ['a deleted entry', 4, (s, e) => s.run('DELETE FROM ledger_entries WHERE id = ?', [e.id]), /seq 5 follows seq 3: 1 entry is missing/, 5],
    ['a deleted entry, the chain re-hashed and renumbered', 4, (s, e) => {
      s.run('DELETE FROM ledger_entries WHERE id = ?', [e.id]);
      s.run('UPDATE ledger_entries SET seq = seq - 1 WHERE seq > ?', [e.seq]);
      rehashFrom(s, e.seq);
    }, /sums to -243750 micro-USD, not 0/, 4],
  ];

  test.each(cases)('%s', async (_name, targetSeq, tamper, reason, badSeq) => {
    const t = await freshApp();
    seedLedger(t);
    const { sqlite } = t.deps.db;
    expect((await cliVerify(t.dir)).code).toBe(0);
    const target = rows(sqlite).find((r) => r.seq === targetSeq) as Row;
    dropGuards(sqlite);
    tamper(sqlite, target);
    const expected = rows(sqlite).find((r) => r.seq === badSeq) as Row;
    const result = verifyLedger(sqlite);
    expect(result.ok).toBe(false);
    expect(result.firstBad).toEqual({ entryId: expected.id, seq: badSeq, reason: expect.stringMatching(reason) });

    const cli = await cliVerify(t.dir);
    expect(cli.code).toBe(1);
    expect(cli.output).toContain(`first bad entry: ${expected.id} (seq ${badSeq})`);
    expect(cli.output).toMatch(reason);
    expect(cli.output).not.toContain(': OK');
  });
});

describe('crochet ledger verify', () => {
  test('exits 0 with what it checked on a clean ledger, while the app holds the database open', async () => {
    const t = await freshApp();
    seedLedger(t);
    const cli = await cliVerify(t.dir);
    expect(cli.output).toContain('checked 5 transactions, 11 entries: OK');
    expect(cli.code).toBe(0);
    // It wrote nothing: the app can keep appending and the chain stays intact.
    postLedgerTransaction(t.deps, { kind: 'settlement', entries: settlementEntries({ buyerId: newId(), amountMicroUsd: 7 }) });
    expect((await cliVerify(t.dir)).output).toContain('checked 6 transactions, 13 entries: OK');
  });

  test('exits 1 when there is no database', async () => {
    const t = await freshApp();
    const cli = await cliVerify(join(t.dir, 'missing'));
    expect(cli.code).toBe(1);
    expect(cli.output).toContain('no database');
  });
});
