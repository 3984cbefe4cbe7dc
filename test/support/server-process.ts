import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { freePort } from './binary.ts';

const REPO = join(import.meta.dir, '../..');

export type ServerProcess = {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  baseUrl: string;
  port: number;
  dataDir: string;
  /** Resident memory of the server process in MB (VmRSS). */
  rssMb(): number;
  /** Everything it printed so far, once it has exited (call after stop). */
  output(): Promise<string>;
  stop(): Promise<void>;
};

/**
 * Starts `bun src/main.ts serve` (the real entry point, as an operator runs it from source) on a
 * free loopback port with a temporary data folder, and waits for /health. `env` is the whole
 * environment besides PATH and HOME: nothing of the test runner's (NODE_ENV=test) leaks in.
 */
export async function startServerProcess(env: Record<string, string> = {}, opts: { port?: number; dataDir?: string; args?: string[] } = {}): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'crochet-proc-'));
  const port = opts.port ?? freePort();
  const proc = Bun.spawn(
    [process.execPath, 'src/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, ...(opts.args ?? [])],
    { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME: dataDir, ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited early (${proc.exitCode}): ${await new Response(proc.stderr).text()}`);
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not become healthy within 20 s');
    await Bun.sleep(50);
  }
  let collected: Promise<string> | null = null;
  return {
    proc,
    baseUrl,
    port,
    dataDir,
    rssMb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
    output: () => (collected ??= Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(([o, e]) => o + e)),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) proc.kill('SIGKILL');
      await proc.exited;
    },
  };
}

/** Environment for a server process under test: fast PoW, no rate limits, loopback sellers allowed. */
export const PROCESS_TEST_ENV: Record<string, string> = {
  CROCHET_POW_DIFFICULTY: '1',
  CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '0',
  CROCHET_RATE_LIMIT_READ_PER_MIN: '0',
  CROCHET_RATE_LIMIT_WRITE_PER_MIN: '0',
  CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0',
  CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0',
  CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
};
