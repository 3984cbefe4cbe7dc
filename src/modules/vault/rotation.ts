/**
 * `crochet vault rotate-key`, made crash-safe. The new key must never be lost while the database
 * already depends on it, so the order is:
 *
 *   1. write the new key to `master.key.next` (mode 0600, fsynced);
 *   2. re-encrypt every registered value in ONE transaction, committed with synchronous=FULL;
 *   3. rename `master.key.next` over `master.key` (atomic) and fsync the folder.
 *
 * A crash leaves one of three states: no or a partial `.next` file (database still on the old
 * key); a complete `.next` and an uncommitted transaction (old key); a complete `.next` and a
 * committed transaction (new key). `settlePendingRotation` runs first on every start and on the
 * next rotation: it reads which key sealed the database and either finishes step 3 or discards
 * `.next`. With `CROCHET_MASTER_KEY` there is no key file: the new key is printed once BEFORE the
 * commit (printing after could lose it to a crash), and a start with the wrong key then fails
 * loudly naming the key id the database needs.
 *
 * The server must be stopped: a running instance would keep sealing new values with the old key.
 */
import type { Database } from 'bun:sqlite';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { generateMasterKey, masterKeyFromBase64, masterKeyToBase64, type MasterKey } from './envelope.ts';
import { MASTER_KEY_FILE } from './master-key.ts';
import { SEALED_COLUMNS, type SealedTable } from './registry.ts';
import { assertVaultKeyMatches, rotateVaultKey, sealedKeyIdsInUse } from './service.ts';

export const NEXT_KEY_FILE = `${MASTER_KEY_FILE}.next`;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeKeyFileDurably(path: string, key: MasterKey): void {
  // 'wx': a stale file is settled (or refused) before we get here, never silently overwritten.
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, masterKeyToBase64(key) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readKeyFile(path: string): MasterKey | null {
  try {
    return masterKeyFromBase64(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

export type SettleOutcome = 'none' | 'completed' | 'discarded';

/**
 * Finishes or undoes a rotation interrupted by a crash (see the file comment). Call before
 * loading the key file; does nothing when `master.key.next` does not exist.
 */
export function settlePendingRotation(dataDir: string, sqlite: Database, registry: readonly SealedTable[] = SEALED_COLUMNS): SettleOutcome {
  const nextPath = join(dataDir, NEXT_KEY_FILE);
  if (!existsSync(nextPath)) return 'none';
  const next = readKeyFile(nextPath);
  // A partial file means step 1 never finished, so step 2 never started.
  if (next !== null && sealedKeyIdsInUse(sqlite, registry).has(next.id)) {
    renameSync(nextPath, join(dataDir, MASTER_KEY_FILE));
    fsyncDir(dataDir);
    return 'completed';
  }
  unlinkSync(nextPath);
  fsyncDir(dataDir);
  return 'discarded';
}

export type RotateKeyResult = {
  oldKeyId: string;
  newKeyId: string;
  /** How many sealed values were re-encrypted. */
  values: number;
  /** `file`: the new key replaced the key file at `keyPath`; `env`: the operator must install it. */
  mode: 'file' | 'env';
  keyPath?: string;
  settled: SettleOutcome;
};

export type RotateKeyOptions = {
  dataDir: string;
  /** `CROCHET_MASTER_KEY`, when the key comes from the environment. */
  envKey?: string;
  sqlite: Database;
  /**
   * Env mode only: receives the new key, once, before the commit. It must hand the key to the
   * operator synchronously (e.g. `writeSync(1, …)`); if it throws, nothing is rotated.
   */
  announceNewEnvKey?: (base64: string, keyId: string) => void;
};

/** Rotates the vault master key of a stopped instance; see the file comment for the order. */
export function rotateMasterKey(opts: RotateKeyOptions): RotateKeyResult {
  const { dataDir, sqlite } = opts;
  const settled = opts.envKey ? 'none' : settlePendingRotation(dataDir, sqlite);
  let oldKey: MasterKey;
  if (opts.envKey) {
    oldKey = masterKeyFromBase64(opts.envKey);
  } else {
    const keyPath = join(dataDir, MASTER_KEY_FILE);
    if (!existsSync(keyPath)) throw new Error(`vault: no key file at ${keyPath} and CROCHET_MASTER_KEY is not set: nothing to rotate`);
    oldKey = masterKeyFromBase64(readFileSync(keyPath, 'utf8'));
  }
  // Fail before touching anything when the loaded key is not the database's key.
  assertVaultKeyMatches(sqlite, oldKey);

  const newKey = generateMasterKey();
  const nextPath = join(dataDir, NEXT_KEY_FILE);
  if (opts.envKey) {
    if (!opts.announceNewEnvKey) throw new Error('vault: env-mode rotation needs a way to hand the new key to the operator');
    opts.announceNewEnvKey(masterKeyToBase64(newKey), newKey.id);
  } else {
    writeKeyFileDurably(nextPath, newKey);
    fsyncDir(dataDir);
  }

  // FULL: a WAL commit under NORMAL may be lost on power failure, which would leave the renamed
  // key file newer than the data. secure_delete zeroes the old ciphertexts' bytes in place.
  sqlite.run('PRAGMA synchronous = FULL');
  sqlite.run('PRAGMA secure_delete = ON');
  let values: number;
  try {
    values = rotateVaultKey(sqlite, oldKey, newKey).values;
  } catch (error) {
    if (!opts.envKey && existsSync(nextPath)) unlinkSync(nextPath);
    throw error;
  }
  // Move the committed pages into the main file and empty the WAL, so old-key ciphertexts do not
  // linger in the -wal file.
  sqlite.run('PRAGMA wal_checkpoint(TRUNCATE)');

  if (opts.envKey) return { oldKeyId: oldKey.id, newKeyId: newKey.id, values, mode: 'env', settled };
  const keyPath = join(dataDir, MASTER_KEY_FILE);
  renameSync(nextPath, keyPath);
  fsyncDir(dataDir);
  return { oldKeyId: oldKey.id, newKeyId: newKey.id, values, mode: 'file', keyPath, settled };
}
