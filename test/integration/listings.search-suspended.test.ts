// Threat: a suspended seller's listings stay findable, or still counted in a total, through some search shape (text, filters, sort, score).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { signInAdmin } from '../support/admin.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { as, type Person } from '../support/humans.ts';
import { createListing } from '../support/listings.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { evmWallet } from '../support/wallets.ts';

allowSlowSetup();

let t: TestContext;
let admin: Person;
let kept: string[];
let hidden: string[];
let keeper: Awaited<ReturnType<typeof registerAgent>>;

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' });
  admin = await signInAdmin(t);
  keeper = await registerAgent(t.call, evmWallet(), 'Kept seller');
  const banned = await registerAgent(t.call, evmWallet(), 'Banned seller');
  const url = 'http://127.0.0.1:9/x';
  const make = (key: string, name: string, extra: Record<string, unknown>) => createListing(t.call, key, { name, private_endpoint_url: url, ...extra }).then((l) => l.id);
  const paid = { pricing_model: 'per_call', pricing_amount: 0.25 };
  kept = [await make(keeper.key, 'Quokka maps', { category: 'data' }), await make(keeper.key, 'Quokka voice', { category: 'ai', ...paid })];
  hidden = [
    await make(banned.key, 'Quokka forecasts', { category: 'data' }),
    await make(banned.key, 'Quokka prices', { category: 'ai', ...paid }),
    await make(banned.key, 'Quokka audio', { category: 'ai', ...paid }),
  ];
  const res = await t.call('PATCH', `/api/v1/admin/profiles/${banned.profile.id}`, as(admin, { body: { status: 'suspended' } }));
  expect(res.status).toBe(200);
});
afterAll(() => t.close());

const search = async (query: string) => {
  const res = await t.call('GET', `/api/v1/listings?${query}`);
  expect(res.status).toBe(200);
  return { ids: res.json.data.map((l: { id: string }) => l.id) as string[], total: res.json.pagination.total as number };
};

test.each([
  ['q=quokka', 2],
  ['q=quokka&category=ai', 1],
  ['q=quokka&pricing_model=per_call&sort=rating', 1],
  ['q=quokka&sort=newest', 2],
  ['sort=popular', 2],
  ['sort=rating', 2],
  ['category=data&sort=price_low', 1],
  ['pricing_model=per_call&sort=price_high', 1],
  ['min_score=0', 2],
  ['verified=false', 2],
  ['q=quokka&verified=false&limit=1&page=2', 2],
])('%s: no listing of the suspended seller, and the total counts only the others', async (query, total) => {
  const page = await search(query);
  for (const id of hidden) expect(page.ids).not.toContain(id);
  expect(page.total).toBe(total);
  if (!query.includes('page=')) expect(page.ids.length).toBe(total);
  for (const id of page.ids) expect(kept).toContain(id);
});

test('score filters read the owner score: a verified seller is found, the others are not; suspension still wins', async () => {
  t.deps.db.sqlite.run(
    `INSERT INTO score_snapshots (profile_id, score, reliability, accuracy, volume, longevity, reputation, tier, verified, events_considered, inputs_hash, computed_at)
     VALUES (?, 900, 0, 0, 0, 0, 0, 'gold', 1, 0, 'x', '2026-01-01T00:00:00.000Z')`,
    [keeper.profile.id],
  );
  expect((await search('verified=true')).ids.sort()).toEqual([...kept].sort());
  expect((await search('min_score=850&q=quokka')).total).toBe(2);
  expect((await search('min_score=901')).total).toBe(0);
  expect((await search('verified=false')).total).toBe(0);
});
