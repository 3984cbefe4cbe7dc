// Threat: someone other than the operator takes over a new instance through its first-run setup, or creates an admin later.
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ENV } from '../support/app.ts';
import { startServeProcess } from '../support/serve-process.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

const dir = mkdtempSync(join(tmpdir(), 'crochet-setup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setupUrlIn = (log: string) => /"setup_url":"([^"]+)"/.exec(log)?.[1] ?? null;
const admin = { email: 'ops@example.test', password: 'operator password', display_name: 'Ops' };

test('the setup URL logged at first start creates the first admin once; after that no setup URL and no token work', async () => {
  const log1 = join(dir, 'first.log');
  const first = await startServeProcess(dir, log1, { CROCHET_LOG_LEVEL: 'info' });
  let token = '';
  try {
    const url = setupUrlIn(readFileSync(log1, 'utf8'));
    expect(url).toMatch(/^http:\/\/localhost:\d+\/setup\?token=[A-Za-z0-9_-]{40,}$/);
    token = new URL(url!).searchParams.get('token')!;
    const wrong = await first.call('POST', '/api/v1/admin/setup', { body: { ...admin, token: token.slice(0, -2) + 'xx' } });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.code).toBe('SETUP_TOKEN_INVALID');
    const created = await first.call('POST', '/api/v1/admin/setup', { body: { ...admin, token } });
    expect(created.status).toBe(201);
    expect(created.json.data).toMatchObject({ role: 'admin', email: admin.email });
    const cookie = /crochet_session=[^;]+/.exec(created.headers.get('set-cookie') ?? '')![0];
    expect((await first.call('GET', '/api/v1/admin/overview', { headers: { cookie } })).status).toBe(200);
    // Used once: the same token, even with another email, is refused.
    const again = await first.call('POST', '/api/v1/admin/setup', { body: { ...admin, email: 'second@example.test', token } });
    expect(again.status).toBe(403);
  } finally {
    await first.stop();
  }
  const log2 = join(dir, 'second.log');
  const second = await startServeProcess(dir, log2, { CROCHET_LOG_LEVEL: 'info' });
  try {
    expect(readFileSync(log2, 'utf8')).toContain('"listening"');
    expect(setupUrlIn(readFileSync(log2, 'utf8'))).toBeNull();
    const late = await second.call('POST', '/api/v1/admin/setup', { body: { ...admin, email: 'late@example.test', token } });
    expect(late.status).toBe(403);
  } finally {
    await second.stop();
  }
});

test('crochet admin create: password from standard input or CROCHET_ADMIN_PASSWORD, never a flag; --help', async () => {
  const data = mkdtempSync(join(tmpdir(), 'crochet-admin-cli-'));
  const run = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) => {
    const p = Bun.spawnSync(['bun', 'src/main.ts', 'admin', ...args, '--data-dir', data], {
      env: { PATH: process.env.PATH ?? '', HOME: data, ...TEST_ENV, ...opts.env },
      stdin: opts.stdin === undefined ? 'ignore' : new TextEncoder().encode(opts.stdin),
    });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };
  try {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('crochet admin create --email E');
    expect(run(['create', '--email', 'x@example.test', '--password', 'a long password']).code).toBe(2);
    const short = run(['create', '--email', 'x@example.test'], { stdin: 'short\n' });
    expect(short.code).toBe(2);
    const viaStdin = run(['create', '--email', 'One@Example.test'], { stdin: 'stdin password 123\n' });
    expect([viaStdin.code, viaStdin.err]).toEqual([0, '']);
    expect(JSON.parse(viaStdin.out)).toMatchObject({ created: 'admin', email: 'one@example.test' });
    const viaEnv = run(['create', '--email', 'two@example.test'], { env: { CROCHET_ADMIN_PASSWORD: 'env password 4567' } });
    expect(viaEnv.code).toBe(0);
    expect(run(['create', '--email', 'two@example.test'], { env: { CROCHET_ADMIN_PASSWORD: 'env password 4567' } }).code).toBe(1);
    // The password is never echoed.
    expect(viaStdin.out + viaEnv.out + viaStdin.err).not.toContain('stdin password 123');
    expect(viaEnv.out).not.toContain('env password 4567');
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
