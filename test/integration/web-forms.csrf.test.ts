// Threat: a page form is abused — a cross-site form signs the victim in or acts in their session
// (CSRF), a crafted `next` sends them off-site after sign-in, a planted cookie survives sign-in, the
// session token leaks into a page, forms are used to guess passwords, or an agent key opens a page.
import { afterEach, expect, test } from 'bun:test';
import * as Settings from '../../src/modules/admin/settings.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { signInAdmin } from '../support/admin.ts';
import { signUp, type Person } from '../support/humans.ts';
import { postListing } from '../support/listings.ts';
import { evmWallet } from '../support/wallets.ts';

let t: TestContext;
afterEach(async () => t?.close());

const ORIGIN = 'http://localhost:8787';

/** A browser's form post (urlencoded), following no redirect. */
async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await t.app.handle(
    new Request(`http://localhost${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, ...headers }, body: new URLSearchParams(form).toString() }),
  );
  return { status: res.status, location: res.headers.get('location'), cookie: res.headers.get('set-cookie'), text: await res.text(), retryAfter: res.headers.get('retry-after') };
}
const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await t.app.handle(new Request(`http://localhost${path}`, { headers: { accept: 'text/html', ...headers } }));
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
};
const sessionIn = (cookie: string | null) => /crochet_session=([^;]*)/.exec(cookie ?? '')?.[1] ?? '';
const stillSignedIn = async (p: Person) => (await t.call('GET', '/api/v1/humans/me', { headers: { cookie: p.cookie } })).status === 200;

test('login CSRF: a sign-in or sign-up form posted from another site (or with no Origin) is refused and sets no cookie', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  for (const origin of ['https://evil.example', 'null']) {
    const res = await post('/signin', { email: person.email, password: person.password }, { origin });
    expect([res.status, res.cookie]).toEqual([403, null]);
    expect((await post('/signup', { email: 'x@evil.example', password: 'long enough password', display_name: 'X' }, { origin })).status).toBe(403);
  }
  const noOrigin = await t.app.handle(new Request('http://localhost/signin', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=${encodeURIComponent(person.email)}&password=${encodeURIComponent(person.password)}` }));
  expect(noOrigin.status).toBe(403);
  expect(noOrigin.headers.get('set-cookie')).toBeNull();
  const ok = await post('/signin', { email: person.email, password: person.password });
  expect(ok.status).toBe(303);
  expect(sessionIn(ok.cookie)).not.toBe('');
});

test('CSRF: signed-in forms without the session\'s token (or with another session\'s) change nothing', async () => {
  t = await createTestApp();
  const admin = await signInAdmin(t);
  const other = await signUp(t.call);
  const seller = await registerAgent(t.call, evmWallet(), 'Seller');
  const listing = (await postListing(t.call, seller.key, { name: 'Guarded' })).json.data as { id: string };
  const statusOf = () => t.deps.db.sqlite.query<{ status: string }, [string]>('SELECT status FROM listings WHERE id = ?').get(listing.id)?.status;
  for (const token of [undefined, '', other.csrf, admin.csrf.replace(/.$/, (c) => (c === '0' ? '1' : '0'))]) {
    const form = (extra: Record<string, string>) => (token === undefined ? extra : { ...extra, csrf_token: token });
    const headers = { cookie: admin.cookie };
    expect((await post(`/admin/listings/${listing.id}/status`, form({ status: 'suspended' }), headers)).status).toBe(403);
    expect((await post('/admin/settings', form({ fee_bps: '900' }), headers)).status).toBe(403);
    expect((await post('/admin/categories', form({ slug: 'forged', name: 'Forged' }), headers)).status).toBe(403);
    expect((await post('/signout', form({}), headers)).status).toBe(403);
    expect((await post('/dashboard/claim/challenge', form({ profile_id: seller.profile.id, wallet_address: seller.wallet.address }), headers)).status).toBe(403);
  }
  expect(statusOf()).toBe('draft');
  expect(Settings.effectiveFeeBps(t.deps)).toBe(0);
  expect((await t.call('GET', '/api/v1/categories')).json.data.some((c: { slug: string }) => c.slug === 'forged')).toBe(false);
  expect(await stillSignedIn(admin)).toBe(true);
  const audit = t.deps.db.sqlite.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM admin_audit').get()!.n;
  expect(audit).toBe(1); // only the admin's creation
  // With the token, the same post works.
  expect((await post(`/admin/listings/${listing.id}/status`, { status: 'suspended', csrf_token: admin.csrf }, { cookie: admin.cookie })).location).toBe('/admin/listings?done=suspended');
  expect(statusOf()).toBe('suspended');
});

test('open redirect: `next` after sign-in only ever leads to a path on this site', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  const cases: [string, string][] = [
    ['//evil.example/x', '/dashboard'],
    ['/\\evil.example', '/dashboard'],
    ['https://evil.example/', '/dashboard'],
    ['javascript:alert(1)', '/dashboard'],
    ['/dashboard/claim', '/dashboard/claim'],
  ];
  for (const [next, expected] of cases) {
    const res = await post('/signin', { email: person.email, password: person.password, next });
    expect([next, res.location]).toEqual([next, expected]);
  }
});

test('session fixation: a cookie planted before a form sign-in is not the session after it', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  const planted = 'crochet_session=attacker-chosen-value';
  const res = await post('/signin', { email: person.email, password: person.password }, { cookie: planted });
  const token = sessionIn(res.cookie);
  expect(token).not.toBe('');
  expect(token).not.toBe('attacker-chosen-value');
  expect(token).not.toBe(person.token);
  expect((await get('/dashboard', { cookie: planted })).status).toBe(303);
});

test('the session token never appears in a page; the CSRF token does, for scripts', async () => {
  t = await createTestApp();
  const person = await signUp(t.call);
  const page = await get('/dashboard', { cookie: person.cookie });
  expect(page.status).toBe(200);
  expect(page.text).not.toContain(person.token);
  expect(page.text).toContain(`<meta name="csrf-token" content="${person.csrf}">`);
});

test('password guessing through the sign-in form: 429 with Retry-After on the page, one message for unknown and wrong', async () => {
  t = await createTestApp({ CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '3' });
  const person = await signUp(t.call);
  const wrong = await post('/signin', { email: person.email, password: 'not the password' });
  const unknown = await post('/signin', { email: 'nobody@example.test', password: 'not the password' });
  expect([wrong.status, unknown.status]).toEqual([401, 401]);
  const message = (text: string) => /<div class="error-summary"[\s\S]*?<\/div>/.exec(text)?.[0];
  expect(message(wrong.text)).toBe(message(unknown.text)!.replace('nobody@example.test', person.email));
  await post('/signin', { email: person.email, password: 'still not it' });
  const limited = await post('/signin', { email: person.email, password: person.password });
  expect(limited.status).toBe(429);
  expect(Number(limited.retryAfter)).toBeGreaterThan(0);
  expect(limited.text).toContain('Too many attempts');
  expect(limited.cookie).toBeNull();
});

test('an agent key opens no person page: /dashboard and /admin send it to sign in', async () => {
  t = await createTestApp();
  const agent = await registerAgent(t.call, evmWallet(), 'Agent');
  for (const path of ['/dashboard', '/admin', '/admin/refunds']) {
    const res = await get(path, { authorization: `Bearer ${agent.key}` });
    expect(res.status).toBe(303);
    expect(res.location).toStartWith('/signin?next=');
  }
});
