import { Database } from 'bun:sqlite';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { DATABASE_FILE } from '../server.ts';

export const BACKUP_HELP = `crochet backup FILE — a consistent copy of the database, taken online

Usage: crochet backup FILE [--data-dir DIR]

Works while the server runs (SQLite VACUUM INTO reads one snapshot). FILE must not exist.
Sealed values in the copy open only with this instance's master key: keep master.key (or
CROCHET_MASTER_KEY) backed up separately, never next to the database copy.
`;

/** `crochet backup FILE`. */
export function runBackup(config: Config, target: string | undefined): number {
  if (!target) {
    console.error(BACKUP_HELP);
    return 2;
  }
  const source = join(config.data_dir, DATABASE_FILE);
  const destination = resolve(target);
  if (!existsSync(source)) {
    console.error(`no database at ${source}`);
    return 1;
  }
  if (existsSync(destination)) {
    console.error(`${destination} exists already; choose a new file`);
    return 1;
  }
  const db = new Database(source, { readonly: true });
  try {
    db.run('PRAGMA busy_timeout = 5000');
    db.query('VACUUM INTO ?').run(destination);
  } finally {
    db.close();
  }
  const check = new Database(destination, { readonly: true });
  try {
    const ok = check.query<{ integrity_check: string }, []>('PRAGMA integrity_check').get()?.integrity_check === 'ok';
    if (!ok) {
      console.error(`backup written to ${destination} but its integrity check failed`);
      return 1;
    }
  } finally {
    check.close();
  }
  console.log(`backup written: ${destination} (integrity ok). Keep the master key backed up separately.`);
  return 0;
}
