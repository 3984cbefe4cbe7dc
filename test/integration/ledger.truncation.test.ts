// Threat: someone with write access to the SQLite file drops the append-only triggers and deletes the newest ledger entries (or rewrites and re-hashes the chain), leaving a chain that still verifies on its own.
import { afterEach, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import {
  entryHash,
  GENESIS_HASH,
  postLedgerTransaction,
  releaseEntries,
  settlementEntries,
  verifyLedger,
} from '../../src/modules/ledger/service.ts';
import { runLedgerVerify } from '../../src/cli/ledger-verify.ts';
import { newId } from '../../src/shared/ids.ts';
import { createTestApp, type TestContext } from '../support/app.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

// Each test starts several CLI processes (≈ 1 s each on a loaded machine).
allowSlowSetup();

const REPO = join(import.meta.dir, '../..');
const HEAD_LINE = /^(\d+):([0-9a-f]{64})\n$/;
const open: TestContext[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function freshApp() {
  const t = await createTestApp();
  open.push(t);
  return t;
}

/** One paid call as the ledger records it: settlement (2 entries), then release (3 entries). */
function paidCall(t: TestContext, relay: string) {
  const buyerId = newId();
  postLedgerTransaction(t.deps, { kind: 'settlement', entries: settlementEntries({ buyerId, amountMicroUsd: 250_000 }), network: 'eip155:8453', txRef: `0x${relay}`, relayRequestId: relay });
  postLedgerTransaction(t.deps, { kind: 'release', entries: releaseEntries({ sellerId: newId(), amountMicroUsd: 250_000, feeBps: 250 }), relayRequestId: relay, gatewayRequestId: `gw_req_${relay}` });
}

/** The real CLI, as an operator runs it: `bun src/main.ts ledger …` in its own process. */
async function cli(...args: string[]) {
  const proc = Bun.spawn([process.execPath, 'src/main.ts', 'ledger', ...args], { cwd: REPO, stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, output: stdout + stderr };
}

async function recordHead(dir: string) {
  const head = await cli('head', '--data-dir', dir);
  expect(head.stderr).toBe('');
  expect(head.stdout).toMatch(HEAD_LINE);
  expect(head.code).toBe(0);
  return head.stdout.trim();
}

/** A second connection straight to the file, as someone with file access has: guards dropped. */
function tamperWith(t: TestContext, change: (db: Database) => void) {
  const db = new Database(join(t.dir, 'crochet.db'));
  try {
    const triggers = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('ledger_entries', 'ledger_transactions')").all();
    for (const { name } of triggers) db.run(`DROP TRIGGER "${name}"`);
    change(db);
  } finally {
    db.close();
  }
}

/** Deletes the newest ledger transaction, entries and row, the way a careful forger would. */
function deleteLastTransaction(db: Database) {
  const last = db.query<{ transaction_id: string }, []>('SELECT transaction_id FROM ledger_entries ORDER BY seq DESC LIMIT 1').get();
  if (!last) throw new Error('no ledger entries to delete');
  db.run('DELETE FROM ledger_entries WHERE transaction_id = ?', [last.transaction_id]);
  db.run('DELETE FROM ledger_transactions WHERE id = ?', [last.transaction_id]);
}

describe('crochet ledger head', () => {
  test('prints the verified chain head as one <seq>:<hash> line, 0:<zeros> when empty', async () => {
    const t = await freshApp();
    expect(await recordHead(t.dir)).toBe(`0:${GENESIS_HASH}`);
    paidCall(t, 'rly_a');
    const verified = verifyLedger(t.deps.db.sqlite);
    expect(await recordHead(t.dir)).toBe(`${verified.head?.seq}:${verified.head?.hash}`);
    expect(verified.head?.seq).toBe(5);
  });

  test('refuses to print a head for a chain that does not verify', async () => {
    const t = await freshApp();
    paidCall(t, 'rly_a');
    tamperWith(t, (db) => db.run('UPDATE ledger_entries SET amount_micro_usd = 1 WHERE seq = 4'));
    const head = await cli('head', '--data-dir', t.dir);
    expect(head.code).toBe(1);
    expect(head.stdout).toBe('');
    expect(head.stderr).toMatch(/does not verify.*seq 4/);
  });
});

describe('verify --expect-head', () => {
  test('an untouched chain holds the recorded head, also after more activity', async () => {
    const t = await freshApp();
    paidCall(t, 'rly_a');
    const head = await recordHead(t.dir);
    let run = await cli('verify', '--data-dir', t.dir, '--expect-head', head);
    expect(run.stdout).toContain(`expected head ${head}: present`);
    expect(run.code).toBe(0);
    paidCall(t, 'rly_b');
    run = await cli('verify', '--data-dir', t.dir, `--expect-head=${head}`);
    expect(run.stdout).toContain('checked 4 transactions, 10 entries: OK');
    expect(run.code).toBe(0);
  });

  test("the last transaction's entries deleted: plain verify passes, --expect-head fails naming the missing entry", async () => {
    const t = await freshApp();
    paidCall(t, 'rly_a');
    paidCall(t, 'rly_b');
    const head = await recordHead(t.dir);
    tamperWith(t, deleteLastTransaction);

    // What the issue found: the shortened chain is valid on its own.
    const plain = await cli('verify', '--data-dir', t.dir);
    expect(plain.stdout).toContain('checked 3 transactions, 7 entries: OK');
    expect(plain.code).toBe(0);

    const run = await cli('verify', '--data-dir', t.dir, '--expect-head', head);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`expected head ${head} not held: entry seq 10 (hash ${head.split(':')[1]}) is missing`);
    expect(run.stderr).toContain('the chain now ends at seq 7, so at least 3 entries were removed from the end');
  });

  test('more activity after the head, then everything back to and including it deleted → fails; only newer entries deleted → the head still holds', async () => {
    const t = await freshApp();
    paidCall(t, 'rly_a');
    const head = await recordHead(t.dir); // seq 5
    paidCall(t, 'rly_b'); // seq 6–10
    tamperWith(t, (db) => {
      deleteLastTransaction(db);
      deleteLastTransaction(db);
    });
    // Documented limit: a head proves the entries up to it, not what was appended after it.
    expect((await cli('verify', '--data-dir', t.dir, '--expect-head', head)).code).toBe(0);
    tamperWith(t, deleteLastTransaction);
    const run = await cli('verify', '--data-dir', t.dir, '--expect-head', head);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/entry seq 5 \(hash [0-9a-f]{64}\) is missing: the chain now ends at seq 2/);
  });

  test('a rewritten chain, re-hashed so it verifies on its own, fails: the entry at the head has another hash', async () => {
    const t = await freshApp();
    paidCall(t, 'rly_a');
    const head = await recordHead(t.dir);
    tamperWith(t, (db) => {
      // Redirect the payment's on-chain reference, then re-hash from there on.
      db.run("UPDATE ledger_entries SET tx_ref = '0xforged' WHERE seq <= 2");
      const rows = db.query<Parameters<typeof entryHash>[0], []>('SELECT e.*, t.kind AS transaction_kind, t.memo AS transaction_memo FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id ORDER BY e.seq').all();
      let prev = GENESIS_HASH;
      for (const row of rows) {
        const hash = entryHash({ ...row, prev_hash: prev });
        db.run('UPDATE ledger_entries SET prev_hash = ?, hash = ? WHERE id = ?', [prev, hash, row.id]);
        prev = hash;
      }
    });
    expect((await cli('verify', '--data-dir', t.dir)).code).toBe(0);
    const entry5 = t.deps.db.sqlite.query<{ id: string; hash: string }, []>('SELECT id, hash FROM ledger_entries WHERE seq = 5').get();
    const run = await cli('verify', '--data-dir', t.dir, '--expect-head', head);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`entry seq 5 (hash ${head.split(':')[1]}) was rewritten: entry ${entry5?.id} at seq 5 now has hash ${entry5?.hash}`);
  });

  test('a broken chain and a missing head are both reported', async () => {
    const t = await freshApp();
    paidCall(t, 'rly_a');
    paidCall(t, 'rly_b');
    const head = await recordHead(t.dir);
    tamperWith(t, (db) => {
      deleteLastTransaction(db);
      db.run('UPDATE ledger_entries SET amount_micro_usd = 1 WHERE seq = 4');
    });
    const run = await cli('verify', '--data-dir', t.dir, '--expect-head', head);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/first bad entry: \S+ \(seq 4\)/);
    expect(run.stderr).toMatch(/entry seq 10 .* is missing/);
  });

  test('the empty-ledger head holds until, and after, the first transaction', async () => {
    const t = await freshApp();
    const empty = await recordHead(t.dir);
    expect((await cli('verify', '--data-dir', t.dir, '--expect-head', empty)).code).toBe(0);
    paidCall(t, 'rly_a');
    expect((await cli('verify', '--data-dir', t.dir, '--expect-head', empty)).code).toBe(0);
  });

  test('a malformed --expect-head is a usage error (exit 2) that says what is expected', async () => {
    const t = await freshApp();
    const hash = 'a'.repeat(64);
    const usage = '--expect-head: expected <seq>:<hash> as printed by `crochet ledger head`';
    // The CLI's own function in-process for the variants (a process each would cost seconds)…
    for (const bad of ['1', 'abc', `-1:${hash}`, `5:${hash.slice(1)}`, `5:${hash}a`, `5:${'g'.repeat(64)}`, `05:${hash}`, `5;${hash}`, hash, `99999999999999999:${hash}`, '']) {
      const errors: string[] = [];
      expect({ bad, code: runLedgerVerify(t.config, { expectHead: bad }, () => {}, (line) => errors.push(line)) }).toEqual({ bad, code: 2 });
      expect(errors.join('\n')).toContain(usage);
    }
    // …and the real CLI: a bare flag, and the flag on `ledger head`.
    const bare = await cli('verify', '--data-dir', t.dir, '--expect-head');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(usage);
    const onHead = await cli('head', '--data-dir', t.dir, '--expect-head', `1:${hash}`);
    expect(onHead.code).toBe(2);
    expect(onHead.stderr).toContain('belongs to `crochet ledger verify`');
    // Uppercase hex and surrounding whitespace (a copied line) are accepted.
    paidCall(t, 'rly_a');
    const head = await recordHead(t.dir);
    expect((await cli('verify', '--data-dir', t.dir, '--expect-head', ` ${head.toUpperCase()}\n`)).code).toBe(0);
  });

  test('--help documents both commands', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    for (const text of ['crochet ledger head', 'crochet ledger verify [--expect-head <seq>:<hash>]', '<seq>:<hash>']) expect(help.stdout).toContain(text);
    const top = Bun.spawn([process.execPath, 'src/main.ts', '--help'], { cwd: REPO, stdout: 'pipe' });
    const topText = await new Response(top.stdout).text();
    expect(topText).toContain('ledger head');
    expect(topText).toContain('--expect-head');
  });
});
