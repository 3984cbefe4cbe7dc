/** `crochet vault rotate-key`: the command-line face of `rotateMasterKey` (see rotation.ts). */
import { existsSync, writeSync } from 'node:fs';
import { openDatabase } from '../../db/open.ts';
import { rotateMasterKey } from './rotation.ts';

export const VAULT_HELP = `crochet vault rotate-key — re-encrypt every vault value under a new master key

Usage: crochet vault rotate-key [--data-dir DIR]

Stop the server first: a running instance keeps sealing with the old key.
With a key file (the default), the new key replaces <data-dir>/master.key; an interrupted run is
finished or undone automatically on the next start. With CROCHET_MASTER_KEY, the new key is printed
once on stdout (before anything changes): store it, then restart with CROCHET_MASTER_KEY set to it.

Examples:
  crochet vault rotate-key --data-dir /var/lib/crochet
  CROCHET_MASTER_KEY=... crochet vault rotate-key --data-dir ./crochet-data
`;

export type VaultCommandIo = { out(text: string): void; err(text: string): void };

// Synchronous writes: the env-mode key must reach the operator before the commit, not after.
const stdio: VaultCommandIo = { out: (t) => void writeSync(1, t), err: (t) => void writeSync(2, t) };

/** Runs the rotation; returns the process exit code. */
export function runVaultRotateKey(opts: { dataDir: string; dbPath: string; envKey?: string }, io: VaultCommandIo = stdio): number {
  if (!existsSync(opts.dbPath)) {
    io.err(`vault: no database at ${opts.dbPath} (check --data-dir)\n`);
    return 1;
  }
  const { sqlite } = openDatabase(opts.dbPath);
  let announced = false;
  try {
    const result = rotateMasterKey({
      dataDir: opts.dataDir,
      sqlite,
      ...(opts.envKey ? { envKey: opts.envKey } : {}),
      announceNewEnvKey: (base64, keyId) => {
        io.out(`New master key ${keyId} — shown once, store it now:\nCROCHET_MASTER_KEY=${base64}\n`);
        announced = true;
      },
    });
    if (result.settled !== 'none') io.err(`vault: an interrupted earlier rotation was ${result.settled}\n`);
    io.out(`vault: re-encrypted ${result.values} value(s): master key ${result.oldKeyId} → ${result.newKeyId}\n`);
    io.out(
      result.mode === 'file'
        ? `vault: new key written to ${result.keyPath}; start the server as usual\n`
        : 'vault: restart the server with CROCHET_MASTER_KEY set to the new key above; the old key opens nothing any more\n',
    );
    return 0;
  } catch (error) {
    io.err(`vault: rotation failed, nothing changed: ${error instanceof Error ? error.message : String(error)}\n`);
    if (announced) io.err('vault: the key printed above is NOT in use; keep the current CROCHET_MASTER_KEY\n');
    return 1;
  } finally {
    sqlite.close();
  }
}
