import type { Database } from 'bun:sqlite';

export type Migration = { tag: string; sql: string };

/**
 * Applies `migrations` (the drizzle-kit migrations embedded in this build: `embeddedMigrations`),
 * all pending ones in one transaction (one commit instead of one per migration: a first start on an
 * empty folder is measurably faster, and a failure leaves the database as it was), recording
 * applied tags. Returns the tags applied now. The list is
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
  const pending: (Migration & { hash: string })[] = [];
  for (const m of migrations) {
    const hash = new Bun.CryptoHasher('sha256').update(m.sql).digest('hex');
    const seen = done.get(m.tag);
    if (seen !== undefined) {
      // An edited migration would silently diverge databases: refuse to start instead.
      if (seen !== hash) throw new Error(`migration ${m.tag} changed after it was applied; migrations are append-only`);
      continue;
    }
    pending.push({ ...m, hash });
  }
  if (pending.length === 0) return applied;
  sqlite.transaction(() => {
    const appliedAt = new Date().toISOString();
    for (const m of pending) {
      for (const statement of m.sql.split('--> statement-breakpoint').map((s) => s.trim()).filter(Boolean)) sqlite.run(statement);
      sqlite.run('INSERT INTO _migrations (tag, hash, applied_at) VALUES (?, ?, ?)', [m.tag, m.hash, appliedAt]);
      applied.push(m.tag);
    }
  }).immediate();
  return applied;
}
