// Threat: a review written by someone who never used the listing (or by its owner, a human, or twice) skews trust.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import { issueApiKey } from '../../src/modules/identity/api-keys.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

const DAY_MS = 86_400_000;
const goodReview = { accuracy_rating: 5, reliability_rating: 4, value_rating: 3, title: 'Fast and right', comment: 'Answered every city.' };

describe('free listings', () => {
  let t: TestContext;
  let stub: ReturnType<typeof startSellerStub>;
  type Agent = Awaited<ReturnType<typeof registerAgent>>;
  let seller: Agent;
  let listings: Record<'ok' | 'bad' | 'boom', { id: string; slug: string }>;

  beforeAll(async () => {
    t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' });
    t.listen();
    stub = startSellerStub({
      now: () => t.clock.now(),
      routes: {
        '/ok': () => Response.json({ forecast: 'sunny' }),
        '/bad': () => Response.json({ error: 'unknown city' }, { status: 400 }),
        '/boom': () => Response.json({ error: 'crash' }, { status: 500 }),
      },
    });
    seller = await registerAgent(t.call, evmWallet(), 'Seller');
    const make = async (path: string) => createListing(t.call, seller.key, { name: `Oracle ${path}`, private_endpoint_url: stub.url(path) });
    const [ok, bad, boom] = [await make('/ok'), await make('/bad'), await make('/boom')];
    stub.setSecrets([ok, bad, boom].map((l) => l.gateway_endpoint.signing_secret));
    listings = { ok, bad, boom };
  });
  afterAll(async () => {
    stub.stop();
    await t.close();
  });

  const callListing = (listingId: string, key: string) =>
    t.call('POST', `/api/v1/gateway/${listingId}`, { rawBody: '{"city":"Lyon"}', key, headers: { 'content-type': 'application/json' } });
  const review = (listingId: string, key?: string, body: unknown = goodReview) => t.call('POST', `/api/v1/reviews/${listingId}`, { key, body });
  const newBuyer = () => registerAgent(t.call, solanaWallet(), 'Buyer');

  test('a guest gets 401', async () => {
    const res = await review(listings.ok.id);
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe('AUTH_REQUIRED');
  });

  test('an agent with no call to the listing gets 403 REVIEW_NOT_ELIGIBLE with a recovery', async () => {
    const buyer = await newBuyer();
    const res = await review(listings.ok.id, buyer.key);
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({
      code: 'REVIEW_NOT_ELIGIBLE',
      details: { reason: 'no_recent_completed_call', window_days: 30, paid_call_required: false },
      recovery: { retryable: false, next_action: 'call_listing_then_review' },
    });
  });

  test('calls the seller answered 4xx or 5xx do not make a buyer eligible', async () => {
    const buyer = await newBuyer();
    expect((await callListing(listings.bad.id, buyer.key)).status).toBe(400);
    expect((await callListing(listings.boom.id, buyer.key)).status).toBe(502);
    for (const listing of [listings.bad, listings.boom]) {
      const res = await review(listing.id, buyer.key);
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('REVIEW_NOT_ELIGIBLE');
    }
    // A completed call on another listing does not count for these.
    expect((await callListing(listings.ok.id, buyer.key)).status).toBe(200);
    expect((await review(listings.bad.id, buyer.key)).status).toBe(403);
  });

  test('a completed call right before reviewing is seen at once (write-behind history is flushed)', async () => {
    const buyer = await newBuyer();
    expect((await callListing(listings.ok.id, buyer.key)).status).toBe(200);
    const res = await review(listings.ok.id, buyer.key);
    expect(res.status).toBe(201);
    expect(res.json.data).toEqual({
      id: expect.any(String),
      listing_id: listings.ok.id,
      reviewer: { id: buyer.profile.id, display_name: 'Buyer' },
      accuracy_rating: 5,
      reliability_rating: 4,
      value_rating: 3,
      title: 'Fast and right',
      comment: 'Answered every city.',
      created_at: t.clock.now().toISOString(),
    });

    const second = await review(listings.ok.id, buyer.key, { ...goodReview, title: 'Again' });
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: 'REVIEW_EXISTS', recovery: { next_action: 'stop' } });

    const list = await t.call('GET', `/api/v1/reviews/${listings.ok.id}`);
    expect(list.status).toBe(200);
    expect(list.json.pagination).toEqual({ page: 1, limit: 20, total: 1, totalPages: 1 });
    expect(list.json.data).toEqual([res.json.data]);
    // The listing's rating follows at once: (5 + 4 + 3) / 3 = 4.
    const listing = await t.call('GET', `/api/v1/listings/${listings.ok.id}`);
    expect(listing.json.data.rating).toEqual({ average: 4, count: 1 });
  });

  test('a completed call older than 30 days no longer qualifies', async () => {
    const buyer = await newBuyer();
    expect((await callListing(listings.ok.id, buyer.key)).status).toBe(200);
    t.clock.advance(30 * DAY_MS + 60_000);
    try {
      const res = await review(listings.ok.id, buyer.key);
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('REVIEW_NOT_ELIGIBLE');
    } finally {
      t.clock.advance(-(30 * DAY_MS + 60_000));
    }
    // Back inside the window the same call qualifies (the refusal was the age, nothing else).
    expect((await review(listings.ok.id, buyer.key)).status).toBe(201);
  });

  test('the owner gets 403 REVIEW_OWN_LISTING, even after calling its own listing', async () => {
    expect((await callListing(listings.ok.id, seller.key)).status).toBe(200);
    const res = await review(listings.ok.id, seller.key);
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'REVIEW_OWN_LISTING', recovery: { next_action: 'stop' } });
  });

  test('a human-claimed agent gets 403, even with a completed call', async () => {
    const buyer = await newBuyer();
    // The claim flow belongs to the humans module; the account type is what eligibility reads.
    // Set before the key's first use, so no cached authentication can hold the old type.
    t.deps.db.sqlite.run("UPDATE profiles SET account_type = 'human_claimed_agent' WHERE id = ?", [buyer.profile.id]);
    expect((await callListing(listings.ok.id, buyer.key)).status).toBe(200);
    const res = await review(listings.ok.id, buyer.key);
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'REVIEW_NOT_ELIGIBLE', details: { reason: 'account_type' }, recovery: { next_action: 'stop' } });
  });

  test('a human account gets 403 with a recovery', async () => {
    const now = t.clock.now().toISOString();
    t.deps.db.sqlite.run("INSERT INTO profiles (id, display_name, account_type, status, created_at, updated_at) VALUES ('human-1', 'Hu Man', 'human', 'active', ?, ?)", [now, now]);
    const { raw } = issueApiKey(t.deps, 'human-1', 'test');
    const res = await review(listings.ok.id, raw);
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('AGENTS_ONLY');
    expect(res.json.error.recovery).toMatchObject({ retryable: false });
    expect((await t.call('GET', `/api/v1/reviews/${listings.ok.id}`)).text).not.toContain('Hu Man');
  });

  test('unknown listings are 404 and bad ratings are 400', async () => {
    const buyer = await newBuyer();
    expect((await review('no-such-listing', buyer.key)).status).toBe(404);
    expect((await t.call('GET', '/api/v1/reviews/no-such-listing')).status).toBe(404);
    expect((await callListing(listings.ok.id, buyer.key)).status).toBe(200);
    for (const body of [{ ...goodReview, accuracy_rating: 6 }, { ...goodReview, value_rating: 0 }, { ...goodReview, title: '' }, { ...goodReview, comment: 'x'.repeat(2001) }]) {
      const res = await review(listings.ok.id, buyer.key, body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('paid listings (real local chains)', () => {
  let m: PaidMarket;
  beforeAll(async () => {
    m = await startPaidMarket();
  });
  afterAll(() => m.stop());

  test('a 402 is not a completed call; the paid and completed call is', async () => {
    const raw = JSON.stringify({ q: 'review me' });
    const required = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'EVM' });
    expect(required.status).toBe(402);
    const before = await m.t.call('POST', `/api/v1/reviews/${m.listing.id}`, { key: m.buyer.key, body: goodReview });
    expect(before.status).toBe(403);
    expect(before.json.error.details).toMatchObject({ reason: 'no_recent_completed_call', paid_call_required: true });

    const { relay_request_id: relay, routes } = required.json.payment;
    const tx = await m.usdc.transfer(m.buyer.account, routes[0].pay_to as Hex, 250_000n);
    const done = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx });
    expect(done.status).toBe(200);

    const res = await m.t.call('POST', `/api/v1/reviews/${m.listing.id}`, { key: m.buyer.key, body: goodReview });
    expect(res.status).toBe(201);
    // A paid call on one listing does not open the seller's other listing.
    expect((await m.t.call('POST', `/api/v1/reviews/${m.cheap.id}`, { key: m.buyer.key, body: goodReview })).status).toBe(403);
    expect((await m.t.call('POST', `/api/v1/reviews/${m.listing.id}`, { key: m.stranger.key, body: goodReview })).status).toBe(403);
  });
});
