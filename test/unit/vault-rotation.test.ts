// Threat: a master-key rotation that fails or crashes midway leaves values sealed under a key nobody has, or half under each key.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DbHandle } from '../../src/db/open.ts';
import { generateMasterKey, masterKeyFromBase64, masterKeyToBase64, openValue, sealValue, sealedKeyId, VaultError, type MasterKey } from '../../src/modules/vault/envelope.ts';
import { writeMasterKeyFile } from '../../src/modules/vault/master-key.ts';
import { NEXT_KEY_FILE, rotateMasterKey, settlePendingRotation } from '../../src/modules/vault/rotation.ts';
import { assertVaultKeyMatches, rotateVaultKey, sealedKeyIdsInUse } from '../../src/modules/vault/service.ts';
import type { SealedTable } from '../../src/modules/vault/registry.ts';

const REGISTRY: SealedTable[] = [
  { table: 'secrets_a', idColumn: 'id', columns: ['one', 'two'] },
  { table: 'secrets_b', idColumn: 'key', columns: ['value'] },
  { table: 'not_migrated_yet', idColumn: 'id', columns: ['x'] },
];

let dir: string;
let db: DbHandle;
let key: MasterKey;

function seed(k: MasterKey) {
  const { sqlite } = db;
  sqlite.run('CREATE TABLE secrets_a (id TEXT PRIMARY KEY, one TEXT, two TEXT)');
  sqlite.run('CREATE TABLE secrets_b (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  for (let i = 0; i < 5; i++) {
    const id = `a${i}`;
    sqlite.query('INSERT INTO secrets_a VALUES (?, ?, ?)').run(
      id,
      sealValue(k, `one-${i}`, { table: 'secrets_a', column: 'one', rowId: id }),
      i % 2 ? null : sealValue(k, `two-${i}`, { table: 'secrets_a', column: 'two', rowId: id }),
    );
    sqlite.query('INSERT INTO secrets_b VALUES (?, ?)').run(`b${i}`, sealValue(k, `value-${i}`, { table: 'secrets_b', column: 'value', rowId: `b${i}` }));
  }
}

