// Threat: a browser session is stolen, forged, fixed, replayed across credentials, ridden by another site (CSRF) or brute-forced.
import { afterEach, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { as, cookieOnly, sessionTokenIn, signIn, signUp } from '../support/humans.ts';
import { evmWallet } from '../support/wallets.ts';

let t: TestContext;
afterEach(async () => t?.close());

test('sign-up sets an HttpOnly, SameSite=Lax, Path=/ cookie (not Secure over http) and /humans/me returns the CSRF token', async () => {
  t = await createTestApp();
  const res = await t.call('POST', '/api/v1/humans/signup', { body: { email: 'Ada@Example.test', password: 'ten chars!!', display_name: 'Ada' } });
  expect(res.status).toBe(201);
  const cookie = res.headers.get('set-cookie')!;
  expect(cookie).toContain('HttpOnly');
  expect(cookie).toContain('SameSite=Lax');
  expect(cookie).toContain('Path=/');
  expect(cookie).not.toContain('Secure');
  expect(res.json.data).toMatchObject({ email: 'ada@example.test', account_type: 'human', role: 'member' });
  const me = await t.call('GET', '/api/v1/humans/me', { headers: { cookie: `crochet_session=${sessionTokenIn(res)}` } });
  expect(me.status).toBe(200);
  expect(me.json.data.csrf_token).toBe(res.json.data.csrf_token);
  expect(me.json.data.csrf_token).not.toBe(sessionTokenIn(res));
});

test('the cookie is Secure when the public URL is https', async () => {
  t = await createTestApp({ CROCHET_PUBLIC_URL: 'https://market.example.test' });
  const res = await t.call('POST', '/api/v1/humans/signup', { body: { email: 'b@example.test', password: 'ten chars!!', display_name: 'B' } });
  expect(res.headers.get('set-cookie')).toContain('; Secure');
});

test('passwords shorter than 10 characters and a taken email are refused', async () => {
  t = await createTestApp();
  const short = await t.call('POST', '/api/v1/humans/signup', { body: { email: 'c@example.test', password: 'nine char', display_name: 'C' } });
  expect(short.status).toBe(400);
  await signUp(t.call, 'c@example.test');
  const taken = await t.call('POST', '/api/v1/humans/signup', { body: { email: ' C@EXAMPLE.test', password: 'another password', display_name: 'C2' } });
  expect(taken.status).toBe(409);
  expect(taken.json.error.code).toBe('EMAIL_TAKEN');
});

test('no session → 401 on every human route; a forged or unknown cookie is no session', async () => {
  t = await createTestApp();
  for (const cookie of [undefined, 'crochet_session=forged', 'crochet_session=']) {
    const headers: Record<string, string> = cookie ? { cookie, 'x-csrf-token': 'x' } : {};
    expect((await t.call('GET', '/api/v1/humans/me', { headers })).json.error.code).toBe('SESSION_REQUIRED');
    expect((await t.call('POST', '/api/v1/humans/signout', { headers })).status).toBe(401);
    expect((await t.call('GET', '/api/v1/humans/me/agents', { headers })).status).toBe(401);
    expect((await t.call('POST', '/api/v1/agents/x/claim', { headers, body: { wallet_address: '0x0', nonce: 'n', signature: 's' } })).status).toBe(401);
  }
});

test('an agent key never authenticates a human route, and a session never authenticates an agent route', async () => {
  t = await createTestApp();
  const agent = await registerAgent(t.call, evmWallet());
  for (const [method, path] of [['GET', '/api/v1/humans/me'], ['GET', '/api/v1/humans/me/agents'], ['POST', '/api/v1/humans/signout']] as const) {
    const res = await t.call(method, path, { key: agent.key });
    expect(res.status).toBe(401);
  }
  const person = await signUp(t.call);
  for (const [method, path] of [['GET', '/api/v1/me'], ['GET', '/api/v1/api-keys'], ['POST', '/api/v1/api-keys'], ['GET', '/api/v1/ledger'], ['GET', '/api/v1/gateway-requests'], ['POST', '/api/v1/gateway/some-listing']] as const) {
    const res = await t.call(method, path, as(person, method === 'POST' ? { body: { name: 'k' } } : {}));
    expect([path, res.status]).toEqual([path, 401]);
  }
});

test('a missing or wrong CSRF token → 403 and nothing changes', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  const attempts: Record<string, string>[] = [{}, { 'x-csrf-token': 'wrong' }, { 'x-csrf-token': person.token }];
  for (const headers of attempts) {
    const out = await t.call('POST', '/api/v1/humans/signout', cookieOnly(person, { headers }));
    expect(out.status).toBe(403);
    expect(out.json.error.code).toBe('CSRF_TOKEN_INVALID');
    const change = await t.call('POST', '/api/v1/humans/me/password', cookieOnly(person, { headers, body: { current_password: person.password, new_password: 'a brand new password' } }));
    expect(change.status).toBe(403);
  }
  // Still signed in, and the old password still works.
  expect((await t.call('GET', '/api/v1/humans/me', cookieOnly(person))).status).toBe(200);
  await signIn(t.call, person.email, person.password);
});

test('session fixation: a cookie planted before sign-in is not the session after it', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  const planted = 'crochet_session=attacker-chosen-value';
  const fresh = await signIn(t.call, person.email, person.password, { cookie: planted });
  expect(fresh.cookie).not.toBe(planted);
  expect(fresh.token).not.toBe(person.token);
  expect((await t.call('GET', '/api/v1/humans/me', { headers: { cookie: planted } })).status).toBe(401);
  // Even a real session presented at sign-in is not reused.
  const again = await signIn(t.call, person.email, person.password, { cookie: fresh.cookie });
  expect(again.token).not.toBe(fresh.token);
});

