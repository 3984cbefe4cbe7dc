import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/open.ts';
import { verifyLedger } from '../modules/ledger/service.ts';
import { DATABASE_FILE } from '../server.ts';

export const LEDGER_VERIFY_HELP = `crochet ledger verify — check the ledger's hash chain and that every transaction balances

Usage: crochet ledger verify [--data-dir <dir>] [--config <file>]

Reads <data-dir>/${DATABASE_FILE} without changing it; safe while the server runs.
Exit status: 0 when the ledger is intact, 1 naming the first bad entry, 2 on usage or config errors.

Example:
  crochet ledger verify --data-dir /var/lib/crochet
`;

/** `crochet ledger verify`: prints what it checked; returns the exit code (0 clean, 1 tampered or unreadable). */
export function runLedgerVerify(config: Config, out: (line: string) => void = console.log, err: (line: string) => void = console.error): number {
  const path = join(config.data_dir, DATABASE_FILE);
  if (!existsSync(path)) {
    err(`no database at ${path} (is --data-dir right?)`);
    return 1;
  }
  // No migrations: verifying must never change the file it checks. query_only makes that a guarantee.
  const { sqlite } = openDatabase(path, { migrate: false });
  try {
    sqlite.run('PRAGMA query_only = ON');
    const hasLedger = sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_entries'").get();
    if (!hasLedger) {
      err(`no ledger in ${path}: run \`crochet migrate\` first`);
      return 1;
    }
    const result = verifyLedger(sqlite);
    const checked = `checked ${result.transactionsChecked} transactions, ${result.entriesChecked} entries`;
    if (result.ok) {
      out(`${checked}: OK`);
      if (result.head) out(`head: seq ${result.head.seq} hash ${result.head.hash}`);
      return 0;
    }
    const bad = result.firstBad;
    err(`${checked}: FAILED`);
    if (bad) err(`first bad entry: ${bad.entryId} (seq ${bad.seq}): ${bad.reason}`);
    return 1;
  } finally {
    sqlite.close();
  }
}
