import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { masterKeyToBase64 } from '../../src/modules/vault/envelope.ts';
import { createTestApp, registerAgent, startOfUtcDay, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

// The recompute (internal route, CLI), score snapshots and how listing search uses them.
const DAY_MS = 86_400_000;
const CRON_SECRET = 'cron-secret-for-tests-0123456789';
const ROOT = join(import.meta.dir, '../..');
type Agent = Awaited<ReturnType<typeof registerAgent>>;

/** Bulk history rows, as the gateway would have written them (direct inserts keep volume tests fast). */
function insertCalls(t: TestContext, rows: { buyer: string; seller: string; listing: string; n: number; status?: string; amount?: number }[]) {
  const at = t.clock.now().toISOString();
  const insert = t.deps.db.sqlite.prepare(
    `INSERT INTO gateway_requests (id, buyer_id, seller_id, listing_id, relay_request_id, status, http_status, seller_status, amount_micro_usd,
       total_latency_ms, upstream_latency_ms, request_bytes, response_bytes, error_code, created_at)
     VALUES (?, ?, ?, ?, ?, ?, 200, 200, ?, 12, 10, 2, 2, NULL, ?)`,
  );
  t.deps.db.sqlite.transaction(() => {
    for (const r of rows) {
      for (let i = 0; i < r.n; i++) {
        const amount = r.amount ?? 250_000;
        insert.run(`gw_req_${crypto.randomUUID()}`, r.buyer, r.seller, r.listing, amount > 0 ? `rly_${crypto.randomUUID()}` : null, r.status ?? 'completed', amount, at);
      }
    }
  })();
}

const recompute = (t: TestContext, secret = CRON_SECRET) =>
  t.call('POST', '/api/v1/internal/recompute-scores', { headers: { authorization: `Bearer ${secret}` } });
const snapshots = (t: TestContext) => t.deps.db.sqlite.query('SELECT * FROM score_snapshots ORDER BY profile_id').all();
const eventCount = (t: TestContext) => (t.deps.db.sqlite.query('SELECT COUNT(*) AS n FROM score_events').get() as { n: number }).n;

describe('internal recompute route', () => {
  test('404 when no cron secret is configured, as for an unknown route', async () => {
    const t = await createTestApp();
    try {
      const res = await recompute(t);
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('ROUTE_NOT_FOUND');
    } finally {
      await t.close();
    }
  });

  test('401 without or with a wrong secret; 200 with counts once done', async () => {
    const t = await createTestApp({ CROCHET_CRON_SECRET: CRON_SECRET });
    try {
      const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${CRON_SECRET}x` }, { authorization: CRON_SECRET }, { authorization: 'Bearer ' }];
      for (const headers of attempts) {
        const res = await t.call('POST', '/api/v1/internal/recompute-scores', { headers });
        expect(res.status).toBe(401);
        expect(res.json.error).toMatchObject({ code: 'CRON_SECRET_INVALID', recovery: { next_action: 'authenticate' } });
        expect(res.text).not.toContain(CRON_SECRET);
      }
      const ok = await recompute(t);
      expect(ok.status).toBe(200);
      expect(ok.json.data).toEqual({ events_ingested: 0, profiles_scored: 0, listings_refreshed: 0, computed_at: t.clock.now().toISOString(), duration_ms: expect.any(Number) });
    } finally {
      await t.close();
    }
  });
});

describe('scores from real gateway calls', () => {
  let t: TestContext;
  let stub: ReturnType<typeof startSellerStub>;
  let seller: Agent;
  let buyers: Agent[];
  let listingId: string;

  beforeAll(async () => {
    t = await createTestApp({ CROCHET_CRON_SECRET: CRON_SECRET, CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' }, { clockStart: startOfUtcDay() });
    t.listen();
    stub = startSellerStub({ now: () => t.clock.now(), routes: { '/ok': () => Response.json({ ok: true }), '/boom': () => Response.json({}, { status: 500 }) } });
    seller = await registerAgent(t.call, evmWallet(), 'Score Seller');
    const other = await registerAgent(t.call, evmWallet(), 'Other Seller');
    const listing = await createListing(t.call, seller.key, { private_endpoint_url: stub.url('/ok') });
    const otherListing = await createListing(t.call, other.key, { private_endpoint_url: stub.url('/ok') });
    const failing = await createListing(t.call, seller.key, { name: 'Failing', private_endpoint_url: stub.url('/boom') });
    stub.setSecrets([listing, otherListing, failing].map((l) => l.gateway_endpoint.signing_secret));
    listingId = listing.id;
    buyers = [await registerAgent(t.call, solanaWallet(), 'B1'), await registerAgent(t.call, solanaWallet(), 'B2')];
    const gw = (id: string, key: string) => t.call('POST', `/api/v1/gateway/${id}`, { rawBody: '{}', key, headers: { 'content-type': 'application/json' } });
    // Each buyer uses two sellers, so neither is a captive buyer of one (see docs/crochet-score.md).
    for (const b of buyers) {
      for (let i = 0; i < 3; i++) expect((await gw(listing.id, b.key)).status).toBe(200);
      expect((await gw(otherListing.id, b.key)).status).toBe(200);
      expect((await gw(failing.id, b.key)).status).toBe(502);
    }
  });
  afterAll(async () => {
    stub.stop();
    await t.close();
  });

  test('before any recompute: score 0, stale, never computed', async () => {
    const res = await t.call('GET', `/api/v1/agents/${seller.profile.id}/score`);
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({
      profile_id: seller.profile.id, score: 0, tier: 'low', verified: false,
      components: { reliability: 0, accuracy: 0, volume: 0, longevity: 0, reputation: 0 },
      computed_at: null, stale: true, events_considered: 0,
    });
  });

  test('recompute ingests the calls, scores the profiles and refreshes usage stats; twice changes nothing', async () => {
    const first = await recompute(t);
    expect(first.status).toBe(200);
    // 2 buyers × (3 ok + 1 other + 1 failing) seller outcomes; free calls make no buyer events.
    expect(first.json.data).toMatchObject({ events_ingested: 10, profiles_scored: 4, listings_refreshed: 3 });
    const snapsAfterFirst = snapshots(t);
    const eventsAfterFirst = eventCount(t);

    const second = await recompute(t);
    expect(second.json.data).toMatchObject({ events_ingested: 0, profiles_scored: 4 });
    expect(snapshots(t)).toEqual(snapsAfterFirst);
    expect(eventCount(t)).toBe(eventsAfterFirst);

    const listing = await t.call('GET', `/api/v1/listings/${listingId}`);
    expect(listing.json.data.stats).toEqual({ calls: 6, success_rate: 1, p50_latency_ms: expect.any(Number) });
  });

  test('GET /agents/:id/score has the SPEC shape; the listing shows the same score', async () => {
    const res = await t.call('GET', `/api/v1/agents/${seller.profile.id}/score`);
    const s = res.json.data;
    expect(Object.keys(s).sort()).toEqual(['components', 'computed_at', 'events_considered', 'profile_id', 'score', 'stale', 'tier', 'verified']);
    expect(Object.keys(s.components).sort()).toEqual(['accuracy', 'longevity', 'reliability', 'reputation', 'volume']);
    for (const v of Object.values(s.components) as number[]) expect(v).toBeWithin(0, 1001);
    // 6 answered calls, 2 failures: 6 / (6 + 2×2 + 5) = 0.4 → reliability 400.
    expect(s).toMatchObject({ profile_id: seller.profile.id, computed_at: t.clock.now().toISOString(), stale: false, events_considered: 8 });
    expect(s.components.reliability).toBe(400);
    expect(s.score).toBeGreaterThan(0);
    const listing = await t.call('GET', `/api/v1/listings/${listingId}`);
    expect(listing.json.data.provider).toMatchObject({ id: seller.profile.id, score: s.score, tier: s.tier, verified: s.verified });
  });

  test('GET /agents/:id: public profile and score summary, nothing private', async () => {
    const res = await t.call('GET', `/api/v1/agents/${seller.profile.id}`);
    expect(res.status).toBe(200);
    const score = (await t.call('GET', `/api/v1/agents/${seller.profile.id}/score`)).json.data;
    expect(res.json.data).toEqual({
      id: seller.profile.id, display_name: 'Score Seller', account_type: 'agent', created_at: seller.profile.created_at,
      score: { score: score.score, tier: score.tier, verified: score.verified, computed_at: score.computed_at, stale: false },
    });
    expect(res.text).not.toContain(seller.wallet.address);
    expect((await t.call('GET', '/api/v1/agents/nobody')).status).toBe(404);
    expect((await t.call('GET', '/api/v1/agents/nobody/score')).status).toBe(404);
  });

  test('a snapshot older than 15 minutes is reported stale', async () => {
    t.clock.advance(16 * 60_000);
    expect((await t.call('GET', `/api/v1/agents/${seller.profile.id}/score`)).json.data.stale).toBe(true);
    await recompute(t);
    expect((await t.call('GET', `/api/v1/agents/${seller.profile.id}/score`)).json.data.stale).toBe(false);
  });

  test('crochet scores recompute on the data folder', async () => {
    const before = snapshots(t).length;
    t.deps.db.sqlite.run('DELETE FROM score_snapshots');
    const run = (args: string[]) =>
      Bun.spawnSync(['bun', 'src/main.ts', ...args], {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', CROCHET_MASTER_KEY: masterKeyToBase64(t.masterKey) },
      });
    const done = run(['scores', 'recompute', '--data-dir', t.dir]);
    expect(done.stderr.toString()).toBe('');
    expect(done.exitCode).toBe(0);
    expect(done.stdout.toString()).toMatch(/^scores recomputed: 4 profiles, 0 new events, 0 listings refreshed in \d+ ms/);
    expect(snapshots(t)).toHaveLength(before);

    expect(run(['scores', '--help']).stdout.toString()).toContain('crochet scores recompute');
    const missing = run(['scores', 'recompute', '--data-dir', join(t.dir, 'nowhere')]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr.toString()).toContain('no database');
    expect(run(['scores', 'explode']).exitCode).toBe(2);
  });
});

describe('listing search uses scores and ratings', () => {
  let t: TestContext;
  let stub: ReturnType<typeof startSellerStub>;
  const listings: Record<'star' | 'fair' | 'fresh', string> = { star: '', fair: '', fresh: '' };
  const sellers: Partial<Record<'star' | 'fair' | 'fresh', Agent>> = {};

  beforeAll(async () => {
    t = await createTestApp({ CROCHET_CRON_SECRET: CRON_SECRET, CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' }, { clockStart: startOfUtcDay() });
    t.listen();
    stub = startSellerStub({ now: () => t.clock.now(), routes: { '/ok': () => Response.json({ ok: true }) } });
    for (const name of ['star', 'fair', 'fresh'] as const) {
      const seller = await registerAgent(t.call, evmWallet(), `Seller ${name}`);
      sellers[name] = seller;
      listings[name] = (await createListing(t.call, seller.key, { name: `${name} oracle`, private_endpoint_url: stub.url('/ok') })).id;
    }
  });
  afterAll(async () => {
    stub.stop();
    await t.close();
  });

  test('a long-standing, busy, well-reviewed seller is verified; filters and sort follow', async () => {
    // Sellers registered 400 days ago: full longevity.
    t.clock.advance(400 * DAY_MS);
    const star = sellers.star!.profile.id;
    const fair = sellers.fair!.profile.id;
    // Bulk history from 20 buyers who each use both sellers (no captive buyers).
    const bulk = Array.from({ length: 20 }, (_, i) => `bulk-buyer-${i}`);
    insertCalls(t, bulk.flatMap((buyer) => [
      { buyer, seller: star, listing: listings.star, n: 600 },
      { buyer, seller: fair, listing: listings.fair, n: 30 },
    ]));
    // 12 reviewers who really called both listings; the star seller gets 5/5/5, the fair one 3/3/3.
    const gw = (id: string, key: string) => t.call('POST', `/api/v1/gateway/${id}`, { rawBody: '{}', key, headers: { 'content-type': 'application/json' } });
    for (let i = 0; i < 12; i++) {
      const r = await registerAgent(t.call, solanaWallet(), `Reviewer ${i}`);
      for (const id of [listings.star, listings.fair]) {
        const res = await gw(id, r.key);
        expect(res.status).toBe(200);
      }
      const stars = (n: number) => ({ accuracy_rating: n, reliability_rating: n, value_rating: n, title: `${n} stars` });
      expect((await t.call('POST', `/api/v1/reviews/${listings.star}`, { key: r.key, body: stars(5) })).status).toBe(201);
      if (i === 0) expect((await t.call('POST', `/api/v1/reviews/${listings.fair}`, { key: r.key, body: stars(3) })).status).toBe(201);
    }
    expect((await recompute(t)).status).toBe(200);

    const score = async (id: string) => (await t.call('GET', `/api/v1/agents/${id}/score`)).json.data;
    const s = await score(star);
    const f = await score(fair);
    expect(s.verified).toBe(true);
    expect(s.score).toBeGreaterThanOrEqual(800);
    expect(f.verified).toBe(false);
    expect(f.score).toBeGreaterThan(0);
    expect(f.score).toBeLessThan(800);
    expect((await score(sellers.fresh!.profile.id)).score).toBe(0);

    const search = async (query: string) => {
      const res = await t.call('GET', `/api/v1/listings?${query}`);
      expect(res.status).toBe(200);
      return res.json.data as { id: string; provider: { score: number; verified: boolean }; rating: { average: number; count: number } }[];
    };
    expect((await search('verified=true')).map((l) => l.id)).toEqual([listings.star]);
    expect((await search('verified=false')).map((l) => l.id).sort()).toEqual([listings.fair, listings.fresh].sort());
    expect((await search('min_score=800')).map((l) => l.id)).toEqual([listings.star]);
    expect((await search(`min_score=${f.score}`)).map((l) => l.id).sort()).toEqual([listings.star, listings.fair].sort());
    expect((await search(`min_score=${f.score + 1}`)).map((l) => l.id)).toEqual([listings.star]);
    const byRating = await search('sort=rating');
    expect(byRating.map((l) => l.id)).toEqual([listings.star, listings.fair, listings.fresh]);
    expect(byRating.map((l) => l.rating)).toEqual([{ average: 5, count: 12 }, { average: 3, count: 1 }, { average: 0, count: 0 }]);
    expect(byRating[0]!.provider).toMatchObject({ score: s.score, verified: true });
  });
});
