import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMasterKey, masterKeyFromBase64, masterKeyToBase64, type MasterKey } from './envelope.ts';

export const MASTER_KEY_FILE = 'master.key';

/**
 * The vault key: `CROCHET_MASTER_KEY` when set, else the key file in the data folder,
 * created with mode 0600 on first start.
 */
export function loadMasterKey(opts: { dataDir: string; fromConfig?: string }): { key: MasterKey; source: 'env' | 'file' | 'created' } {
  if (opts.fromConfig) return { key: masterKeyFromBase64(opts.fromConfig), source: 'env' };
  const path = join(opts.dataDir, MASTER_KEY_FILE);
  if (existsSync(path)) return { key: masterKeyFromBase64(readFileSync(path, 'utf8').trim()), source: 'file' };
  const key = generateMasterKey();
  // 'wx' fails if another process created the file meanwhile, instead of overwriting its key.
  writeFileSync(path, masterKeyToBase64(key) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key, source: 'created' };
}

/** Replaces the key file atomically (0600). Rotation writes its own durable copy (rotation.ts); tests use this to set up data folders. */
export function writeMasterKeyFile(dataDir: string, key: MasterKey): string {
  const path = join(dataDir, MASTER_KEY_FILE);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, masterKeyToBase64(key) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}