test('sign-out ends the session; a password change ends every session', async () => {
  t = await createTestApp();
  const a = await signUp(t.call);
  const b = await signIn(t.call, a.email, a.password);
  const out = await t.call('POST', '/api/v1/humans/signout', as(a));
  expect(out.status).toBe(200);
  expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
  expect((await t.call('GET', '/api/v1/humans/me', as(a))).status).toBe(401);
  expect((await t.call('GET', '/api/v1/humans/me', as(b))).status).toBe(200);
  const c = await signIn(t.call, a.email, a.password);
  const changed = await t.call('POST', '/api/v1/humans/me/password', as(b, { body: { current_password: a.password, new_password: 'a brand new password' } }));
  expect(changed.status).toBe(200);
  expect((await t.call('GET', '/api/v1/humans/me', as(b))).status).toBe(401);
  expect((await t.call('GET', '/api/v1/humans/me', as(c))).status).toBe(401);
  expect((await t.call('GET', '/api/v1/humans/me', { headers: { cookie: `crochet_session=${sessionTokenIn(changed)}` } })).status).toBe(200);
  expect((await t.call('POST', '/api/v1/humans/signin', { body: { email: a.email, password: a.password } })).status).toBe(401);
  await signIn(t.call, a.email, 'a brand new password');
});

test('sessions expire after 7 days without use, and use slides the expiry', async () => {
  t = await createTestApp();
  const p = await signUp(t.call);
  const day = 86_400_000;
  for (let i = 0; i < 3; i++) {
    t.clock.advance(6 * day);
    expect((await t.call('GET', '/api/v1/humans/me', as(p))).status).toBe(200);
  }
  t.clock.advance(7 * day + 1000);
  expect((await t.call('GET', '/api/v1/humans/me', as(p))).status).toBe(401);
});

test('no account enumeration: an unknown email and a wrong password get the same answer', async () => {
  t = await createTestApp();
  const p = await signUp(t.call);
  const strip = (r: { status: number; json: { error: { request_id?: string } } }) => ({ status: r.status, body: { ...r.json, error: { ...r.json.error, request_id: undefined } } });
  const wrong = await t.call('POST', '/api/v1/humans/signin', { body: { email: p.email, password: 'not the password' } });
  const unknown = await t.call('POST', '/api/v1/humans/signin', { body: { email: 'nobody@example.test', password: 'not the password' } });
  expect(wrong.status).toBe(401);
  expect(wrong.json.error.code).toBe('SIGN_IN_FAILED');
  expect(strip(unknown)).toEqual(strip(wrong));
});

test('brute force: sign-in is limited per IP (429 RATE_LIMITED with Retry-After) and per email', async () => {
  t = await createTestApp({ CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '3' });
  t.listen();
  // Per IP: different emails, one address.
  const codes: number[] = [];
  let last;
  for (let i = 0; i < 4; i++) {
    last = await t.call('POST', '/api/v1/humans/signin', { body: { email: `guess${i}@example.test`, password: 'not the password' } });
    codes.push(last.status);
  }
  expect(codes).toEqual([401, 401, 401, 429]);
  expect(last!.json.error.code).toBe('RATE_LIMITED');
  expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
});

test('brute force: sign-in is limited per email whatever the address (service level: the IP is not involved)', async () => {
  t = await createTestApp({ CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '3' });
  const p = await signUp(t.call);
  const Humans = await import('../../src/modules/humans/service.ts');
  const deps = { ...t.deps, dummyHash: Humans.hashPassword(t.deps, 'dummy password') };
  const outcomes: string[] = [];
  for (let i = 0; i < 4; i++) outcomes.push(await Humans.signIn(deps, { email: p.email.toUpperCase(), password: 'wrong password' }).then(() => 'ok', (e) => e.code));
  expect(outcomes).toEqual(['SIGN_IN_FAILED', 'SIGN_IN_FAILED', 'SIGN_IN_FAILED', 'RATE_LIMITED']);
  // The right password is refused too while the email is locked.
  expect(await Humans.signIn(deps, { email: p.email, password: p.password }).then(() => 'ok', (e) => e.code)).toBe('RATE_LIMITED');
});

test('passwords and session tokens appear nowhere in clear: not in the SQLite file, its WAL, or the logs', async () => {
  t = await createTestApp();
  const password = 'Unmistakable-Password-4711';
  const p = await signUp(t.call, 'scan@example.test', password);
  const q = await signIn(t.call, p.email, password);
  await t.call('POST', '/api/v1/humans/me/password', as(q, { body: { current_password: password, new_password: 'Second-Unmistakable-0815' } }));
  const r = await signIn(t.call, p.email, 'Second-Unmistakable-0815');
  const secrets = [password, 'Second-Unmistakable-0815', p.token, q.token, r.token, p.csrf, r.csrf];
  const files = [join(t.dir, 'crochet.db'), join(t.dir, 'crochet.db-wal')].filter(existsSync).map((f) => readFileSync(f));
  expect(files.length).toBe(2);
  const logs = t.logger.lines.join('\n');
  for (const secret of secrets) {
    for (const file of files) expect(file.includes(Buffer.from(secret))).toBe(false);
    expect(logs.includes(secret)).toBe(false);
  }
  // The hash is argon2id, at the configured cost.
  const row = t.deps.db.sqlite.query<{ h: string }, []>('SELECT password_hash AS h FROM human_accounts').get();
  expect(row!.h).toStartWith('$argon2id$v=19$m=1024,t=1,');
});
