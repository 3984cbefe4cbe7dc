import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpCaller, proveWallet } from '../support/app.ts';
import { buildBinary, startBinary, type RunningBinary } from '../support/binary.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

// The product is the compiled executable: build it, start it from an empty folder, use it over HTTP.
let binary: string;
let running: RunningBinary;

beforeAll(async () => {
  binary = await buildBinary();
  // A .env and bunfig.toml in the working folder must not change the binary's behaviour.
  // Nor may the caller's NODE_ENV: only CROCHET_MODE=development gives the framework's development mode.
  running = await startBinary(binary, { CROCHET_POW_DIFFICULTY: '2', CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '0', NODE_ENV: 'development' }, { '.env': 'CROCHET_POW_DIFFICULTY=7\nCROCHET_LOG_LEVEL=error\n', 'bunfig.toml': 'preload = ["./nope.ts"]\n' });
});
afterAll(() => {
  if (running.proc.exitCode === null) running.proc.kill('SIGKILL');
});

const call = httpCaller(() => running.baseUrl);

test('--version prints the version', async () => {
  const proc = Bun.spawn([binary, '--version'], { stdout: 'pipe' });
  expect(await proc.exited).toBe(0);
  expect((await new Response(proc.stdout).text()).trim()).toMatch(/^\d+\.\d+\.\d+$/);
});

test('--help lists every command and every option with its env name and default', async () => {
  const proc = Bun.spawn([binary, '--help'], { stdout: 'pipe' });
  expect(await proc.exited).toBe(0);
  const text = await new Response(proc.stdout).text();
  for (const command of ['serve', 'migrate', 'backup FILE', 'ledger verify', 'ledger head', '--expect-head', 'vault rotate-key', 'scores recompute', '--version']) expect(text).toContain(command);
  // Every configuration name of SPEC §8, each with its default.
  const names = ['PORT', 'HOST', 'DATA_DIR', 'PUBLIC_URL', 'MASTER_KEY', 'LOG_LEVEL', 'POW_DIFFICULTY', 'CHALLENGE_TTL_SECONDS', 'RATE_LIMIT_READ_PER_MIN',
    'RATE_LIMIT_WRITE_PER_MIN', 'RATE_LIMIT_AUTH_PER_5MIN', 'RATE_LIMIT_GATEWAY_PER_MIN', 'RATE_LIMIT_LISTING_PER_MIN', 'ALLOW_PRIVATE_UPSTREAMS', 'PAYMENT_ROUTES',
    'FEE_BPS', 'MAX_PRICE_USD', 'PAYMENT_INTENT_TTL_SECONDS', 'SWEEP_INTERVAL_SECONDS', 'PAID_RESPONSE_TTL_SECONDS', 'CRON_SECRET', 'MAX_JSON_DEPTH'];
  for (const name of names) {
    const flag = `--${name.toLowerCase().replaceAll('_', '-')}`;
    expect(text).toMatch(new RegExp(`${flag}\\s+CROCHET_${name}\\s+default: \\S`));
  }
  expect(text).toMatch(/--port\s+CROCHET_PORT\s+default: 8787/);
});

test('first start made the data folder, a 0600 key file and the database', () => {
  const data = join(running.dir, 'crochet-data');
  expect(readdirSync(data)).toEqual(expect.arrayContaining(['crochet.db', 'master.key']));
  expect(statSync(join(data, 'master.key')).mode & 0o777).toBe(0o600);
});

test('serves /health and registers EVM and Solana agents over HTTP', async () => {
  const health = await call('GET', '/health');
  expect(health.json).toMatchObject({ status: 'ok', database: 'ok' });
  for (const wallet of [evmWallet(), solanaWallet()]) {
    const { proof, challenge } = await proveWallet(call, wallet, 'register');
    expect(challenge.pow.difficulty).toBe(2);
    const reg = await call('POST', '/api/v1/register', { body: { ...proof, display_name: 'Binary Agent' } });
    expect(reg.status).toBe(201);
    const me = await call('GET', '/api/v1/me', { key: reg.json.data.api_key });
    expect(me.json.data.wallets[0].address).toBe(wallet.address);
  }
  expect((await call('GET', '/api/openapi.json')).json.paths).toHaveProperty(['/api/v1/register']);
  // Embedded files: migrations (the database works), the UI and the agent skill text.
  expect(await (await fetch(`${running.baseUrl}/`)).text()).toContain('/assets/app.js');
  expect((await fetch(`${running.baseUrl}/assets/app.css`)).headers.get('content-type')).toStartWith('text/css');
  expect(await (await fetch(`${running.baseUrl}/SKILL.md`)).text()).toContain(`${running.baseUrl.replace('127.0.0.1', 'localhost')}/api/v1`);
});

