// The change counters behind cross-process cache coherence: bumped by exactly the writes that can
// change a cached key or gateway target, and never by the writes every request makes.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { watchChanges, type Generations } from '../../src/db/change-watch.ts';
import { createCoherentCache } from '../../src/shared/coherent-cache.ts';
import * as Trust from '../../src/modules/trust/service.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

let t: TestContext;
const stub = startSellerStub();
let listingId: string;
let buyer: { key: string; profile: { id: string } };

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  const seller = await registerAgent(t.call, evmWallet(), 'Seller');
  buyer = await registerAgent(t.call, solanaWallet(), 'Buyer');
  const listing = await createListing(t.call, seller.key, { private_endpoint_url: stub.url('/echo') });
  stub.setSecrets([listing.gateway_endpoint.signing_secret]);
  listingId = listing.id;
});
afterAll(async () => {
  await t.close();
  stub.stop();
});

const counters = (): Generations =>
  t.deps.db.sqlite.query<Generations, []>('SELECT api_keys AS apiKeys, gateway_targets AS gatewayTargets FROM cache_generations').get() as Generations;

/** Runs `write` and returns how much each counter moved. */
function moved(write: string, ...params: (string | number)[]): Generations {
  const before = counters();
  t.deps.db.sqlite.run(write, params);
  const after = counters();
  return { apiKeys: after.apiKeys - before.apiKeys, gatewayTargets: after.gatewayTargets - before.gatewayTargets };
}

test.each([
  ['a revoked key', 'UPDATE api_keys SET revoked_at = revoked_at WHERE profile_id = ?', 'buyer', { apiKeys: 1, gatewayTargets: 0 }],
  // Targets carry their owner's status (a suspended seller's listings are suspended): both move.
  ['a suspended profile', "UPDATE profiles SET status = 'active' WHERE id = ?", 'buyer', { apiKeys: 1, gatewayTargets: 1 }],
  ['a changed account type', 'UPDATE profiles SET account_type = account_type WHERE id = ?', 'buyer', { apiKeys: 1, gatewayTargets: 0 }],
  ['a paused listing', 'UPDATE listings SET status = status WHERE id = ?', 'listing', { apiKeys: 0, gatewayTargets: 1 }],
  ['a new price', 'UPDATE listings SET price_micro_usd = price_micro_usd WHERE id = ?', 'listing', { apiKeys: 0, gatewayTargets: 1 }],
  ['a moved endpoint', 'UPDATE listing_gateway_endpoints SET private_url = private_url WHERE listing_id = ?', 'listing', { apiKeys: 0, gatewayTargets: 1 }],
  ['a rotated secret', 'UPDATE listing_gateway_endpoints SET signing_secret = signing_secret WHERE listing_id = ?', 'listing', { apiKeys: 0, gatewayTargets: 1 }],
  ['an endpoint limit', 'UPDATE listing_gateway_endpoints SET timeout_ms = timeout_ms WHERE listing_id = ?', 'listing', { apiKeys: 0, gatewayTargets: 1 }],
  ['a last-used stamp', 'UPDATE api_keys SET last_used_at = last_used_at WHERE profile_id = ?', 'buyer', { apiKeys: 0, gatewayTargets: 0 }],
  ['a display name', 'UPDATE profiles SET display_name = display_name WHERE id = ?', 'buyer', { apiKeys: 0, gatewayTargets: 0 }],
  ['usage stats', 'UPDATE listings SET calls_total = calls_total + 1, rating_count = rating_count WHERE id = ?', 'listing', { apiKeys: 0, gatewayTargets: 0 }],
  ['a listing description', 'UPDATE listings SET description = description WHERE id = ?', 'listing', { apiKeys: 0, gatewayTargets: 0 }],
  ['an endpoint test result', 'UPDATE listing_gateway_endpoints SET last_test_at = last_test_at WHERE listing_id = ?', 'listing', { apiKeys: 0, gatewayTargets: 0 }],
] as const)('%s: counters moved as expected', (_what, sql, on, expected) => {
  expect(moved(sql, on === 'buyer' ? buyer.profile.id : listingId)).toEqual(expected);
});

test('gateway calls, their history and a score recompute move no counter (caches stay warm under load)', async () => {
  const before = counters();
  for (let i = 0; i < 3; i++) expect((await t.call('POST', `/api/v1/gateway/${listingId}`, { key: buyer.key, body: { i } })).status).toBe(200);
  t.clock.advance(120_000); // past the last-used resolution: the next call stamps last_used_at
  expect((await t.call('POST', `/api/v1/gateway/${listingId}`, { key: buyer.key, body: {} })).status).toBe(200);
  Trust.recomputeScores(t.deps); // writes listing usage stats
  const db = t.deps.db.sqlite;
  // Those writes did happen…
  expect(db.query('SELECT calls_total AS n FROM listings WHERE id = ?').get(listingId)).toEqual({ n: 4 });
  expect(db.query('SELECT MAX(last_used_at) AS at FROM api_keys WHERE profile_id = ?').get(buyer.profile.id)).toEqual({ at: t.clock.now().toISOString() });
  // …and emptied no cache.
  expect(counters()).toEqual(before);
});

test('the watch re-reads the counters once per interval, not per call', () => {
  let now = 0;
  const watch = watchChanges(t.deps.db.sqlite, { checkEveryMs: 100, now: () => now });
  const first = watch.current();
  t.deps.db.sqlite.run("UPDATE listings SET status = status WHERE id = ?", [listingId]);
  now = 99;
  expect(watch.current()).toEqual(first);
  now = 100;
  expect(watch.current().gatewayTargets).toBe(first.gatewayTargets + 1);
});

test('a cache empties when its generation moves, keeps no null, and reloads after its TTL', () => {
  let generation = 1;
  let now = 0;
  let loads = 0;
  const cache = createCoherentCache<{ v: number }>({ generation: () => generation, ttlMs: 1_000, maxEntries: 10, now: () => now });
  const load = () => ({ v: ++loads });
  expect(cache.get('k', load)).toEqual({ v: 1 });
  expect(cache.get('k', load)).toEqual({ v: 1 });
  generation = 2;
  expect(cache.get('k', load)).toEqual({ v: 2 });
  now = 1_000;
  expect(cache.get('k', load)).toEqual({ v: 3 });
  expect(cache.get('unknown', () => null)).toBeNull();
  expect(cache.size()).toBe(1);
  cache.forgetWhere((value) => value.v === 3);
  expect(cache.size()).toBe(0);
});
