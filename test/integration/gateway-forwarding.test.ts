import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

// Free calls end to end over real HTTP: signed forwarding of the exact bytes, status mapping, history.
let t: TestContext;
let seller: Awaited<ReturnType<typeof registerAgent>>;
let buyer: Awaited<ReturnType<typeof registerAgent>>;
let stranger: Awaited<ReturnType<typeof registerAgent>>;
let stub: ReturnType<typeof startSellerStub>;
let redirectTarget: ReturnType<typeof Bun.serve>;
let redirectHits = 0;
const secrets = new Map<string, string>();

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' });
  t.listen();
  redirectTarget = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (redirectHits++, Response.json({ hijacked: true })) });
  stub = startSellerStub({
    now: () => t.clock.now(),
    routes: {
      '/ok': (c) => Response.json({ echo: new TextDecoder().decode(c.body), verified: c.kit.ok }),
      '/created': () => Response.json({ id: 7 }, { status: 201 }),
      '/bad': () => Response.json({ error: 'bad city' }, { status: 400 }),
      '/missing': () => Response.json({ error: 'unknown' }, { status: 404 }),
      '/boom': () => Response.json({ error: 'crash at /srv/private' }, { status: 500 }),
      '/unavailable': () => Response.json({ error: 'down' }, { status: 503 }),
      '/slow': async () => (await Bun.sleep(3_000), Response.json({ late: true })),
      '/html': () => new Response('<html>hi</html>', { headers: { 'content-type': 'text/html' } }),
      '/huge': () => Response.json({ blob: 'x'.repeat(2 * 1024 * 1024) }),
      '/redirect': () => new Response(null, { status: 302, headers: { location: `http://127.0.0.1:${redirectTarget.port}/` } }),
    },
  });
  seller = await registerAgent(t.call, evmWallet(), 'Seller');
  buyer = await registerAgent(t.call, solanaWallet(), 'Buyer');
  stranger = await registerAgent(t.call, evmWallet(), 'Stranger');
});
afterAll(async () => {
  stub.stop();
  redirectTarget.stop(true);
  await t.close();
});

async function listingFor(path: string, extra: Record<string, unknown> = {}) {
  const listing = await createListing(t.call, seller.key, { name: `Stub ${path}`, private_endpoint_url: stub.url(path), ...extra });
  secrets.set(listing.id, listing.gateway_endpoint.signing_secret);
  stub.setSecrets([...secrets.values()]);
  return listing;
}

const callGateway = (listingId: string, rawBody: string, key = buyer.key, headers: Record<string, string> = {}) =>
  t.call('POST', `/api/v1/gateway/${listingId}`, { rawBody, key, headers: { 'content-type': 'application/json', ...headers } });

test('forwards the exact bytes, signed with all six headers, and relays the reply', async () => {
  const listing = await listingFor('/ok');
  expect(listing.gateway_url).toBe(`http://localhost:8787/api/v1/gateway/${listing.id}`);
  const raw = '{ "city" :"Zürich",\n  "n": 1.50, "emoji": "🧶" }';
  const before = stub.calls.length;
  const res = await callGateway(listing.id, raw, buyer.key, { cookie: 'session=buyer-secret', 'x-forwarded-for': '6.6.6.6' });
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ echo: raw, verified: true });
  const requestId = res.headers.get('x-crochet-request-id');
  expect(requestId).toMatch(/^gw_req_[0-9a-f]{32}$/);

  const got = stub.calls[before]!;
  expect(new TextDecoder().decode(got.body)).toBe(raw);
  expect(got.kit).toMatchObject({ ok: true, requestId, listingId: listing.id, signatureVersion: 2, buyerId: buyer.profile.id, relayRequestId: null });
  expect(got.headers['x-crochet-signature-v2']).toMatch(/^[0-9a-f]{64}$/);
  expect(got.independentOk).toBe(true);
  expect(got.headers['x-crochet-request-id']).toBe(requestId!);
  expect(got.headers['x-crochet-listing-id']).toBe(listing.id);
  expect(got.headers['x-crochet-buyer-id']).toBe(buyer.profile.id);
  expect(got.headers['x-crochet-timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(got.headers['content-type']).toBe('application/json');
  expect(got.headers['x-crochet-relay-request-id']).toBeUndefined();
  // The buyer's credentials and hop-by-hop headers never reach the seller.
  expect(got.headers['authorization']).toBeUndefined();
  expect(got.headers['cookie']).toBeUndefined();
  expect(got.headers['x-forwarded-for']).toBeUndefined();
  expect(JSON.stringify(got.headers)).not.toContain(buyer.key);
});