test('ledger head prints <seq>:<hash> of the live database and verify --expect-head accepts it', async () => {
  const data = join(running.dir, 'crochet-data');
  const run = async (...args: string[]) => {
    const proc = Bun.spawn([binary, 'ledger', ...args, '--data-dir', data], { cwd: running.dir, stdout: 'pipe', stderr: 'pipe' });
    return { code: await proc.exited, stdout: await new Response(proc.stdout).text(), stderr: await new Response(proc.stderr).text() };
  };
  const head = await run('head');
  expect(head.stdout).toMatch(/^\d+:[0-9a-f]{64}\n$/);
  expect(head.code).toBe(0);
  const verify = await run('verify', '--expect-head', head.stdout.trim());
  expect(verify.stdout).toContain(`expected head ${head.stdout.trim()}: present`);
  expect(verify.code).toBe(0);
  expect((await run('verify', '--expect-head', 'nonsense')).code).toBe(2);
});

test('production mode: deep JSON is refused in milliseconds and a validation error never costs more than linear work', async () => {
  const deep = await fetch(`${running.baseUrl}/api/v1/register`, { method: 'POST', body: '['.repeat(50_000) + ']'.repeat(50_000) });
  expect(deep.status).toBe(400);
  expect(((await deep.json()) as { error: { code: string } }).error.code).toBe('JSON_TOO_DEEP');
  // 64 levels around half a million values: in development mode each error copies it, indented, (~70 MB).
  const wide = `${'{"a":'.repeat(63)}["echo-marker",${'0,'.repeat(500_000)}0]${'}'.repeat(63)}`;
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${running.proc.pid}/status`, 'utf8'))?.[1]) / 1024;
  const before = rss();
  for (let round = 0; round < 3; round++) {
    const replies = await Promise.all(Array.from({ length: 4 }, () => fetch(`${running.baseUrl}/api/v1/register`, { method: 'POST', body: wide }).then((r) => r.text())));
    for (const text of replies) {
      expect(text).toContain('VALIDATION_FAILED');
      expect(text).not.toContain('echo-marker');
    }
  }
  expect(rss() - before).toBeLessThan(100);
});

test('a second instance on the same port fails with "in use" instead of sharing the port', async () => {
  const port = new URL(running.baseUrl).port;
  const dir = mkdtempSync(join(tmpdir(), 'crochet-second-'));
  const second = Bun.spawn([binary, 'serve', '--port', port, '--host', '127.0.0.1'], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir }, stdout: 'pipe', stderr: 'pipe' });
  try {
    // A second instance that did start (shared port) never exits by itself: give it a few seconds.
    const exited = await Promise.race([second.exited, Bun.sleep(10_000).then(() => 'still running' as const)]);
    expect(exited).not.toBe('still running');
    expect(exited).not.toBe(0);
    expect(await new Response(second.stderr).text()).toContain(`port ${port} in use`);
    expect((await call('GET', '/health')).status).toBe(200);
  } finally {
    second.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM drains and exits 0; the database is intact for the next start', async () => {
  running.proc.kill('SIGTERM');
  expect(await running.proc.exited).toBe(0);
  const log = await running.output();
  expect(log).toContain('"msg":"listening"'); // so .env's CROCHET_LOG_LEVEL=error was ignored
  expect(log).toContain('"msg":"stopped"');
  expect(existsSync(join(running.dir, 'crochet-data', 'crochet.db'))).toBe(true);
  const migrate = Bun.spawn([binary, 'migrate'], { cwd: running.dir, stdout: 'pipe', stderr: 'pipe' });
  expect(await migrate.exited).toBe(0);
});
