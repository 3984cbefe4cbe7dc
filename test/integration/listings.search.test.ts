import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { solvePow } from '../../src/shared/pow.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { LISTING_FIELDS, postListing, solvedListingPow } from '../support/listings.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

let t: TestContext;
let key: string;
const URL_OK = 'http://127.0.0.1:9/run';
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  key = (await registerAgent(t.call, evmWallet(), 'Search Seller')).key;
  const specs = [
    ['A', { name: 'Alpha geocoder', description: 'Turns addresses into coordinates, zanzibarite grade.', tags: ['maps'], category: 'data', pricing_model: 'free', pricing_amount: 0 }],
    ['B', { name: 'Beta translator', description: 'Translation between languages.', tags: ['language', 'Quokkaword'], category: 'ai', pricing_model: 'per_call', pricing_amount: '0.05' }],
    ['C', { name: 'Gamma quotes', description: 'Stock quotes in real time.', tags: ['finance'], category: 'finance', pricing_model: 'per_call', pricing_amount: 1.5 }],
    ['D', { name: 'Delta summarizer', description: 'Summaries of long documents.', tags: ['text'], category: 'ai', pricing_model: 'per_call', pricing_amount: '0.002' }],
  ] as const;
  for (const [label, fields] of specs) {
    const res = await postListing(t.call, key, { ...fields, status: 'active', private_endpoint_url: URL_OK });
    expect(res.status).toBe(201);
    ids[label] = res.json.data.id;
    t.clock.advance(1000);
  }
  // Not public: a draft and a paused listing carrying the same rare word.
  expect((await postListing(t.call, key, { name: 'Epsilon hidden', description: 'zanzibarite draft', tags: ['quokkaword'] })).status).toBe(201);
  const paused = await postListing(t.call, key, { name: 'Zeta paused', description: 'zanzibarite paused', status: 'paused', private_endpoint_url: URL_OK });
  expect(paused.status).toBe(201);
  // Usage and ratings are written by the gateway and trust modules; set them the way they will.
  const set = t.deps.db.sqlite.query('UPDATE listings SET calls_total = ?, calls_succeeded = ?, rating_average = ?, rating_count = ? WHERE id = ?');
  set.run(5, 4, 4.5, 2, ids.A!);
  set.run(50, 50, 3, 1, ids.B!);
  set.run(10, 5, 5, 3, ids.C!);
});
afterAll(() => t.close());

const search = async (qs: string) => {
  const res = await t.call('GET', `/api/v1/listings?${qs}`);
  expect(res.status).toBe(200);
  return res;
};
const order = async (qs: string) => (await search(qs)).json.data.map((l: { id: string }) => Object.keys(ids).find((k) => ids[k] === l.id) ?? l.id);

