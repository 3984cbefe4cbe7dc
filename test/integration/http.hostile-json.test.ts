// Threat: a small body of deeply nested JSON (no key needed) stalls the server, balloons its memory or ends in a 500.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Elysia } from 'elysia';
import { foundationPlugin } from '../../src/shared/http/foundation.ts';
import { memoryLogger } from '../../src/shared/logger.ts';
import { createMetrics } from '../../src/shared/metrics.ts';
import { createTestApp, httpCaller, registerAgent } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { PROCESS_TEST_ENV, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { evmWallet } from '../support/wallets.ts';

const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
// Empty keys: 50,000 levels still fit the gateway's default 256 KiB body limit.
const objects = (n: number) => '{"":'.repeat(n) + '0' + '}'.repeat(n);

let server: ServerProcess;
let stub: ReturnType<typeof startSellerStub>;
let buyerKey: string;
let listingId: string;
let deepReplyListingId: string;
let atLimitReplyListingId: string;

beforeAll(async () => {
  stub = startSellerStub({
    routes: {
      '/ok': () => Response.json({ ok: true }),
      '/deep-reply': () => new Response(arrays(65), { headers: { 'content-type': 'application/json' } }),
      '/at-limit-reply': () => new Response(arrays(64), { headers: { 'content-type': 'application/json' } }),
    },
  });
  // The caller's NODE_ENV must not matter: only CROCHET_MODE=development would give development mode.
  server = await startServerProcess({ ...PROCESS_TEST_ENV, NODE_ENV: 'development' });
  const call = httpCaller(server.baseUrl);
  const seller = await registerAgent(call, evmWallet(), 'Deep Seller');
  const buyer = await registerAgent(call, evmWallet(), 'Deep Buyer');
  buyerKey = buyer.key;
  listingId = (await createListing(call, seller.key, { private_endpoint_url: stub.url('/ok') })).id;
  deepReplyListingId = (await createListing(call, seller.key, { name: 'Deep replies', private_endpoint_url: stub.url('/deep-reply') })).id;
  atLimitReplyListingId = (await createListing(call, seller.key, { name: 'Replies at the limit', private_endpoint_url: stub.url('/at-limit-reply') })).id;
}, 60_000);
afterAll(async () => {
  await server.stop();
  stub.stop();
});

type Timed = { status: number; json: { success: boolean; error?: { code: string; message: string; recovery?: { next_action: string } } }; text: string; ms: number };

async function post(path: string, body: string, key?: string): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(server.baseUrl + path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    // Before the fix a 50k body took ~23 s: fail the assertion below, not the whole suite's clock.
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text), ms: performance.now() - started };
}

/** Polls /health back to back while `work` runs; resolves the slowest answer in ms. */
async function slowestHealthDuring<T>(work: Promise<T>): Promise<{ result: T; slowestMs: number }> {
  let done = false;
  let slowestMs = 0;
  const poller = (async () => {
    while (!done) {
      const started = performance.now();
      const res = await fetch(`${server.baseUrl}/health`);
      await res.arrayBuffer();
      slowestMs = Math.max(slowestMs, performance.now() - started);
      await Bun.sleep(5);
    }
  })();
  const result = await work.finally(() => {
    done = true;
  });
  await poller;
  return { result, slowestMs };
}

describe('deeply nested bodies against a real server process', () => {
  test('5k, 20k and 50k levels of arrays and objects: 400 JSON_TOO_DEEP in under 1 s, /health answering, memory flat', async () => {
    // Warm the paths first (JIT, lazily built routes) so the memory figure is the bodies' alone.
    await post('/api/v1/register', arrays(65));
    await post(`/api/v1/gateway/${listingId}`, arrays(65), buyerKey);
    const rssBefore = server.rssMb();
    const forwardedBefore = stub.calls.length;

    for (const depth of [5_000, 20_000, 50_000]) {
      for (const [shape, body] of [['arrays', arrays(depth)], ['objects', objects(depth)]] as const) {
        for (const [route, path, key] of [['register (no key)', '/api/v1/register', undefined], ['gateway (buyer key)', `/api/v1/gateway/${listingId}`, buyerKey]] as const) {
          const what = `${depth} ${shape} to ${route}`;
          const { result, slowestMs } = await slowestHealthDuring(post(path, body, key));
          expect({ what, status: result.status, code: result.json.error?.code }).toEqual({ what, status: 400, code: 'JSON_TOO_DEEP' });
          expect(result.json.success).toBe(false);
          expect(result.json.error?.recovery?.next_action).toBe('fix_request');
          expect({ what, fast: result.ms < 1_000 }).toEqual({ what, fast: true });
          expect({ what, healthy: slowestMs < 200 }).toEqual({ what, healthy: true });
        }
      }
    }
    const grownMb = server.rssMb() - rssBefore;
    expect(grownMb).toBeLessThan(100);
    // Nothing deeper than the limit ever reached the seller.
    expect(stub.calls.length).toBe(forwardedBefore);
  });

  test('depth exactly at the limit (64) is accepted and forwarded byte for byte; 65 is refused', async () => {
    const atLimit = `{"a":${arrays(63).replace('[]', '[ "[[[\\"{{" ]')}}`; // 64 levels; brackets in a string do not count
    const accepted = await post(`/api/v1/gateway/${listingId}`, atLimit, buyerKey);
    expect(accepted.status).toBe(200);
    expect(new TextDecoder().decode(stub.calls.at(-1)?.body)).toBe(atLimit);

    const refused = await post(`/api/v1/gateway/${listingId}`, `[${atLimit}]`, buyerKey);
    expect(refused.status).toBe(400);
    expect(refused.json.error?.code).toBe('JSON_TOO_DEEP');
    // The API routes use the same limit: 64 levels reach validation (a 400 about fields), 65 do not.
    expect((await post('/api/v1/register', atLimit)).json.error?.code).toBe('VALIDATION_FAILED');
    expect((await post('/api/v1/register', `[${atLimit}]`)).json.error?.code).toBe('JSON_TOO_DEEP');
  });

  test("a seller's reply nested past the limit is 502 UPSTREAM_JSON_TOO_DEEP; one at the limit passes through", async () => {
    const deep = await post(`/api/v1/gateway/${deepReplyListingId}`, '{"q":1}', buyerKey);
    expect(deep.status).toBe(502);
    expect(deep.json.error?.code).toBe('UPSTREAM_JSON_TOO_DEEP');
    expect(deep.text).not.toContain('[[[');
    const atLimit = await post(`/api/v1/gateway/${atLimitReplyListingId}`, '{"q":1}', buyerKey);
    expect(atLimit.status).toBe(200);
    expect(atLimit.text).toBe(arrays(64));
  });
});

