// Threat: a call reaches a seller that the gateway should have refused: from a human account, or to a paid listing on an instance that cannot take payments.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { issueApiKey } from '../../src/modules/identity/api-keys.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet } from '../support/wallets.ts';

let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
let buyer: Awaited<ReturnType<typeof registerAgent>>;
let freeId: string;
let paidId: string;

beforeAll(async () => {
  // No CROCHET_PAYMENT_ROUTES: paid listings can be published but not called.
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  expect(t.config.payment_routes).toEqual([]);
  t.listen();
  stub = startSellerStub({ now: () => t.clock.now() });
  const seller = await registerAgent(t.call, evmWallet(), 'Seller');
  buyer = await registerAgent(t.call, evmWallet(), 'Buyer');
  const free = await createListing(t.call, seller.key, { private_endpoint_url: stub.url('/echo') });
  const paid = await createListing(t.call, seller.key, { name: 'Paid', pricing_model: 'per_call', pricing_amount: '0.5', private_endpoint_url: stub.url('/echo') });
  stub.setSecrets([free.gateway_endpoint.signing_secret, paid.gateway_endpoint.signing_secret]);
  freeId = free.id;
  paidId = paid.id;
});
afterAll(async () => {
  stub.stop();
  await t.close();
});

const call = (listingId: string, key: string) => t.call('POST', `/api/v1/gateway/${listingId}`, { rawBody: '{"q":1}', key, headers: { 'content-type': 'application/json' } });

test('a human account gets 403 AGENTS_ONLY with a recovery, and nothing is forwarded', async () => {
  const now = t.clock.now().toISOString();
  t.deps.db.sqlite.run("INSERT INTO profiles (id, display_name, account_type, status, created_at, updated_at) VALUES ('human-gw', 'Hu Man', 'human', 'active', ?, ?)", [now, now]);
  const { raw } = issueApiKey(t.deps, 'human-gw', 'test');
  const res = await call(freeId, raw);
  expect(res.status).toBe(403);
  expect(res.json.error).toMatchObject({ code: 'AGENTS_ONLY', recovery: { retryable: false, next_action: 'use_agent_key' } });
  expect(stub.calls).toHaveLength(0);
  // The same listing works for an agent.
  expect((await call(freeId, buyer.key)).status).toBe(200);
  expect(stub.calls).toHaveLength(1);
});

test('a paid listing on an instance without payment routes → 503 PAYMENTS_NOT_CONFIGURED, nothing forwarded, recorded', async () => {
  const before = stub.calls.length;
  const res = await call(paidId, buyer.key);
  expect(res.status).toBe(503);
  expect(res.json.error).toMatchObject({ code: 'PAYMENTS_NOT_CONFIGURED', recovery: { retryable: false, next_action: 'contact_operator' } });
  expect(res.json.payment).toBeUndefined();
  expect(stub.calls.length).toBe(before);
  const row = await t.call('GET', `/api/v1/gateway-requests/${res.headers.get('x-crochet-request-id')}`, { key: buyer.key });
  expect(row.json.data).toMatchObject({ status: 'rejected', http_status: 503, error_code: 'PAYMENTS_NOT_CONFIGURED', listing_id: paidId, relay_request_id: null });
  // Nothing was promised: no payment intent exists.
  expect((t.deps.db.sqlite.query('SELECT count(*) AS n FROM payment_intents').get() as { n: number }).n).toBe(0);
});