describe('listing proof of work', () => {
  test('reuse of a solved challenge → CHALLENGE_ALREADY_USED with restart_challenge', async () => {
    const k = (await registerAgent(t.call, evmWallet())).key;
    const { nonce } = await solvedListingPow(t.call, k);
    const body = { ...LISTING_FIELDS, pow_nonce: nonce };
    expect((await t.call('POST', '/api/v1/listings', { key: k, body })).status).toBe(201);
    const again = await t.call('POST', '/api/v1/listings', { key: k, body: { ...body, name: 'Second' } });
    expect(again.status).toBe(400);
    expect(again.json.error.code).toBe('CHALLENGE_ALREADY_USED');
    expect(again.json.error.recovery.next_action).toBe('restart_challenge');
  });

  test('an expired challenge → CHALLENGE_EXPIRED with restart_challenge', async () => {
    const k = (await registerAgent(t.call, evmWallet())).key;
    const { nonce } = await solvedListingPow(t.call, k);
    t.clock.advance((t.config.challenge_ttl_seconds + 1) * 1000);
    const res = await t.call('POST', '/api/v1/listings', { key: k, body: { ...LISTING_FIELDS, pow_nonce: nonce } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('CHALLENGE_EXPIRED');
    expect(res.json.error.recovery.next_action).toBe('restart_challenge');
  });

  test('no challenge, a wrong answer, and another agent\'s puzzle are refused', async () => {
    const k = (await registerAgent(t.call, evmWallet())).key;
    const none = await t.call('POST', '/api/v1/listings', { key: k, body: { ...LISTING_FIELDS, pow_nonce: 'x' } });
    expect(none.json.error.code).toBe('CHALLENGE_NOT_FOUND');
    const { pow } = await solvedListingPow(t.call, k);
    // A nonce that provably fails this puzzle.
    let wrong = 0;
    while (solvePow(pow.challenge, pow.difficulty) === String(wrong) || sha256Starts(pow.challenge + String(wrong), pow.difficulty)) wrong++;
    const bad = await t.call('POST', '/api/v1/listings', { key: k, body: { ...LISTING_FIELDS, pow_nonce: String(wrong) } });
    expect(bad.json.error.code).toBe('POW_INVALID');
    expect(bad.json.error.recovery.next_action).toBe('restart_challenge');
    // The puzzle is bound to k: another agent cannot spend its answer.
    const other = (await registerAgent(t.call, solanaWallet())).key;
    const stolen = await t.call('POST', '/api/v1/listings', { key: other, body: { ...LISTING_FIELDS, pow_nonce: solvePow(pow.challenge, pow.difficulty) } });
    expect(stolen.status).toBe(400);
    expect(stolen.json.error.recovery.next_action).toBe('restart_challenge');
    // …and k still can.
    const own = await t.call('POST', '/api/v1/listings', { key: k, body: { ...LISTING_FIELDS, pow_nonce: solvePow(pow.challenge, pow.difficulty) } });
    expect(own.status).toBe(201);
  });

  test('a failed validation does not spend the puzzle', async () => {
    const k = (await registerAgent(t.call, evmWallet())).key;
    const { nonce } = await solvedListingPow(t.call, k);
    const bad = await t.call('POST', '/api/v1/listings', { key: k, body: { ...LISTING_FIELDS, category: 'nope', pow_nonce: nonce } });
    expect(bad.json.error.code).toBe('UNKNOWN_CATEGORY');
    expect((await t.call('POST', '/api/v1/listings', { key: k, body: { ...LISTING_FIELDS, pow_nonce: nonce } })).status).toBe(201);
  });
});

function sha256Starts(input: string, zeros: number): boolean {
  return new Bun.CryptoHasher('sha256').update(input).digest('hex').startsWith('0'.repeat(zeros));
}

describe('full-text search', () => {
  test('finds a word that is only in the description, only among active listings', async () => {
    expect(await order('q=zanzibarite')).toEqual(['A']);
  });

  test('finds a word that is only in the tags (tags are stored lowercase)', async () => {
    expect(await order('q=quokkaword')).toEqual(['B']);
    expect(await order('q=QUOKKAWORD')).toEqual(['B']);
  });

  test('prefixes and several words', async () => {
    expect(await order('q=transl')).toEqual(['B']);
    expect(await order('q=stock%20quotes')).toEqual(['C']);
    expect(await order('q=stock%20nothingmatches')).toEqual([]);
  });

  test.each([
    '"', '""', '*', '**', 'NEAR(', 'NEAR(alpha beta', 'alpha NEAR/2 beta', '-', '-alpha', ':', 'name:alpha',
    'alpha OR', 'AND', 'NOT alpha', '"unbalanced', 'a"b"c', '^alpha', '(', ')', '{name description}: alpha',
    'alpha*', '\u0000', '\'; DROP TABLE listings; --', '%', '%%25', 'x'.repeat(1000), 'word '.repeat(200),
  ])('hostile query %j never fails', async (q) => {
    const res = await t.call('GET', `/api/v1/listings?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    expect(res.json.success).toBe(true);
    expect(res.json.pagination.total).toBe(res.json.data.length);
  });

  test('operators are words, not syntax: "-alpha" finds alpha', async () => {
    expect(await order(`q=${encodeURIComponent('-alpha')}`)).toEqual(['A']);
    expect(await order(`q=${encodeURIComponent('"geocoder')}`)).toEqual(['A']);
  });

  test('an over-long query is a 400, not a 500', async () => {
    const res = await t.call('GET', `/api/v1/listings?q=${'y'.repeat(5000)}`);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('filters, sorts and pages', () => {
  test('only active listings, newest first by default', async () => {
    expect(await order('')).toEqual(['D', 'C', 'B', 'A']);
  });

  test('category and pricing_model', async () => {
    expect(await order('category=ai')).toEqual(['D', 'B']);
    expect(await order('pricing_model=free')).toEqual(['A']);
    expect(await order('pricing_model=per_call&category=ai&sort=price_low')).toEqual(['D', 'B']);
    const unknown = await t.call('GET', '/api/v1/listings?category=nope');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.code).toBe('UNKNOWN_CATEGORY');
  });

  test.each([
    ['newest', ['D', 'C', 'B', 'A']],
    ['price_low', ['A', 'D', 'B', 'C']],
    ['price_high', ['C', 'B', 'D', 'A']],
    ['popular', ['B', 'C', 'A', 'D']],
    ['rating', ['C', 'A', 'B', 'D']],
  ])('sort=%s', async (sort, expected) => {
    expect(await order(`sort=${sort}`)).toEqual(expected);
  });

  test('min_score and verified read the provider score (0 for everyone until scores exist)', async () => {
    expect(await order('min_score=0')).toHaveLength(4);
    expect(await order('min_score=1')).toEqual([]);
    expect(await order('verified=true')).toEqual([]);
    expect(await order('verified=false')).toHaveLength(4);
    const listing = (await search('limit=1')).json.data[0];
    expect(listing.provider).toMatchObject({ display_name: 'Search Seller', account_type: 'agent', score: 0, tier: 'low', verified: false });
  });

  test('pagination totals and pages', async () => {
    const p1 = await search('limit=3&page=1');
    expect(p1.json.pagination).toEqual({ page: 1, limit: 3, total: 4, totalPages: 2 });
    const p2 = await search('limit=3&page=2');
    expect(p2.json.data).toHaveLength(1);
    const all = [...p1.json.data, ...p2.json.data].map((l: { id: string }) => l.id);
    expect(new Set(all).size).toBe(4);
    const p3 = await search('limit=3&page=3');
    expect(p3.json.data).toEqual([]);
    expect(p3.json.pagination.total).toBe(4);
    expect((await t.call('GET', '/api/v1/listings?limit=101')).status).toBe(400);
    expect((await search('')).json.pagination.limit).toBe(20);
  });

  test('public objects carry price, stats, rating and gateway URL', async () => {
    const c = (await t.call('GET', `/api/v1/listings/${ids.C}`)).json.data;
    expect(c).toMatchObject({
      pricing_amount: '1.5',
      pricing_currency: 'USD',
      stats: { calls: 10, success_rate: 0.5, p50_latency_ms: null },
      rating: { average: 5, count: 3 },
      gateway_url: `http://localhost:8787/api/v1/gateway/${ids.C}`,
    });
    const d = (await t.call('GET', `/api/v1/listings/${ids.D}`)).json.data;
    expect(d.stats).toEqual({ calls: 0, success_rate: null, p50_latency_ms: null });
  });
});

describe('blank query parameters (what an HTML form sends for untouched fields)', () => {
  test('are treated as absent, not as invalid values', async () => {
    expect(await order('q=&category=&pricing_model=&min_score=&verified=&sort=&page=&limit=')).toEqual(['D', 'C', 'B', 'A']);
    expect(await order('category=ai&q=')).toEqual(['D', 'B']);
    expect(await order('q=&sort=price_low&category=')).toEqual(['A', 'D', 'B', 'C']);
    expect((await search('page=&limit=')).json.pagination).toMatchObject({ page: 1, limit: 20 });
  });

  test('a present but wrong value is still refused', async () => {
    const res = await t.call('GET', '/api/v1/listings?min_score=abc&category=');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('sort=rating ranks by a weighted rating', () => {
  let r: TestContext;
  const named: Record<string, string> = {};
  beforeAll(async () => {
    r = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
    const k = (await registerAgent(r.call, evmWallet(), 'Rating Seller')).key;
    // [label, average, count]: set as the trust module writes them.
    const specs: [string, number, number][] = [['one-five', 5, 1], ['many-4.7', 4.7, 10], ['unrated', 0, 0], ['poor', 2, 3], ['two-4.5', 4.5, 2]];
    for (const [label, average, count] of specs) {
      const res = await postListing(r.call, k, { name: `Rated ${label}`, status: 'active', private_endpoint_url: URL_OK });
      named[res.json.data.id] = label;
      r.deps.db.sqlite.query('UPDATE listings SET rating_average = ?, rating_count = ? WHERE id = ?').run(average, count, res.json.data.id);
      r.clock.advance(1000);
    }
  });
  afterAll(() => r.close());

  test('a single 5-star review does not outrank many 4.7s; (C·m + n·avg) / (C + n) with C = 5, m = 3', async () => {
    const res = await r.call('GET', '/api/v1/listings?sort=rating');
    expect(res.status).toBe(200);
    const labels = res.json.data.map((l: { id: string }) => named[l.id]);
    // many-4.7: 62/15 = 4.13; two-4.5: 24/7 = 3.43; one-five: 20/6 = 3.33; unrated: 3; poor: 21/8 = 2.63.
    expect(labels).toEqual(['many-4.7', 'two-4.5', 'one-five', 'unrated', 'poor']);
    // The plain average would have put the single 5 first.
    expect(res.json.data.map((l: { rating: { average: number } }) => l.rating.average)).toEqual([4.7, 4.5, 5, 0, 2]);
  });
});

describe('price validation', () => {
  const micro = (id: string) => t.deps.db.sqlite.query<{ p: number }, [string]>('SELECT price_micro_usd AS p FROM listings WHERE id = ?').get(id)?.p;

  test.each([
    ['free', 0, '0', 0],
    ['free', '0', '0', 0],
    ['free', '0.000000', '0', 0],
    ['per_call', '0.01', '0.01', 10_000],
    ['per_call', 0.01, '0.01', 10_000],
    ['per_call', 0.1, '0.1', 100_000],
    ['per_call', '0.000001', '0.000001', 1],
    ['per_call', 1000, '1000', 1_000_000_000],
    ['per_call', '999.999999', '999.999999', 999_999_999],
  ])('%s %j → 201, %s USD = %d micro-USD', async (model, amount, shown, expected) => {
    const res = await postListing(t.call, key, { pricing_model: model, pricing_amount: amount });
    expect(res.status).toBe(201);
    expect(res.json.data.pricing_amount).toBe(shown);
    expect(micro(res.json.data.id)).toBe(expected);
  });

  test.each([
    ['free', 0.01],
    ['free', '1'],
    ['per_call', 0],
    ['per_call', '0.0000001'],
    ['per_call', 0.0000001],
    ['per_call', '0.1234567'],
    ['per_call', '1000.000001'],
    ['per_call', 1001],
    ['per_call', '-1'],
    ['per_call', -0.5],
    ['per_call', 'abc'],
    ['per_call', '1e3'],
    ['per_call', ' 1'],
    ['per_call', ''],
  ])('%s %j → 400 INVALID_PRICE', async (model, amount) => {
    const res = await postListing(t.call, key, { pricing_model: model, pricing_amount: amount });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('INVALID_PRICE');
    expect(res.json.error.recovery.next_action).toBe('fix_request');
  });

  test('PATCH re-validates price and model together', async () => {
    const id = (await postListing(t.call, key, { pricing_model: 'per_call', pricing_amount: '2' })).json.data.id;
    const toFree = await t.call('PATCH', `/api/v1/listings/${id}`, { key, body: { pricing_model: 'free' } });
    expect(toFree.json.error.code).toBe('INVALID_PRICE');
    const ok = await t.call('PATCH', `/api/v1/listings/${id}`, { key, body: { pricing_model: 'free', pricing_amount: 0 } });
    expect(ok.json.data).toMatchObject({ pricing_model: 'free', pricing_amount: '0' });
    expect(micro(id)).toBe(0);
  });
});

describe('other fields', () => {
  test.each([
    [{ name: '' }, 'name'],
    [{ name: 'n'.repeat(121) }, 'name'],
    [{ description: 'd'.repeat(5001) }, 'description'],
    [{ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 'tags'],
    [{ tags: ['x'.repeat(33)] }, 'tags.0'],
    [{ formats: ['xml'] }, 'formats.0'],
    [{ delivery_type: 'email' }, 'delivery_type'],
    [{ auth_method: 'oauth' }, 'auth_method'],
    [{ pricing_currency: 'EUR' }, 'pricing_currency'],
    [{ status: 'deleted' }, 'status'],
    [{ connection_instructions: 'c'.repeat(5001) }, 'connection_instructions'],
  ])('%j → 400 VALIDATION_FAILED naming %s', async (fields, path) => {
    const res = await postListing(t.call, key, fields);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
    expect(res.json.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  test('non-draft without an endpoint URL → 400 ENDPOINT_URL_REQUIRED; activation needs one too', async () => {
    for (const status of ['active', 'paused', 'archived']) {
      const res = await postListing(t.call, key, { status });
      expect(res.json.error.code).toBe('ENDPOINT_URL_REQUIRED');
    }
    const draft = (await postListing(t.call, key, {})).json.data;
    expect(draft.status).toBe('draft');
    const activate = await t.call('PATCH', `/api/v1/listings/${draft.id}`, { key, body: { status: 'active' } });
    expect(activate.json.error.code).toBe('ENDPOINT_URL_REQUIRED');
    const withUrl = await t.call('PATCH', `/api/v1/listings/${draft.id}`, { key, body: { status: 'active', private_endpoint_url: URL_OK } });
    expect(withUrl.status).toBe(200);
    expect(withUrl.json.data.status).toBe('active');
    for (const status of ['paused', 'archived', 'draft', 'active']) {
      expect((await t.call('PATCH', `/api/v1/listings/${draft.id}`, { key, body: { status } })).json.data.status).toBe(status);
    }
    await t.call('PATCH', `/api/v1/listings/${draft.id}`, { key, body: { status: 'archived' } });
  });

  test('tags are trimmed, lowercased and de-duplicated; slugs are unique; search sees renames', async () => {
    const a = (await postListing(t.call, key, { name: 'Météo Ünïque API!', tags: [' Weather ', 'WEATHER', 'Rain'] })).json.data;
    expect(a.tags).toEqual(['weather', 'rain']);
    expect(a.slug).toBe('meteo-unique-api');
    const b = (await postListing(t.call, key, { name: 'Météo Ünïque API!' })).json.data;
    expect(b.slug).toBe('meteo-unique-api-2');
    expect((await t.call('GET', `/api/v1/listings/${b.slug}`, { key })).json.data.id).toBe(b.id);
    await t.call('PATCH', `/api/v1/listings/${a.id}`, { key, body: { name: 'Xylophonist oracle', status: 'active', private_endpoint_url: URL_OK } });
    expect((await search('q=xylophonist')).json.data.map((l: { id: string }) => l.id)).toEqual([a.id]);
    expect((await search('q=meteo')).json.data.map((l: { id: string }) => l.id)).toEqual([]);
    await t.call('PATCH', `/api/v1/listings/${a.id}`, { key, body: { status: 'archived' } });
  });

  test('categories are seeded', async () => {
    const res = await t.call('GET', '/api/v1/categories');
    expect(res.json.data.map((c: { slug: string }) => c.slug)).toEqual(['ai', 'data', 'research', 'code', 'finance', 'media', 'ops', 'other']);
    expect(res.json.data[0]).toEqual({ id: expect.any(String), slug: 'ai', name: 'AI & agents' });
  });
});
