import type { Subprocess } from 'bun';
import { join } from 'node:path';
import { httpCaller, TEST_ENV } from './app.ts';
import { freePort } from './binary.ts';

const ROOT = join(import.meta.dir, '../..');

export type ServeProcess = {
  proc: Subprocess;
  baseUrl: string;
  call: ReturnType<typeof httpCaller>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
};

/**
 * `bun src/main.ts serve` as its own process on `dataDir` (several may share one), on a free
 * loopback port; resolves once /health answers. Its log goes to `<logFile>` so a full pipe never
 * blocks it. Start processes on a new folder one after the other: the first creates key and database.
 */
export async function startServeProcess(dataDir: string, logFile: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = freePort();
  const proc = Bun.spawn(['bun', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dataDir,
      ...TEST_ENV,
      CROCHET_LOG_LEVEL: 'warn',
      CROCHET_DATA_DIR: dataDir,
      CROCHET_HOST: '127.0.0.1',
      CROCHET_PORT: String(port),
      ...env,
    },
    stdin: 'ignore',
    stdout: Bun.file(logFile),
    stderr: Bun.file(`${logFile}.err`),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`crochet serve exited early (${proc.exitCode}); see ${logFile}.err`);
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('crochet serve did not become healthy within 20 s');
    await Bun.sleep(50);
  }
  return {
    proc,
    baseUrl,
    call: httpCaller(baseUrl),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return await proc.exited;
    },
  };
}
