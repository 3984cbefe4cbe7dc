// Threat: someone who is not the operator (guest, agent key, ordinary person, forged request from another site) changes the instance, or the audit log is rewritten.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { signInAdmin } from '../support/admin.ts';
import { as, cookieOnly, signUp, type Person } from '../support/humans.ts';
import { createListing } from '../support/listings.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

let t: TestContext;
let admin: Person;
let listingId: string;
const routes = (id: string): [string, string, unknown?][] => [
  ['GET', '/api/v1/admin/overview'],
  ['GET', '/api/v1/admin/listings'],
  ['PATCH', `/api/v1/admin/listings/${id}`, { status: 'suspended' }],
  ['GET', '/api/v1/admin/profiles'],
  ['PATCH', '/api/v1/admin/profiles/x', { status: 'suspended' }],
  ['GET', '/api/v1/admin/categories'],
  ['POST', '/api/v1/admin/categories', { slug: 'new-cat', name: 'New' }],
  ['PATCH', '/api/v1/admin/categories/data', { name: 'Renamed' }],
  ['GET', '/api/v1/admin/refunds'],
  ['POST', '/api/v1/admin/refunds/rly_x/mark', { tx_ref: '0xabc' }],
];

beforeAll(async () => {
  // The RPC URL carries a provider key in its path and query: the overview must show only the host.
  const route = { network: 'eip155:8453', rpc_url: 'https://rpc.provider.example/v2/SECRET-PROVIDER-KEY?apikey=SECRET-QUERY', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', treasury: evmWallet().address };
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_PAYMENT_ROUTES: JSON.stringify([route]) });
  admin = await signInAdmin(t);
  const seller = await registerAgent(t.call, solanaWallet());
  listingId = (await createListing(t.call, seller.key, { private_endpoint_url: 'http://127.0.0.1:9/x' })).id;
});
afterAll(async () => t.close());

test('no session → 401 and an agent key → 401 on every admin route', async () => {
  const agent = await registerAgent(t.call, evmWallet());
  for (const [method, path, body] of routes(listingId)) {
    expect([path, (await t.call(method, path, { body })).status]).toEqual([path, 401]);
    expect([path, (await t.call(method, path, { body, key: agent.key })).status]).toEqual([path, 401]);
  }
});

test('a signed-in person who is not an admin → 403 ADMIN_ONLY on every admin route, nothing changes', async () => {
  const member = await signUp(t.call);
  for (const [method, path, body] of routes(listingId)) {
    const res = await t.call(method, path, as(member, { body }));
    expect([path, res.status, res.json.error.code]).toEqual([path, 403, 'ADMIN_ONLY']);
  }
  expect((await t.call('GET', `/api/v1/listings/${listingId}`)).status).toBe(200);
});

test('an admin without the CSRF token (or with a wrong one) → 403, nothing changes', async () => {
  for (const headers of [{}, { 'x-csrf-token': 'forged' }] as Record<string, string>[]) {
    for (const [method, path, body] of routes(listingId).filter(([m]) => m !== 'GET')) {
      const res = await t.call(method, path, cookieOnly(admin, { body, headers }));
      expect([path, res.status, res.json.error.code]).toEqual([path, 403, 'CSRF_TOKEN_INVALID']);
    }
  }
  expect((await t.call('GET', `/api/v1/listings/${listingId}`)).status).toBe(200);
  const cats = await t.call('GET', '/api/v1/admin/categories', as(admin));
  expect(cats.json.data.map((c: { slug: string }) => c.slug)).not.toContain('new-cat');
  expect((await t.call('GET', '/api/v1/admin/overview', as(admin))).json.data.audit_log).toEqual([expect.objectContaining({ action: 'admin.create_cli' })]);
});

test('the overview shows RPC hosts only, never the provider key in the URL', async () => {
  const res = await t.call('GET', '/api/v1/admin/overview', as(admin));
  expect(res.status).toBe(200);
  expect(res.json.data.payment_routes).toEqual([expect.objectContaining({ network: 'eip155:8453', rpc_host: 'rpc.provider.example' })]);
  expect(res.text).not.toContain('SECRET-PROVIDER-KEY');
  expect(res.text).not.toContain('SECRET-QUERY');
  expect(res.json.data.ledger_head).toMatch(/^\d+:[0-9a-f]{64}$/);
  expect(res.json.data.health).toEqual({ status: 'ok', database: 'ok' });
});

test('the audit log is append-only: the database refuses UPDATE and DELETE', async () => {
  await t.call('PATCH', '/api/v1/admin/categories/data', as(admin, { body: { name: 'Data & APIs' } }));
  const { sqlite } = t.deps.db;
  expect(() => sqlite.run("UPDATE admin_audit SET action = 'nothing'")).toThrow(/append-only/);
  expect(() => sqlite.run('DELETE FROM admin_audit')).toThrow(/append-only/);
  expect(sqlite.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM admin_audit').get()!.n).toBeGreaterThanOrEqual(2);
});
