// Threat: a suspended listing or seller keeps earning (listed, callable, its keys working), or a seller lifts the operator's suspension.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { signInAdmin } from '../support/admin.ts';
import { as, type Person } from '../support/humans.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

allowSlowSetup();

let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
let admin: Person;
type Agent = Awaited<ReturnType<typeof registerAgent>>;
let seller: Agent;
let buyer: Agent;
let listing: { id: string; slug: string };
let other: { id: string; slug: string };

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' });
  t.listen();
  stub = startSellerStub({ now: () => t.clock.now(), routes: { '/ok': () => Response.json({ forecast: 'sunny' }) } });
  admin = await signInAdmin(t);
  seller = await registerAgent(t.call, evmWallet(), 'Seller');
  buyer = await registerAgent(t.call, solanaWallet(), 'Buyer');
  listing = await createListing(t.call, seller.key, { name: 'Suspendable zebra oracle', private_endpoint_url: stub.url('/ok') });
  const second = await createListing(t.call, seller.key, { name: 'Second zebra oracle', private_endpoint_url: stub.url('/ok') });
  other = second;
  stub.setSecrets([(listing as unknown as { gateway_endpoint: { signing_secret: string } }).gateway_endpoint.signing_secret, second.gateway_endpoint.signing_secret]);
});
afterAll(async () => {
  stub.stop();
  await t.close();
});

const callGateway = (id: string) => t.call('POST', `/api/v1/gateway/${id}`, { rawBody: '{"city":"Oslo"}', key: buyer.key, headers: { 'content-type': 'application/json' } });
const searchIds = async () => (await t.call('GET', '/api/v1/listings?q=zebra')).json.data.map((l: { id: string }) => l.id).sort();

test('a suspended listing leaves search, its gateway answers 409 LISTING_SUSPENDED, its seller cannot lift it; restore brings it back', async () => {
  expect(await searchIds()).toEqual([listing.id, other.id].sort());
  expect((await callGateway(listing.id)).status).toBe(200);
  const suspended = await t.call('PATCH', `/api/v1/admin/listings/${listing.id}`, as(admin, { body: { status: 'suspended' } }));
  expect(suspended.status).toBe(200);
  expect(suspended.json.data).toMatchObject({ status: 'suspended', previous_status: 'active' });
  expect(await searchIds()).toEqual([other.id]);
  expect((await t.call('GET', `/api/v1/listings/${listing.slug}`)).status).toBe(404);
  const refused = await callGateway(listing.id);
  expect(refused.status).toBe(409);
  expect(refused.json.error.code).toBe('LISTING_SUSPENDED');
  const lift = await t.call('PATCH', `/api/v1/listings/${listing.id}`, { key: seller.key, body: { status: 'active' } });
  expect(lift.status).toBe(409);
  expect(lift.json.error.code).toBe('LISTING_SUSPENDED');
  const restored = await t.call('PATCH', `/api/v1/admin/listings/${listing.id}`, as(admin, { body: { status: 'active' } }));
  expect(restored.json.data.status).toBe('active');
  expect(await searchIds()).toEqual([listing.id, other.id].sort());
  expect((await callGateway(listing.id)).status).toBe(200);
  const log = (await t.call('GET', '/api/v1/admin/overview', as(admin))).json.data.audit_log.map((a: { action: string; target: string }) => `${a.action} ${a.target}`);
  expect(log.slice(0, 2)).toEqual([`listing.restore listing:${listing.id}`, `listing.suspend listing:${listing.id}`]);
});

test("a suspended profile's key gets 403 PROFILE_SUSPENDED on every agent route and its listings are treated as suspended", async () => {
  const res = await t.call('PATCH', `/api/v1/admin/profiles/${seller.profile.id}`, as(admin, { body: { status: 'suspended' } }));
  expect(res.status).toBe(200);
  expect(res.json.data.status).toBe('suspended');
  const agentRoutes: [string, string, unknown?][] = [
    ['GET', '/api/v1/me'],
    ['GET', '/api/v1/api-keys'],
    ['POST', '/api/v1/api-keys', { name: 'more' }],
    ['GET', '/api/v1/me/wallets'],
    ['GET', '/api/v1/ledger'],
    ['GET', '/api/v1/ledger/balance'],
    ['GET', '/api/v1/me/listings'],
    ['PATCH', `/api/v1/listings/${listing.id}`, { name: 'x' }],
    ['GET', '/api/v1/gateway-requests'],
    ['POST', `/api/v1/reviews/${other.id}`, { accuracy_rating: 5, reliability_rating: 5, value_rating: 5, title: 't', comment: 'c' }],
  ];
  for (const [method, path, body] of agentRoutes) {
    const r = await t.call(method, path, { key: seller.key, body });
    expect([path, r.status, r.json?.error?.code]).toEqual([path, 403, 'PROFILE_SUSPENDED']);
  }
  const call = await t.call('POST', `/api/v1/gateway/${other.id}`, { rawBody: '{}', key: seller.key, headers: { 'content-type': 'application/json' } });
  expect(call.json.error.code).toBe('PROFILE_SUSPENDED');
  expect(await searchIds()).toEqual([]);
  const refused = await callGateway(other.id);
  expect([refused.status, refused.json.error.code]).toEqual([409, 'LISTING_SUSPENDED']);
  await t.call('PATCH', `/api/v1/admin/profiles/${seller.profile.id}`, as(admin, { body: { status: 'active' } }));
  expect((await t.call('GET', '/api/v1/me', { key: seller.key })).status).toBe(200);
  expect((await callGateway(other.id)).status).toBe(200);
  expect(await searchIds()).toEqual([listing.id, other.id].sort());
});

test('categories: add, rename, retire an unused one; retiring a used one is refused (409 CATEGORY_IN_USE)', async () => {
  const added = await t.call('POST', '/api/v1/admin/categories', as(admin, { body: { slug: 'weather', name: 'Weather' } }));
  expect(added.status).toBe(201);
  expect((await t.call('POST', '/api/v1/admin/categories', as(admin, { body: { slug: 'weather', name: 'Again' } }))).status).toBe(409);
  const renamed = await t.call('PATCH', '/api/v1/admin/categories/weather', as(admin, { body: { name: 'Weather & climate' } }));
  expect(renamed.json.data).toMatchObject({ slug: 'weather', name: 'Weather & climate' });
  expect((await t.call('GET', '/api/v1/categories')).json.data.map((c: { name: string }) => c.name)).toContain('Weather & climate');
  const used = await t.call('PATCH', '/api/v1/admin/categories/data', as(admin, { body: { retired: true } }));
  expect([used.status, used.json.error.code]).toEqual([409, 'CATEGORY_IN_USE']);
  const retired = await t.call('PATCH', '/api/v1/admin/categories/weather', as(admin, { body: { retired: true } }));
  expect(retired.json.data).toMatchObject({ slug: 'weather', retired: true });
  expect((await t.call('GET', '/api/v1/categories')).json.data.map((c: { slug: string }) => c.slug)).not.toContain('weather');
  expect((await t.call('PATCH', '/api/v1/admin/categories/weather', as(admin, { body: { name: 'x' } }))).status).toBe(404);
});
