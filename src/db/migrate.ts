import type { Database } from 'bun:sqlite';

export type Migration = { tag: string; sql: string };

/**
 * Applies `migrations` (the drizzle-kit migrations embedded in this build: `embeddedMigrations`),
 * each in its own transaction, recording applied tags. Returns the tags applied now. The list is
 * passed in rather than imported here: the generated list imports this file's `Migration` type.
 */
export function applyMigrations(sqlite: Database, migrations: readonly Migration[]): string[] {
  sqlite.run(`CREATE TABLE IF NOT EXISTS _migrations (
    tag TEXT PRIMARY KEY NOT NULL,
    hash TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const done = new Map(
    sqlite.query<{ tag: string; hash: string }, []>('SELECT tag, hash FROM _migrations').all().map((r) => [r.tag, r.hash]),
  );
  const applied: string[] = [];
  for (const m of migrations) {
    const hash = new Bun.CryptoHasher('sha256').update(m.sql).digest('hex');
    const seen = done.get(m.tag);
    if (seen !== undefined) {
      // An edited migration would silently diverge databases: refuse to start instead.
      if (seen !== hash) throw new Error(`migration ${m.tag} changed after it was applied; migrations are append-only`);
      continue;
    }
    const statements = m.sql.split('--> statement-breakpoint').map((s) => s.trim()).filter(Boolean);
    sqlite.transaction(() => {
      for (const statement of statements) sqlite.run(statement);
      sqlite.run('INSERT INTO _migrations (tag, hash, applied_at) VALUES (?, ?, ?)', [m.tag, hash, new Date().toISOString()]);
    }).immediate();
    applied.push(m.tag);
  }
  return applied;
}
