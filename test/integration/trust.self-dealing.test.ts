// Threat: a seller raises its own Crochet Score by buying from itself: through a profile that shares its wallet, a captive buyer, or its own key.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

const CRON_SECRET = 'cron-secret-for-tests-0123456789';
type Agent = Awaited<ReturnType<typeof registerAgent>>;

let t: TestContext;
let seller: Agent;
let honest: Agent;
let sellerListing: string;
let honestListing: string;

/** History rows as the gateway writes them; direct inserts keep hundreds of calls fast. */
function insertCalls(buyer: string, sellerId: string, listing: string, n: number, status = 'completed') {
  const at = t.clock.now().toISOString();
  const insert = t.deps.db.sqlite.prepare(
    `INSERT INTO gateway_requests (id, buyer_id, seller_id, listing_id, relay_request_id, status, http_status, seller_status, amount_micro_usd,
       total_latency_ms, upstream_latency_ms, request_bytes, response_bytes, error_code, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 250000, 12, 10, 2, 2, NULL, ?)`,
  );
  const http = status === 'completed' ? 200 : 502;
  t.deps.db.sqlite.transaction(() => {
    for (let i = 0; i < n; i++) insert.run(`gw_req_${crypto.randomUUID()}`, buyer, sellerId, listing, `rly_${crypto.randomUUID()}`, status, http, http === 200 ? 200 : 500, at);
  })();
}

/** Records that `payer` paid (on Solana) for one of `buyerId`'s calls, as the settlement step does. */
function insertSettlement(buyerId: string, payer: string) {
  const now = t.clock.now().toISOString();
  const intent = `rly_${crypto.randomUUID()}`;
  t.deps.db.sqlite.run(
    `INSERT INTO payment_intents (id, buyer_id, seller_id, listing_id, body_sha256, amount_micro_usd, fee_bps, routes, status, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, 250000, 0, '[]', 'consumed', ?, ?)`,
    [intent, buyerId, honest.profile.id, honestListing, '0'.repeat(64), now, now],
  );
  t.deps.db.sqlite.run(
    `INSERT INTO payment_settlements (settlement_key, intent_id, network, tx_ref, transfer_index, payer, amount_atomic, created_at)
     VALUES (?, ?, 'solana:test', ?, 0, ?, '250000', ?)`,
    [`k_${intent}`, intent, `sig_${intent}`, payer, now],
  );
}

async function sellerScore() {
  const res = await t.call('POST', '/api/v1/internal/recompute-scores', { headers: { authorization: `Bearer ${CRON_SECRET}` } });
  expect(res.status).toBe(200);
  return (await t.call('GET', `/api/v1/agents/${seller.profile.id}/score`)).json.data as { score: number; events_considered: number; components: Record<string, number> };
}

beforeAll(async () => {
  t = await createTestApp({ CROCHET_CRON_SECRET: CRON_SECRET, CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  seller = await registerAgent(t.call, solanaWallet(), 'Seller');
  honest = await registerAgent(t.call, evmWallet(), 'Honest seller');
  sellerListing = (await createListing(t.call, seller.key, { private_endpoint_url: 'http://127.0.0.1:9/never-called' })).id;
  honestListing = (await createListing(t.call, honest.key, { private_endpoint_url: 'http://127.0.0.1:9/never-called' })).id;
  // A modest honest history: 10 buyers who each use both sellers.
  for (let i = 0; i < 10; i++) {
    insertCalls(`crowd-${i}`, seller.profile.id, sellerListing, 5);
    insertCalls(`crowd-${i}`, honest.profile.id, honestListing, 5);
  }
});
afterAll(() => t.close());

test("a buyer that paid from the seller's wallet adds nothing, not even with a five-star review; an unlinked one does", async () => {
  const baseline = await sellerScore();
  expect(baseline.score).toBeGreaterThan(0);

  const linked = await registerAgent(t.call, evmWallet(), 'Sock puppet');
  // The seller's own Solana wallet paid for one of the puppet's calls: the two share a wallet.
  insertSettlement(linked.profile.id, seller.wallet.address);
  // The puppet also uses two other sellers, so only the shared wallet can explain the discount.
  insertCalls(linked.profile.id, honest.profile.id, honestListing, 5);
  insertCalls(linked.profile.id, 'elsewhere', 'elsewhere-listing', 5);
  insertCalls(linked.profile.id, seller.profile.id, sellerListing, 500);
  const review = await t.call('POST', `/api/v1/reviews/${sellerListing}`, {
    key: linked.key,
    body: { accuracy_rating: 5, reliability_rating: 5, value_rating: 5, title: 'Best ever' },
  });
  expect(review.status).toBe(201);

  const afterPuppet = await sellerScore();
  expect(afterPuppet.score).toBe(baseline.score);
  expect(afterPuppet.components).toEqual(baseline.components);
  // The evidence is seen (and counted as considered), it just earns nothing.
  expect(afterPuppet.events_considered).toBe(baseline.events_considered + 501);

  // The very same pattern from a buyer with no shared wallet does raise the score.
  const stranger = await registerAgent(t.call, evmWallet(), 'Real customer');
  insertSettlement(stranger.profile.id, solanaWallet().address);
  insertCalls(stranger.profile.id, honest.profile.id, honestListing, 5);
  insertCalls(stranger.profile.id, 'elsewhere', 'elsewhere-listing', 5);
  insertCalls(stranger.profile.id, seller.profile.id, sellerListing, 500);
  expect((await sellerScore()).score).toBeGreaterThan(baseline.score);
});

test('a captive buyer (every call to this seller) adds nothing, but its failures still count', async () => {
  const before = await sellerScore();
  const captive = await registerAgent(t.call, evmWallet(), 'Captive');
  insertCalls(captive.profile.id, seller.profile.id, sellerListing, 800);
  const after = await sellerScore();
  expect(after.score).toBe(before.score);

  insertCalls(captive.profile.id, seller.profile.id, sellerListing, 50, 'seller_failed');
  expect((await sellerScore()).score).toBeLessThan(before.score);
});

test("calls to one's own listing add nothing", async () => {
  const before = await sellerScore();
  insertCalls(seller.profile.id, seller.profile.id, sellerListing, 1000);
  expect((await sellerScore()).score).toBe(before.score);
});
