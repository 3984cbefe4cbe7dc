import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './binary.ts';

const REPO = join(import.meta.dir, '../..');
const START_TIMEOUT_MS = 20_000;

/** Kills the server within a second once this test process is gone (bun test runs no exit hook). */
const WATCHDOG_SCRIPT = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null';

export type ServerProcess = {
  baseUrl: string;
  cronSecret: string;
  /** The server's data folder (its SQLite file is `crochet.db` there), for tests that seed what no API makes. */
  dataDir: string;
  /** Everything the server logged so far (stdout and stderr go to one file in its data folder). */
  log(): string;
  stop(): Promise<void>;
};

/**
 * `bun src/main.ts serve` as its own process, the way an operator starts it from source: a fresh
 * data folder, loopback only, fast PoW, no rate limits (the seed makes hundreds of calls), private
 * upstreams allowed (the seller stub is on loopback) and the cron secret set so tests can recompute
 * scores through the API.
 */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-web-'));
  const port = freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const cronSecret = `cron-${crypto.randomUUID()}`;
  const logPath = join(dir, 'server.log');
  // One append-mode descriptor for both streams: nobody has to drain a pipe, and a failing test can show the log.
  const logFd = openSync(logPath, 'a');
  const proc = Bun.spawn(['bun', join(REPO, 'src/main.ts'), 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      CROCHET_DATA_DIR: join(dir, 'data'),
      CROCHET_PORT: String(port),
      CROCHET_HOST: '127.0.0.1',
      CROCHET_PUBLIC_URL: baseUrl,
      CROCHET_MODE: 'test',
      CROCHET_POW_DIFFICULTY: '1',
      CROCHET_RATE_LIMIT_READ_PER_MIN: '0',
      CROCHET_RATE_LIMIT_WRITE_PER_MIN: '0',
      CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '0',
      CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0',
      CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0',
      CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
      CROCHET_CRON_SECRET: cronSecret,
      ...env,
    },
    stdin: 'ignore',
    stdout: logFd,
    stderr: logFd,
  });
  closeSync(logFd);
  const watchdog = Bun.spawn(['/bin/sh', '-c', WATCHDOG_SCRIPT, 'crochet-watchdog', String(process.pid), String(proc.pid)], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  watchdog.unref();
  const log = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    watchdog.kill('SIGKILL');
    proc.kill('SIGTERM');
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null) {
      const output = log();
      await stop();
      throw new Error(`server exited early (${proc.exitCode}): ${output.slice(-2000)}`);
    }
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not become healthy within ${START_TIMEOUT_MS} ms`);
    }
    await Bun.sleep(50);
  }
  return { baseUrl, cronSecret, dataDir: join(dir, 'data'), log, stop };
}
