import { expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/open.ts';

test('the one connection is opened with the settings STYLE.md and the checkpoint policy ask for', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-open-'));
  const { sqlite } = openDatabase(join(dir, 'crochet.db'));
  try {
    const pragma = (name: string) => Object.values(sqlite.query(`PRAGMA ${name}`).get() as Record<string, unknown>)[0];
    expect(pragma('journal_mode')).toBe('wal');
    expect(pragma('synchronous')).toBe(1); // NORMAL
    expect(pragma('foreign_keys')).toBe(1);
    expect(pragma('busy_timeout')).toBe(5000);
    expect(pragma('wal_autocheckpoint')).toBe(10_000);
    expect(pragma('journal_size_limit')).toBe(64 * 1024 * 1024);
  } finally {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