describe('production mode in the server process', () => {
  test('a validation error on a large body at the depth limit never echoes the rejected value, and costs linear work', async () => {
    // 63 objects around a wide array: 64 levels (allowed), ~1 MiB, half a million values. In
    // development mode the framework copies the value, indented 2 spaces per level, into every
    // validation error: ~70 MB of text per request.
    const marker = 'rejected-value-marker-7f3a';
    const body = `${'{"a":'.repeat(63)}["${marker}",${'0,'.repeat(500_000)}0]${'}'.repeat(63)}`;
    expect(body.length).toBeLessThan(1024 * 1024);
    const rssBefore = server.rssMb();
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => post('/api/v1/register', body)));
      for (const r of results) {
        expect(r.status).toBe(400);
        expect(r.json.error?.code).toBe('VALIDATION_FAILED');
        expect(r.text).not.toContain(marker);
      }
    }
    expect(server.rssMb() - rssBefore).toBeLessThan(100);
  });
});

describe('in-process', () => {
  test('CROCHET_MAX_JSON_DEPTH is the limit everywhere: API routes, the gateway body, the reply', async () => {
    const t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_MAX_JSON_DEPTH: '3' });
    const local = startSellerStub({ routes: { '/three': () => Response.json({ a: [[1]] }), '/four': () => Response.json({ a: [[[1]]] }) } });
    try {
      const seller = await registerAgent(t.call, evmWallet(), 'Depth Seller');
      const three = await createListing(t.call, seller.key, { private_endpoint_url: local.url('/three'), tags: ['a'] });
      const four = await createListing(t.call, seller.key, { name: 'Four', private_endpoint_url: local.url('/four') });
      const ok = await t.call('POST', `/api/v1/gateway/${three.id}`, { key: seller.key, rawBody: '{"a":[[1]]}' });
      expect(ok.status).toBe(200);
      const deep = await t.call('POST', `/api/v1/gateway/${three.id}`, { key: seller.key, rawBody: '{"a":[[[1]]]}' });
      expect([deep.status, deep.json.error.code, deep.json.error.details]).toEqual([400, 'JSON_TOO_DEEP', { max_depth: 3 }]);
      const reply = await t.call('POST', `/api/v1/gateway/${four.id}`, { key: seller.key, rawBody: '{}' });
      expect([reply.status, reply.json.error.code]).toEqual([502, 'UPSTREAM_JSON_TOO_DEEP']);
      const api = await t.call('PATCH', `/api/v1/listings/${three.id}`, { key: seller.key, rawBody: '{"tags":[[["x"]]]}' });
      expect([api.status, api.json.error.code]).toEqual([400, 'JSON_TOO_DEEP']);
    } finally {
      local.stop();
      await t.close();
    }
  });

  test('a stack overflow anywhere in a handler is answered at once as the 500 envelope, never a hang', async () => {
    const logger = memoryLogger();
    const recurse = (n: number): number => recurse(n + 1) + 1;
    const app = new Elysia()
      .use(foundationPlugin({ logger, metrics: createMetrics(), publicUrl: 'http://localhost:8787', maxBodyBytes: 1024, maxGatewayBodyBytes: 1024, maxJsonDepth: 64 }))
      .get('/overflow', () => recurse(0));
    const started = performance.now();
    const res = await app.handle(new Request('http://localhost/overflow'));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERNAL_ERROR');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(logger.lines.some((l) => l.includes('RangeError'))).toBe(true);
  });
});
