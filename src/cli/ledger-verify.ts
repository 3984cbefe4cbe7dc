import type { Database } from 'bun:sqlite';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/open.ts';
import { EMPTY_LEDGER_HEAD, expectedHeadProblem, formatLedgerHead, parseLedgerHead, verifyLedger } from '../modules/ledger/service.ts';
import { DATABASE_FILE } from '../server.ts';

export const LEDGER_VERIFY_HELP = `crochet ledger — check the ledger, and record its head to prove later that nothing was removed

Usage: crochet ledger verify [--expect-head <seq>:<hash>] [--data-dir <dir>] [--config <file>]
       crochet ledger head [--data-dir <dir>] [--config <file>]

  verify   checks the ledger's hash chain and that every transaction balances.
           --expect-head <seq>:<hash>  also require that the chain still holds entry <seq> with
           that hash, as printed earlier by \`crochet ledger head\`. The chain alone cannot show
           that its newest entries were deleted; a head recorded outside the server can.
  head     verifies the chain, then prints its head as one line <seq>:<hash> (lowercase hex;
           0:<64 zeros> for an empty ledger). Keep it somewhere the server cannot write, e.g.
           next to each backup.

Both read <data-dir>/${DATABASE_FILE} without changing it; safe while the server runs.
Exit status: 0 when the ledger is intact (and holds the expected head), 1 naming the first bad,
missing or changed entry, 2 on usage or config errors (e.g. a malformed --expect-head).

Examples:
  crochet ledger verify --data-dir /var/lib/crochet
  crochet ledger head --data-dir /var/lib/crochet > ledger-head.txt
  crochet ledger verify --data-dir /var/lib/crochet --expect-head "$(cat ledger-head.txt)"
`;

type Out = (line: string) => void;

/**
 * `crochet ledger verify`: prints what it checked; returns the exit code (0 clean, 1 tampered,
 * truncated or unreadable, 2 for a malformed `expectHead`).
 */
export function runLedgerVerify(config: Config, opts: { expectHead?: string } = {}, out: Out = console.log, err: Out = console.error): number {
  const expected = opts.expectHead === undefined ? undefined : parseLedgerHead(opts.expectHead);
  if (expected === null) {
    err(`--expect-head: expected <seq>:<hash> as printed by \`crochet ledger head\` (a decimal seq, ":", 64 hex characters), got ${JSON.stringify(opts.expectHead)}`);
    return 2;
  }
  return withLedger(config, err, (sqlite) => {
    const result = verifyLedger(sqlite);
    const checked = `checked ${result.transactionsChecked} transactions, ${result.entriesChecked} entries`;
    // Checked even when the walk failed: an operator wants to know both what broke and what is gone.
    const headProblem = expected ? expectedHeadProblem(sqlite, expected) : null;
    const expectedText = expected ? `expected head ${formatLedgerHead(expected)}` : '';
    if (result.ok && headProblem === null) {
      out(`${checked}: OK`);
      if (result.head) out(`head: seq ${result.head.seq} hash ${result.head.hash}`);
      if (expected) out(`${expectedText}: present`);
      return 0;
    }
    err(`${checked}: FAILED`);
    const bad = result.firstBad;
    if (bad) err(`first bad entry: ${bad.entryId} (seq ${bad.seq}): ${bad.reason}`);
    if (headProblem) err(`${expectedText} not held: ${headProblem}`);
    return 1;
  });
}

/** `crochet ledger head`: prints `<seq>:<hash>` of a verified chain; exit 1 (nothing on stdout) when it does not verify. */
export function runLedgerHead(config: Config, out: Out = console.log, err: Out = console.error): number {
  return withLedger(config, err, (sqlite) => {
    const result = verifyLedger(sqlite);
    if (!result.ok) {
      // A head of a broken chain would certify the damage: refuse, as verify would.
      const bad = result.firstBad;
      err(`the ledger does not verify, no head printed${bad ? `: first bad entry ${bad.entryId} (seq ${bad.seq}): ${bad.reason}` : ''}`);
      return 1;
    }
    out(formatLedgerHead(result.head ?? EMPTY_LEDGER_HEAD));
    return 0;
  });
}

/** Opens the data folder's database read-only for the ledger commands; 1 when there is none or no ledger. */
function withLedger(config: Config, err: Out, run: (sqlite: Database) => number): number {
  const path = join(config.data_dir, DATABASE_FILE);
  if (!existsSync(path)) {
    err(`no database at ${path} (is --data-dir right?)`);
    return 1;
  }
  // No migrations: checking must never change the file it checks. query_only makes that a guarantee.
  const { sqlite } = openDatabase(path, { migrate: false });
  try {
    sqlite.run('PRAGMA query_only = ON');
    const hasLedger = sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_entries'").get();
    if (!hasLedger) {
      err(`no ledger in ${path}: run \`crochet migrate\` first`);
      return 1;
    }
    return run(sqlite);
  } finally {
    sqlite.close();
  }
}
