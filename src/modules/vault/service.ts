/**
 * The vault as the rest of the program sees it: seal/open bound to the loaded master key, plus
 * re-encryption of every registered column for `crochet vault rotate-key`.
 */
import type { Database } from 'bun:sqlite';
import { hkdfSync } from 'node:crypto';
import { immediate } from '../../db/tx.ts';
import { openValue, sealValue, sealedKeyId, VaultError, type Aad, type MasterKey } from './envelope.ts';
import { SEALED_COLUMNS, type SealedTable } from './registry.ts';

export type { Aad } from './envelope.ts';

export type Vault = {
  /** Id of the master key in use (a fingerprint, safe to log). */
  readonly keyId: string;
  seal(plaintext: string, aad: Aad): string;
  /** Throws `VaultError` (VAULT_KEY_MISMATCH, VAULT_DECRYPT_FAILED, VAULT_FORMAT). */
  open(sealed: string, aad: Aad): string;
  /** A 32-byte key for one purpose (HKDF-SHA256 of the master key), e.g. the x402 offer HMAC. */
  deriveKey(purpose: string): Uint8Array;
};

/** A vault bound to one master key. */
export function createVault(key: MasterKey): Vault {
  return {
    keyId: key.id,
    seal: (plaintext, aad) => sealValue(key, plaintext, aad),
    open: (sealed, aad) => openValue(key, sealed, aad),
    deriveKey: (purpose) => new Uint8Array(hkdfSync('sha256', key.bytes, new Uint8Array(0), `crochet:${purpose}`, 32)),
  };
}

// Names come from the static registry, never from input; quoting keeps odd names harmless anyway.
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

function tableExists(sqlite: Database, table: string): boolean {
  return sqlite.query('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', table) !== null;
}

function existingTables(sqlite: Database, registry: readonly SealedTable[]): SealedTable[] {
  // A registered table may belong to a module whose migration this database has not run yet.
  return registry.filter((t) => tableExists(sqlite, t.table));
}

/**
 * Re-encrypts every sealed value of every registered table from `oldKey` to `newKey` in ONE
 * immediate transaction: either all values move to the new key or none do. A value already
 * sealed with `newKey` is left as it is (so a repeated run is harmless); a value that opens with
 * neither key aborts the whole rotation with its `VaultError`.
 *
 * @example rotateVaultKey(db.sqlite, currentKey, generateMasterKey()) // → { values: 12 }
 */
export function rotateVaultKey(
  sqlite: Database,
  oldKey: MasterKey,
  newKey: MasterKey,
  registry: readonly SealedTable[] = SEALED_COLUMNS,
): { values: number } {
  return immediate(sqlite, () => {
    let values = 0;
    for (const t of existingTables(sqlite, registry)) {
      const cols = t.columns.map(ident).join(', ');
      const rows = sqlite.query<Record<string, string | null>, []>(`SELECT ${ident(t.idColumn)} AS __id, ${cols} FROM ${ident(t.table)}`).all();
      for (const row of rows) {
        const rowId = String(row['__id']);
        const updates: string[] = [];
        const params: string[] = [];
        for (const column of t.columns) {
          const sealed = row[column];
          if (sealed === null || sealed === undefined) continue;
          if (sealedKeyId(sealed) === newKey.id) continue;
          const aad = { table: t.table, column, rowId };
          updates.push(`${ident(column)} = ?`);
          params.push(sealValue(newKey, openValue(oldKey, sealed, aad), aad));
          values += 1;
        }
        if (updates.length === 0) continue;
        sqlite.query(`UPDATE ${ident(t.table)} SET ${updates.join(', ')} WHERE ${ident(t.idColumn)} = ?`).run(...params, rowId);
      }
    }
    return { values };
  });
}

/**
 * Ids of the master keys that sealed the values in the database (usually one; empty when no value
 * is sealed yet). Reads one value per column: a rotation moves every value at once, so within a
 * column all values share a key.
 */
export function sealedKeyIdsInUse(sqlite: Database, registry: readonly SealedTable[] = SEALED_COLUMNS): Set<string> {
  const ids = new Set<string>();
  for (const t of existingTables(sqlite, registry)) {
    for (const column of t.columns) {
      const row = sqlite
        .query<{ v: string }, []>(`SELECT ${ident(column)} AS v FROM ${ident(t.table)} WHERE ${ident(column)} IS NOT NULL LIMIT 1`)
        .get();
      if (row) ids.add(sealedKeyId(row.v));
    }
  }
  return ids;
}

/**
 * Refuses to start with a master key that did not seal the database's values, so a wrong
 * `CROCHET_MASTER_KEY` fails at start, loudly, instead of as a 500 on every gateway call.
 */
export function assertVaultKeyMatches(sqlite: Database, key: MasterKey, registry: readonly SealedTable[] = SEALED_COLUMNS): void {
  for (const id of sealedKeyIdsInUse(sqlite, registry)) {
    if (id !== key.id) {
      throw new VaultError(
        'VAULT_KEY_MISMATCH',
        `vault: the database holds values sealed with master key ${id}, but the loaded master key is ${key.id} ` +
          '(wrong CROCHET_MASTER_KEY or key file?)',
      );
    }
  }
}
