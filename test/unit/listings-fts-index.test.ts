import { expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { embeddedMigrations } from '../../src/db/embedded-migrations.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { ftsQuery } from '../../src/modules/listings/search.ts';

// The search index holds active listings only; its triggers must follow every status move and
// edit, and the migration that introduced this must have rebuilt an existing index.
test('upgrade rebuilds the index from active rows; triggers follow status moves, edits and deletes', () => {
  const s = new Database(':memory:');
  const at = embeddedMigrations.findIndex((m) => m.tag === '0009_listings_search_active');
  expect(at).toBeGreaterThan(0);
  applyMigrations(s, embeddedMigrations.slice(0, at));
  const category = s.query<{ id: string }, []>("SELECT id FROM categories WHERE slug = 'data'").get()!.id;
  const insert = s.query(
    `INSERT INTO listings (id, slug, owner_profile_id, name, description, category_id, tags, formats, pricing_model, price_micro_usd, status, created_at, updated_at)
     VALUES (?, ?, 'owner', ?, 'description', ?, '["fruit"]', '["json"]', 'free', 0, ?, 't', 't')`,
  );
  insert.run('a', 'a', 'apple active', category, 'active');
  insert.run('b', 'b', 'apple draft', category, 'draft');
  const matches = (word: string) =>
    s.query<{ id: string }, [string]>('SELECT l.id FROM listings_fts f JOIN listings l ON l.seq = f.rowid WHERE listings_fts MATCH ? ORDER BY l.id').all(word).map((r) => r.id);
  expect(matches('apple')).toEqual(['a', 'b']);

  applyMigrations(s, embeddedMigrations);
  expect(matches('apple')).toEqual(['a']);
  s.run("UPDATE listings SET status = 'active' WHERE id = 'b'");
  expect(matches('apple')).toEqual(['a', 'b']);
  s.run("UPDATE listings SET status = 'paused' WHERE id = 'a'");
  expect(matches('apple')).toEqual(['b']);
  // An edit while not active stays out of the index, and comes in with the next activation.
  s.run("UPDATE listings SET name = 'pear' WHERE id = 'a'");
  expect(matches('pear')).toEqual([]);
  s.run("UPDATE listings SET status = 'active' WHERE id = 'a'");
  expect(matches('pear')).toEqual(['a']);
  expect(matches('apple')).toEqual(['b']);
  s.run("UPDATE listings SET tags = '[\"citrus\"]' WHERE id = 'a'");
  expect(matches('citrus')).toEqual(['a']);
  expect(matches('fruit')).toEqual(['b']);
  s.run("DELETE FROM listings WHERE id = 'b'");
  expect(matches('apple')).toEqual([]);
  // The index's own structure is sound after all of that.
  s.run("INSERT INTO listings_fts (listings_fts, rank) VALUES ('integrity-check', 0)");
});

test('ftsQuery quotes every word and drops all syntax', () => {
  expect(ftsQuery('weather')).toBe('"weather"*');
  expect(ftsQuery('to be')).toBe('"to" "be"');
  expect(ftsQuery('-"NEAR(a b* c:d ^e OR')).toBe('"NEAR"* "a" "b" "c" "d" "e" "OR"');
  expect(ftsQuery('"* : - ( ) ^')).toBeNull();
  expect(ftsQuery('météo ＡＢＣ')).toBe('"météo"* "ABC"*');
  expect(ftsQuery(Array.from({ length: 40 }, (_, i) => `w${i}x`).join(' '))?.split(' ')).toHaveLength(16);
  expect(ftsQuery('x'.repeat(500))).toBe(`"${'x'.repeat(64)}"*`);
});