test('the upstream auth header is sent when configured', async () => {
  const listing = await listingFor('/ok');
  const put = await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, {
    key: seller.key,
    body: { upstream_auth_header_name: 'X-Seller-Key', upstream_auth_header_value: 'seller-upstream-token' },
  });
  expect(put.status).toBe(200);
  const before = stub.calls.length;
  expect((await callGateway(listing.id, '{}')).status).toBe(200);
  expect(stub.calls[before]!.headers['x-seller-key']).toBe('seller-upstream-token');
});

test('a proxy named in the server environment never carries a seller call', async () => {
  const listing = await listingFor('/ok');
  let proxied = 0;
  const proxy = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (proxied++, Response.json({ via: 'proxy' })) });
  const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  for (const n of names) process.env[n] = n.toLowerCase().startsWith('no_') ? '' : `http://127.0.0.1:${proxy.port}`;
  try {
    // The environment proxy is live: a plain fetch from this process goes through it.
    expect(await (await fetch(stub.url('/ok'), { method: 'POST', body: '{}' })).json()).toEqual({ via: 'proxy' });
    const before = stub.calls.length;
    // The buyer's own call opts out, so that only the gateway's upstream call could meet the proxy.
    const res = await fetch(`http://127.0.0.1:${t.app.server?.port}/api/v1/gateway/${listing.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${buyer.key}`, 'content-type': 'application/json' },
      body: '{"via":"gateway"}',
      proxy: false,
    } as BunFetchRequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echo: '{"via":"gateway"}', verified: true });
    expect(stub.calls.length).toBe(before + 1);
    expect(proxied).toBe(1);
  } finally {
    for (const n of names) if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
    proxy.stop(true);
  }
});

describe('status mapping', () => {
  test.each([
    ['/ok', 200, null, 'completed'],
    ['/created', 201, null, 'completed'],
    ['/bad', 400, null, 'seller_rejected'],
    ['/missing', 404, null, 'seller_rejected'],
    ['/boom', 502, 'UPSTREAM_ERROR', 'seller_failed'],
    ['/unavailable', 502, 'UPSTREAM_ERROR', 'seller_failed'],
    ['/html', 502, 'UPSTREAM_INVALID_RESPONSE', 'seller_failed'],
    ['/huge', 502, 'UPSTREAM_RESPONSE_TOO_LARGE', 'seller_failed'],
    ['/redirect', 502, 'UPSTREAM_REDIRECT', 'seller_failed'],
    ['/slow', 504, 'UPSTREAM_TIMEOUT', 'timeout'],
  ] as const)('%s → %d %s', async (path, status, code, historyStatus) => {
    const listing = await listingFor(path);
    if (path === '/slow') await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, { key: seller.key, body: { timeout_ms: 1000 } });
    const hitsBefore = redirectHits;
    const res = await callGateway(listing.id, '{"q":1}');
    expect(res.status).toBe(status);
    const requestId = res.headers.get('x-crochet-request-id');
    expect(requestId).toStartWith('gw_req_');
    if (code) {
      expect(res.json.error.code).toBe(code);
      expect(res.json.error.recovery.retryable).toBe(true);
      expectNoSellerDetails(res.text);
    } else {
      expect(res.headers.get('content-type')).toContain('application/json');
    }
    if (path === '/bad') expect(res.json).toEqual({ error: 'bad city' });
    expect(redirectHits).toBe(hitsBefore);
    const row = await t.call('GET', `/api/v1/gateway-requests/${requestId}`, { key: buyer.key });
    expect(row.json.data).toMatchObject({ status: historyStatus, http_status: status, listing_id: listing.id, error_code: code });
  });

  test('a refused connection → 502 UPSTREAM_UNREACHABLE without the host or port', async () => {
    const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() });
    const port = closed.port;
    closed.stop(true);
    const listing = await createListing(t.call, seller.key, { name: 'Closed', private_endpoint_url: `http://127.0.0.1:${port}/x` });
    const res = await callGateway(listing.id, '{}');
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('UPSTREAM_UNREACHABLE');
    expect(res.text).not.toContain(String(port));
    expectNoSellerDetails(res.text);
  });
});

