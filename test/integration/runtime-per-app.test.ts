// Runtime state belongs to one app: two apps in one process, on two databases, share no cached
// key or listing, no queued history and no running-call count.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { drainRuntime } from '../../src/runtime.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

let one: TestContext;
let two: TestContext;
let release: () => void = () => {};
let answered = false;
const stub = startSellerStub({
  routes: {
    // Holds its answer until the test releases it.
    '/held': async () => {
      await new Promise<void>((resolve) => (release = resolve));
      answered = true;
      return Response.json({ held: true });
    },
  },
});
let listing: { id: string };
let held: { id: string };
let buyerOfOne: { key: string };
let buyerOfTwo: { key: string };

beforeAll(async () => {
  [one, two] = await Promise.all([createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' }), createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' })]);
  const seller = await registerAgent(one.call, evmWallet(), 'Seller');
  buyerOfOne = await registerAgent(one.call, solanaWallet(), 'Buyer one');
  buyerOfTwo = await registerAgent(two.call, solanaWallet(), 'Buyer two');
  listing = await createListing(one.call, seller.key, { private_endpoint_url: stub.url('/echo') });
  held = await createListing(one.call, seller.key, { private_endpoint_url: stub.url('/held') });
});
afterAll(async () => {
  release();
  await Promise.all([one.close(), two.close()]);
  stub.stop();
});

test("one app's cached key and listing are unknown to another app", async () => {
  // Cached in app one by a call.
  expect((await one.call('POST', `/api/v1/gateway/${listing.id}`, { key: buyerOfOne.key, body: {} })).status).toBe(200);
  expect(one.runtime.keyCache.size()).toBeGreaterThan(0);
  expect(one.runtime.targetCache.size()).toBe(1);

  const keyElsewhere = await two.call('GET', '/api/v1/me', { key: buyerOfOne.key });
  expect([keyElsewhere.status, keyElsewhere.json.error.code]).toEqual([401, 'API_KEY_INVALID']);
  const listingElsewhere = await two.call('POST', `/api/v1/gateway/${listing.id}`, { key: buyerOfTwo.key, body: {} });
  expect([listingElsewhere.status, listingElsewhere.json.error.code]).toEqual([404, 'NOT_FOUND']);
  expect(two.runtime.targetCache.size()).toBe(0);
  // And app one still serves from its own.
  expect((await one.call('POST', `/api/v1/gateway/${listing.id}`, { key: buyerOfOne.key, body: {} })).status).toBe(200);
});

test("flushing one app's history writes none of another app's queued rows", () => {
  const row = {
    id: 'gw_req_queued_in_one', buyerId: 'b', sellerId: 's', listingId: listing.id, relayRequestId: null, status: 'completed' as const, httpStatus: 200,
    sellerStatus: 200, amountMicroUsd: 0, totalLatencyMs: 1, upstreamLatencyMs: 1, requestBytes: 2, responseBytes: 2, errorCode: null, createdAt: new Date().toISOString(),
  };
  // All synchronous: the write-behind timer cannot run in between.
  one.runtime.history.record(row);
  const queued = one.runtime.history.pending();
  expect(queued).toBeGreaterThan(0);
  two.runtime.history.flush();
  expect(one.runtime.history.pending()).toBe(queued);
  one.runtime.history.flush();
  const inOne = one.deps.db.sqlite.query('SELECT id FROM gateway_requests WHERE id = ?').get(row.id);
  const inTwo = two.deps.db.sqlite.query('SELECT id FROM gateway_requests WHERE id = ?').get(row.id);
  expect([inOne, inTwo]).toEqual([{ id: row.id }, null]);
});

test("draining one app does not wait for another app's running call; draining that app does", async () => {
  const running = one.call('POST', `/api/v1/gateway/${held.id}`, { key: buyerOfOne.key, body: {} });
  while (stub.calls.filter((c) => c.path === '/held').length === 0) await Bun.sleep(5);
  expect(await drainRuntime(two.runtime, 5_000)).toBe(true);
  expect(answered).toBe(false);

  const drained = drainRuntime(one.runtime, 5_000);
  release();
  expect(await drained).toBe(true);
  expect(answered).toBe(true);
  expect((await running).status).toBe(200);
  expect(one.runtime.history.pending()).toBe(0);
});