function openEverything(k: MasterKey): string[] {
  const out: string[] = [];
  for (const r of db.sqlite.query<{ id: string; one: string; two: string | null }, []>('SELECT * FROM secrets_a ORDER BY id').all()) {
    out.push(openValue(k, r.one, { table: 'secrets_a', column: 'one', rowId: r.id }));
    if (r.two) out.push(openValue(k, r.two, { table: 'secrets_a', column: 'two', rowId: r.id }));
  }
  for (const r of db.sqlite.query<{ key: string; value: string }, []>('SELECT * FROM secrets_b ORDER BY key').all()) {
    out.push(openValue(k, r.value, { table: 'secrets_b', column: 'value', rowId: r.key }));
  }
  return out;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crochet-rotate-'));
  db = openDatabase(join(dir, 'crochet.db'), { migrate: false });
  key = generateMasterKey();
  seed(key);
});
afterEach(() => {
  db.sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('rotateVaultKey', () => {
  test('moves every value to the new key in one go and skips missing tables', () => {
    const before = openEverything(key);
    const next = generateMasterKey();
    expect(rotateVaultKey(db.sqlite, key, next, REGISTRY)).toEqual({ values: 13 });
    expect(openEverything(next)).toEqual(before);
    expect(sealedKeyIdsInUse(db.sqlite, REGISTRY)).toEqual(new Set([next.id]));
    expect(() => openEverything(key)).toThrow(VaultError);
    // A repeated run finds nothing left to move.
    expect(rotateVaultKey(db.sqlite, key, next, REGISTRY)).toEqual({ values: 0 });
  });

  test('one value that does not open aborts the whole rotation: nothing changes', () => {
    db.sqlite.query('UPDATE secrets_b SET value = ? WHERE key = ?').run(sealValue(generateMasterKey(), 'stray', { table: 'secrets_b', column: 'value', rowId: 'b4' }), 'b4');
    const snapshot = db.sqlite.query('SELECT * FROM secrets_a ORDER BY id').all();
    const next = generateMasterKey();
    expect(() => rotateVaultKey(db.sqlite, key, next, REGISTRY)).toThrow(VaultError);
    expect(db.sqlite.query('SELECT * FROM secrets_a ORDER BY id').all()).toEqual(snapshot);
    expect(sealedKeyId(db.sqlite.query<{ one: string }, []>("SELECT one FROM secrets_a WHERE id = 'a0'").get()!.one)).toBe(key.id);
  });

  test('assertVaultKeyMatches refuses another key, naming both key ids', () => {
    expect(() => assertVaultKeyMatches(db.sqlite, key, REGISTRY)).not.toThrow();
    const other = generateMasterKey();
    let caught: unknown;
    try {
      assertVaultKeyMatches(db.sqlite, other, REGISTRY);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(VaultError);
    expect((caught as VaultError).code).toBe('VAULT_KEY_MISMATCH');
    expect((caught as VaultError).message).toContain(key.id);
    expect((caught as VaultError).message).toContain(other.id);
  });
});

describe('crash safety of rotate-key', () => {
  const keyFile = () => join(dir, 'master.key');
  const nextFile = () => join(dir, NEXT_KEY_FILE);
  const fileKey = () => masterKeyFromBase64(readFileSync(keyFile(), 'utf8'));

  test('crash after the commit, before the rename: the next start finishes the rotation', () => {
    writeMasterKeyFile(dir, key);
    const next = generateMasterKey();
    writeFileSync(nextFile(), masterKeyToBase64(next) + '\n', { mode: 0o600 });
    rotateVaultKey(db.sqlite, key, next, REGISTRY); // committed; then the process "died"
    expect(settlePendingRotation(dir, db.sqlite, REGISTRY)).toBe('completed');
    expect(fileKey().id).toBe(next.id);
    expect(existsSync(nextFile())).toBe(false);
    openEverything(next);
  });

  test('crash before the commit: the next start discards the unused new key', () => {
    writeMasterKeyFile(dir, key);
    writeFileSync(nextFile(), masterKeyToBase64(generateMasterKey()) + '\n', { mode: 0o600 });
    expect(settlePendingRotation(dir, db.sqlite, REGISTRY)).toBe('discarded');
    expect(fileKey().id).toBe(key.id);
    expect(existsSync(nextFile())).toBe(false);
    openEverything(key);
  });

  test('crash while writing the new key file: a partial file is discarded', () => {
    writeMasterKeyFile(dir, key);
    writeFileSync(nextFile(), masterKeyToBase64(generateMasterKey()).slice(0, 20), { mode: 0o600 });
    expect(settlePendingRotation(dir, db.sqlite, REGISTRY)).toBe('discarded');
    expect(fileKey().id).toBe(key.id);
  });

  test('nothing pending: nothing happens', () => {
    writeMasterKeyFile(dir, key);
    expect(settlePendingRotation(dir, db.sqlite, REGISTRY)).toBe('none');
  });

  test('rotateMasterKey refuses a key that did not seal the database, changing nothing', () => {
    // The real registry's table, sealed with `key`; the key file holds another key.
    db.sqlite.run('CREATE TABLE listing_gateway_endpoints (listing_id TEXT PRIMARY KEY, private_url TEXT, upstream_auth_value TEXT, signing_secret TEXT, previous_signing_secret TEXT)');
    db.sqlite.query('INSERT INTO listing_gateway_endpoints VALUES (?, NULL, NULL, ?, NULL)').run('l1', sealValue(key, 's', { table: 'listing_gateway_endpoints', column: 'signing_secret', rowId: 'l1' }));
    const wrong = generateMasterKey();
    writeMasterKeyFile(dir, wrong);
    expect(() => rotateMasterKey({ dataDir: dir, sqlite: db.sqlite })).toThrow(VaultError);
    expect(fileKey().id).toBe(wrong.id);
    expect(existsSync(nextFile())).toBe(false);
    writeMasterKeyFile(dir, key);
    const result = rotateMasterKey({ dataDir: dir, sqlite: db.sqlite });
    expect(result).toMatchObject({ oldKeyId: key.id, mode: 'file', values: 1 });
    expect(fileKey().id).toBe(result.newKeyId);
  });
});