test('one hanging seller does not delay calls to another listing', async () => {
  const slow = await listingFor('/slow');
  await t.call('PUT', `/api/v1/listings/${slow.id}/endpoint`, { key: seller.key, body: { timeout_ms: 3000 } });
  const fast = await listingFor('/ok');
  const hanging = callGateway(slow.id, '{}');
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 10 }, () => callGateway(fast.id, '{"fast":true}')));
  const fastDone = performance.now() - started;
  expect(results.every((r) => r.status === 200)).toBe(true);
  // The fast calls finished while the slow one still hangs.
  expect(fastDone).toBeLessThan(2500);
  expect((await hanging).status).toBe(504);
});

test('refusals: unknown listing 404, non-active 409, disabled endpoint 409, not JSON 400, too large 413, no key 401', async () => {
  const listing = await listingFor('/ok');
  const forwarded = stub.calls.length;
  /** A refusal after authentication: its own status and code, a recovery, and a `rejected` history row. */
  const refused = async (res: Awaited<ReturnType<typeof callGateway>>, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect(res.json.error.recovery.next_action).toMatch(/^[a-z_]+$/);
    const row = await t.call('GET', `/api/v1/gateway-requests/${res.headers.get('x-crochet-request-id')}`, { key: buyer.key });
    expect(row.json.data).toMatchObject({ status: 'rejected', http_status: status, error_code: code, seller_status: null });
  };
  await refused(await callGateway('nope', '{}'), 404, 'NOT_FOUND');
  await refused(await callGateway(listing.id, 'not json'), 400, 'INVALID_JSON');
  await refused(await callGateway(listing.id, ''), 400, 'INVALID_JSON');
  await refused(await callGateway(listing.id, ' \n\t '), 400, 'INVALID_JSON');
  await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, { key: seller.key, body: { max_request_bytes: 1024 } });
  await refused(await callGateway(listing.id, JSON.stringify({ x: 'y'.repeat(2000) })), 413, 'PAYLOAD_TOO_LARGE');
  await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, { key: seller.key, body: { status: 'disabled' } });
  await refused(await callGateway(listing.id, '{}'), 409, 'ENDPOINT_DISABLED');
  await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, { key: seller.key, body: { status: 'active' } });
  await t.call('PATCH', `/api/v1/listings/${listing.id}`, { key: seller.key, body: { status: 'paused' } });
  await refused(await callGateway(listing.id, '{}'), 409, 'LISTING_NOT_ACTIVE');
  expect(stub.calls.length).toBe(forwarded);
  // Refused before authentication: no request id, no history row.
  const anonymous = await t.call('POST', `/api/v1/gateway/${listing.id}`, { rawBody: '{}' });
  expect(anonymous.status).toBe(401);
  expect(anonymous.json.error.code).toBe('AUTH_REQUIRED');
  expect(anonymous.headers.get('x-crochet-request-id')).toBeNull();
});

test('a listing id that is not valid percent-encoding, or too long, is refused with the envelope, never a 500', async () => {
  const forwarded = stub.calls.length;
  for (const id of ['%FF', '%', '%E0%A4%A', 'x'.repeat(129)]) {
    const init = { method: 'POST', headers: { authorization: `Bearer ${buyer.key}`, 'content-type': 'application/json' }, body: '{}' };
    // In process, Elysia hands the route an undecodable segment as null; the route's schema refuses it.
    const inProcess = await t.app.handle(new Request(`http://localhost/api/v1/gateway/${id}`, init));
    expect(inProcess.status).toBe(400);
    expect(await inProcess.json()).toMatchObject({ success: false, error: { code: 'VALIDATION_FAILED' } });
    // Over HTTP, Bun's router matches no route for an undecodable segment: 404 with the envelope.
    const overHttp = await callGateway(id, '{}');
    const tooLong = id.length > 128;
    expect(overHttp.status).toBe(tooLong ? 400 : 404);
    expect(overHttp.json).toMatchObject({ success: false, error: { code: tooLong ? 'VALIDATION_FAILED' : 'NOT_FOUND', recovery: expect.any(Object) } });
  }
  expect(stub.calls.length).toBe(forwarded);
});

