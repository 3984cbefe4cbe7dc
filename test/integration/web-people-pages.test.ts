// The people and setup pages in process: what a form answers when it cannot do what was asked.
import { afterEach, expect, test } from 'bun:test';
import * as Admin from '../../src/modules/admin/service.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { signUp } from '../support/humans.ts';
import { evmWallet } from '../support/wallets.ts';

let t: TestContext;
afterEach(async () => t?.close());

async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await t.app.handle(
    new Request(`http://localhost${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:8787', ...headers }, body: new URLSearchParams(form).toString() }),
  );
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

test('setup with an email that already has an account shows the error and the same URL still works', async () => {
  t = await createTestApp();
  const url = Admin.openSetup(t.deps);
  const token = new URL(url!).searchParams.get('token')!;
  const person = await signUp(t.call);
  const taken = await post('/setup', { token, email: person.email, password: 'operator password', display_name: 'Ops' });
  expect(taken.status).toBe(409);
  expect(taken.text).toContain('An account with this email already exists.');
  expect(taken.text).toContain('name="token"');
  const created = await post('/setup', { token, email: 'ops@example.test', password: 'operator password', display_name: 'Ops' });
  expect([created.status, created.location]).toEqual([303, '/admin']);
  // Used: the URL is closed now.
  const again = await post('/setup', { token, email: 'ops2@example.test', password: 'operator password', display_name: 'Ops' });
  expect(again.status).toBe(403);
  expect(again.text).toContain('Setup is closed');
});

test('the claim page refuses an unknown, human or already-claimed profile before issuing a message to sign', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  const agent = await registerAgent(t.call, evmWallet(), 'Agent');
  const ask = (profile_id: string) => post('/dashboard/claim/challenge', { csrf_token: person.csrf, profile_id, wallet_address: agent.wallet.address }, { cookie: person.cookie });
  const challenges = () => t.deps.db.sqlite.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM auth_challenges WHERE purpose = 'claim_agent'").get()!.n;
  const unknown = await ask('0193a0b4-0000-7000-8000-000000000000');
  expect(unknown.status).toBe(404);
  expect(unknown.text).toContain('no agent has this id');
  expect((await ask(person.profileId)).status).toBe(409);
  expect(challenges()).toBe(0);
  const ok = await ask(agent.profile.id);
  expect(ok.status).toBe(200);
  expect(ok.text).toContain('data-testid="claim-message"');
  expect(challenges()).toBe(1);
});

test('a signed-in person\'s 404 page keeps their header (dashboard and sign-out)', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  const res = await t.app.handle(new Request('http://localhost/no-such-page', { headers: { accept: 'text/html', cookie: person.cookie } }));
  expect(res.status).toBe(404);
  const text = await res.text();
  expect(text).toContain('href="/dashboard"');
  expect(text).toContain('action="/signout"');
  expect(text).not.toContain('href="/signin"');
});

test('a signed-in person\'s pages are never stored by a browser or proxy cache; guests\' pages vary on the cookie', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  for (const path of ['/dashboard', '/']) {
    const res = await t.app.handle(new Request(`http://localhost${path}`, { headers: { accept: 'text/html', cookie: person.cookie } }));
    expect(res.headers.get('cache-control')).toBe('private, no-store');
  }
  const guest = await t.app.handle(new Request('http://localhost/', { headers: { accept: 'text/html' } }));
  expect(guest.headers.get('cache-control')).toBe('no-cache');
  expect(guest.headers.get('vary')).toContain('Cookie');
});
