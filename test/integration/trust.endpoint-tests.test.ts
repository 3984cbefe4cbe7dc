import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, registerAgent, startOfUtcDay, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

// Endpoint tests as score evidence (docs/crochet-score.md): recorded every time, but only a failure
// while the listing is active (buyers could call it) weighs, as one seller failure.
const CRON_SECRET = 'cron-secret-for-tests-0123456789';
type Agent = Awaited<ReturnType<typeof registerAgent>>;
type Score = { profile_id: string; score: number; components: Record<string, number>; events_considered: number; computed_at: string | null };

describe('endpoint tests in the Crochet Score', () => {
  let t: TestContext;
  let stub: ReturnType<typeof startSellerStub>;
  /** Stub routes currently answering 500. */
  const down = new Set<string>();
  const sellers = {} as Record<'failing' | 'passing' | 'untested', Agent>;
  const listings = {} as Record<'failing' | 'passing' | 'untested', string>;

  const recompute = async () => {
    const res = await t.call('POST', '/api/v1/internal/recompute-scores', { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect(res.status).toBe(200);
    return res.json.data as { events_ingested: number; profiles_scored: number };
  };
  const score = async (a: Agent): Promise<Score> => (await t.call('GET', `/api/v1/agents/${a.profile.id}/score`)).json.data;
  const testEndpoint = async (a: Agent, listingId: string) => {
    const res = await t.call('POST', `/api/v1/listings/${listingId}/endpoint/test`, { key: a.key });
    expect(res.status).toBe(200);
    return res.json.data as { ok: boolean; error_code?: string; request_id: string };
  };
  const snapshots = () => t.deps.db.sqlite.query('SELECT * FROM score_snapshots ORDER BY profile_id').all();
  /** What the evidence decides (leaving out who and how many events). */
  const sansEvents = ({ events_considered: _n, profile_id: _id, ...s }: Score) => s;

  beforeAll(async () => {
    t = await createTestApp({ CROCHET_CRON_SECRET: CRON_SECRET, CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' }, { clockStart: startOfUtcDay() });
    t.listen();
    const route = (name: string) => () => (down.has(name) ? Response.json({ error: 'down' }, { status: 500 }) : Response.json({ ok: true }));
    stub = startSellerStub({ now: () => t.clock.now(), routes: { '/failing': route('/failing'), '/passing': route('/passing'), '/untested': route('/untested') } });
    const secrets: string[] = [];
    for (const name of ['failing', 'passing', 'untested'] as const) {
      sellers[name] = await registerAgent(t.call, evmWallet(), `Seller ${name}`);
      const listing = await createListing(t.call, sellers[name].key, { name: `${name} oracle`, private_endpoint_url: stub.url(`/${name}`) });
      listings[name] = listing.id;
      secrets.push(listing.gateway_endpoint.signing_secret);
    }
    stub.setSecrets(secrets);
    // Identical histories: two buyers call each seller four times (three sellers each: no captive buyers).
    const gw = (id: string, key: string) => t.call('POST', `/api/v1/gateway/${id}`, { rawBody: '{}', key, headers: { 'content-type': 'application/json' } });
    for (const buyer of [await registerAgent(t.call, solanaWallet(), 'B1'), await registerAgent(t.call, solanaWallet(), 'B2')]) {
      for (const id of Object.values(listings)) for (let i = 0; i < 4; i++) expect((await gw(id, buyer.key)).status).toBe(200);
    }
  });
  afterAll(async () => {
    stub.stop();
    await t.close();
  });

  test('a failed test on an active listing lowers the score like a seller failure; passes add nothing', async () => {
    down.add('/failing');
    const failed = await testEndpoint(sellers.failing, listings.failing);
    down.delete('/failing');
    expect(failed).toMatchObject({ ok: false, error_code: 'UPSTREAM_ERROR' });
    for (let i = 0; i < 2; i++) expect((await testEndpoint(sellers.passing, listings.passing)).ok).toBe(true);

    // Each test is in the log, under its request id, with the listing's status; nothing of the URL.
    const rows = t.deps.db.sqlite.query('SELECT * FROM endpoint_tests ORDER BY rowid').all() as Record<string, unknown>[];
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      id: failed.request_id, listing_id: listings.failing, owner_profile_id: sellers.failing.profile.id, ok: 0,
      error_code: 'UPSTREAM_ERROR', listing_status: 'active', tested_at: t.clock.now().toISOString(),
    });
    expect(JSON.stringify(rows)).not.toContain('127.0.0.1');

    const run = await recompute();
    // 3 sellers × 8 calls, plus the 3 tests.
    expect(run.events_ingested).toBe(27);
    const [failing, passing, untested] = [await score(sellers.failing), await score(sellers.passing), await score(sellers.untested)];
    // 8 answered calls: 8 / (8 + 5) → 615; with the failed test counted as one failure 8 / (8 + 2 + 5) → 533.
    expect(passing.components.reliability).toBe(615);
    expect(failing.components.reliability).toBe(533);
    expect(failing.score).toBeLessThan(passing.score);
    // The passes change nothing: the passing seller scores exactly as the one that never tested.
    expect(sansEvents(passing)).toEqual(sansEvents(untested));
    expect([failing.events_considered, passing.events_considered, untested.events_considered]).toEqual([9, 10, 8]);
  });

  test('tests while draft or paused change nothing but the count; a recompute stays idempotent', async () => {
    const before = await score(sellers.failing);
    const draft = await createListing(t.call, sellers.failing.key, { name: 'Draft', status: 'draft', private_endpoint_url: stub.url('/failing') });
    down.add('/failing');
    for (let i = 0; i < 3; i++) expect((await testEndpoint(sellers.failing, draft.id)).ok).toBe(false);
    expect((await t.call('PATCH', `/api/v1/listings/${listings.failing}`, { key: sellers.failing.key, body: { status: 'paused' } })).status).toBe(200);
    expect((await testEndpoint(sellers.failing, listings.failing)).ok).toBe(false);
    down.delete('/failing');
    expect((await testEndpoint(sellers.failing, draft.id)).ok).toBe(true);
    const statuses = t.deps.db.sqlite.query('SELECT listing_status AS s FROM endpoint_tests ORDER BY rowid').all() as { s: string }[];
    expect(statuses.slice(3).map((r) => r.s)).toEqual(['draft', 'draft', 'draft', 'paused', 'draft']);

    expect((await recompute()).events_ingested).toBe(5);
    const after = await score(sellers.failing);
    expect(sansEvents(after)).toEqual(sansEvents(before));
    expect(after.events_considered).toBe(before.events_considered + 5);

    const snaps = snapshots();
    expect((await recompute()).events_ingested).toBe(0);
    expect(snapshots()).toEqual(snaps);
  });

  test('endpoint tests alone put no profile on the scoreboard', async () => {
    const newcomer = await registerAgent(t.call, evmWallet(), 'Newcomer');
    const listing = await createListing(t.call, newcomer.key, { name: 'First try', private_endpoint_url: stub.url('/failing') });
    down.add('/failing');
    expect((await testEndpoint(newcomer, listing.id)).ok).toBe(false);
    down.delete('/failing');
    expect((await testEndpoint(newcomer, listing.id)).ok).toBe(true);
    const run = await recompute();
    expect(run.events_ingested).toBe(2);
    expect(await score(newcomer)).toMatchObject({ score: 0, computed_at: null, events_considered: 0 });
  });
});