test('history: visible to buyer and seller with bytes and latencies, invisible to a third agent', async () => {
  const listing = await listingFor('/ok');
  const body = '{"history":true}';
  const res = await callGateway(listing.id, body);
  const id = res.headers.get('x-crochet-request-id')!;
  const asBuyer = await t.call('GET', `/api/v1/gateway-requests/${id}`, { key: buyer.key });
  expect(asBuyer.json.data).toMatchObject({
    id,
    buyer_id: buyer.profile.id,
    seller_id: seller.profile.id,
    listing_id: listing.id,
    role: 'buyer',
    status: 'completed',
    http_status: 200,
    seller_status: 200,
    amount_micro_usd: 0,
    request_bytes: body.length,
    response_bytes: Buffer.byteLength(res.text),
    error_code: null,
  });
  expect(asBuyer.json.data.upstream_latency_ms).toBeNumber();
  expect(asBuyer.json.data.upstream_latency_ms).toBeGreaterThanOrEqual(0);
  expect(asBuyer.json.data.total_latency_ms).toBeGreaterThanOrEqual(asBuyer.json.data.upstream_latency_ms);
  expect((await t.call('GET', `/api/v1/gateway-requests/${id}`, { key: seller.key })).json.data.role).toBe('seller');
  const third = await t.call('GET', `/api/v1/gateway-requests/${id}`, { key: stranger.key });
  expect(third.status).toBe(404);
  expect(third.text).not.toContain(buyer.profile.id);

  const mine = await t.call('GET', `/api/v1/gateway-requests?role=buyer&listing_id=${listing.id}`, { key: buyer.key });
  expect(mine.json.data.map((r: { id: string }) => r.id)).toEqual([id]);
  expect(mine.json.pagination).toMatchObject({ page: 1, limit: 20, total: 1, totalPages: 1 });
  const sellerView = await t.call('GET', `/api/v1/gateway-requests?role=seller&status=completed&limit=100`, { key: seller.key });
  expect(sellerView.json.data.length).toBeGreaterThan(0);
  expect(sellerView.json.data.every((r: { seller_id: string; status: string }) => r.seller_id === seller.profile.id && r.status === 'completed')).toBe(true);
  expect((await t.call('GET', '/api/v1/gateway-requests', { key: stranger.key })).json.pagination.total).toBe(0);
  const future = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
  expect((await t.call('GET', `/api/v1/gateway-requests?since=${future}`, { key: buyer.key })).json.data).toEqual([]);
});

// After the calls above: every request forwarded to the stub so far.
test('every forwarded request verified (v1 and v2) with the kit and with HMACs computed in the test', () => {
  expect(stub.calls.length).toBeGreaterThan(20);
  for (const c of stub.calls) {
    expect({ path: c.path, kit: c.kit.ok, independent: c.independentOk }).toEqual({ path: c.path, kit: true, independent: true });
  }
});

/** What the buyer must never learn about the seller's private endpoint. */
function expectNoSellerDetails(text: string) {
  expect(text).not.toContain('127.0.0.1');
  expect(text).not.toContain(String(stub.port));
  expect(text).not.toContain('/srv/private');
  expect(text).not.toContain('crash');
}

test('/metrics counts gateway outcomes, including calls refused before authentication', async () => {
  await t.call('POST', '/api/v1/gateway/anything', { rawBody: '{}', headers: { authorization: 'Bearer nope' } });
  const res = await t.call('GET', '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toStartWith('text/plain');
  const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(res.text)?.[1] ?? NaN);
  expect(value('crochet_gateway_calls_total{status="refused_unauthenticated"}')).toBeGreaterThanOrEqual(2);
  expect(value('crochet_gateway_calls_total{status="completed"}')).toBeGreaterThanOrEqual(5);
  expect(value('crochet_gateway_calls_total{status="timeout"}')).toBeGreaterThanOrEqual(1);
  expect(value('crochet_http_requests_total{method="POST",status="2xx"}')).toBeGreaterThan(0);
  expect(value('crochet_up')).toBe(1);
  expect(res.text).toContain('# TYPE crochet_gateway_calls_total counter');
});
