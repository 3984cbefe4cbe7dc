import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as Listings from '../../src/modules/listings/service.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { postListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet } from '../support/wallets.ts';

const DAY_MS = 86_400_000;
let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
let key: string;
let ownerId: string;

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  stub = startSellerStub({
    now: () => t.clock.now(),
    routes: {
      // A careful seller: refuses anything its secrets do not verify.
      '/strict': (call) => (call.kit.ok ? Response.json({ ok: true, previous: call.kit.usedPreviousSignature }) : Response.json({ error: call.kit.reason }, { status: 401 })),
      '/boom': () => Response.json({ error: 'down' }, { status: 503 }),
      '/html': () => new Response('<html>hello</html>', { headers: { 'content-type': 'text/html' } }),
      '/redirect': () => new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/' } }),
      '/slow': async () => {
        await Bun.sleep(1500);
        return Response.json({ late: true });
      },
    },
  });
  const agent = await registerAgent(t.call, evmWallet(), 'Seller');
  key = agent.key;
  ownerId = agent.profile.id;
});
afterAll(async () => {
  stub.stop();
  await t.close();
});

async function listingAt(path: string) {
  const res = await postListing(t.call, key, { status: 'active', private_endpoint_url: stub.url(path) });
  expect(res.status).toBe(201);
  return { id: res.json.data.id as string, secret: res.json.data.gateway_endpoint.signing_secret as string };
}

const runTest = async (id: string) => {
  const res = await t.call('POST', `/api/v1/listings/${id}/endpoint/test`, { key });
  expect(res.status).toBe(200);
  return res.json.data;
};

test('the test call reaches the seller signed exactly like a forwarded call', async () => {
  const { id, secret } = await listingAt('/strict');
  expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  stub.setSecrets([secret]);
  const before = stub.calls.length;
  const result = await runTest(id);
  expect(result).toMatchObject({ ok: true, status: 200, json: true });
  expect(result.error_code).toBeUndefined();
  expect(result.latency_ms).toBeGreaterThanOrEqual(0);
  expect(stub.calls).toHaveLength(before + 1);
  const call = stub.calls.at(-1)!;
  expect(new TextDecoder().decode(call.body)).toBe('{"crochet_test":true}');
  expect(call.kit).toMatchObject({ ok: true, listingId: id, signatureVersion: 2, buyerId: ownerId, relayRequestId: null, requestId: result.request_id, usedPreviousSignature: false });
  expect(call.independentOk).toBe(true);
  expect(result.request_id).toMatch(/^gw_req_[0-9a-f]{32}$/);
  expect(call.headers['x-crochet-timestamp']).toBe(result.tested_at);
  expect(call.headers['content-type']).toBe('application/json');
  expect(call.headers['x-crochet-signature']).toMatch(/^[0-9a-f]{64}$/);
  expect(call.headers['x-crochet-signature-v2']).toMatch(/^[0-9a-f]{64}$/);
  expect(call.headers['x-crochet-signature-previous']).toBeUndefined();
  expect(call.headers['x-crochet-signature-previous-v2']).toBeUndefined();
  expect(call.headers['x-crochet-relay-request-id']).toBeUndefined();
  expect(call.path).toBe('/strict');

  const meta = (await t.call('GET', `/api/v1/listings/${id}/endpoint`, { key })).json.data;
  expect(meta.last_test).toEqual({ ok: true, status: 200, latency_ms: result.latency_ms, json: true, error_code: null, tested_at: result.tested_at });
  expect(meta.host).toBe(`127.0.0.1:${stub.port}`);

  // A second test is a fresh request id.
  expect((await runTest(id)).request_id).not.toBe(result.request_id);
});

test('the upstream auth header is sent when set, and gone once cleared', async () => {
  const { id, secret } = await listingAt('/strict');
  stub.setSecrets([secret]);
  await t.call('PUT', `/api/v1/listings/${id}/endpoint`, { key, body: { upstream_auth_header_name: 'X-Api-Key', upstream_auth_header_value: 'k-123 456' } });
  await runTest(id);
  expect(stub.calls.at(-1)!.headers['x-api-key']).toBe('k-123 456');
  // A new value alone keeps the name.
  await t.call('PUT', `/api/v1/listings/${id}/endpoint`, { key, body: { upstream_auth_header_value: 'k-789' } });
  await runTest(id);
  expect(stub.calls.at(-1)!.headers['x-api-key']).toBe('k-789');
  const target = Listings.getGatewayTarget(t.deps, id);
  expect(target?.endpoint.upstreamAuth).toEqual({ name: 'X-Api-Key', value: 'k-789' });
  await t.call('PUT', `/api/v1/listings/${id}/endpoint`, { key, body: { upstream_auth_header_name: null } });
  await runTest(id);
  expect(stub.calls.at(-1)!.headers['x-api-key']).toBeUndefined();
  expect(Listings.getGatewayTarget(t.deps, id)?.endpoint.upstreamAuth).toBeNull();
  // SPEC §3: `upstream_auth_header_value: null` alone clears both as well.
  await t.call('PUT', `/api/v1/listings/${id}/endpoint`, { key, body: { upstream_auth_header_name: 'X-Api-Key', upstream_auth_header_value: 'k-again' } });
  const cleared = await t.call('PUT', `/api/v1/listings/${id}/endpoint`, { key, body: { upstream_auth_header_value: null } });
  expect(cleared.json.data).toMatchObject({ has_upstream_auth: false, upstream_auth_header_name: null });
  await runTest(id);
  expect(stub.calls.at(-1)!.headers['x-api-key']).toBeUndefined();
});

describe('secret rotation', () => {
  test('new secret works at once, previous signs a second header during the grace period, gone after', async () => {
    const { id, secret: first } = await listingAt('/strict');
    const rotated = await t.call('POST', `/api/v1/listings/${id}/endpoint/rotate-secret`, { key, body: {} });
    expect(rotated.status).toBe(200);
    const second = rotated.json.data.signing_secret as string;
    expect(second).not.toBe(first);
    expect(rotated.json.data.secret_prefix).toBe(second.slice(0, 12));
    const graceEnd = new Date(t.clock.now().getTime() + DAY_MS).toISOString();
    expect(rotated.json.data.previous_secret_valid_until).toBe(graceEnd);

    // A seller that already switched verifies with the new secret…
    stub.setSecrets([second]);
    expect(await runTest(id)).toMatchObject({ ok: true });
    expect(stub.calls.at(-1)!.kit).toMatchObject({ ok: true, usedPreviousSignature: false });
    expect(stub.calls.at(-1)!.headers['x-crochet-signature-previous']).toMatch(/^[0-9a-f]{64}$/);
    expect(stub.calls.at(-1)!.headers['x-crochet-signature-previous-v2']).toMatch(/^[0-9a-f]{64}$/);
    // …and one that has not yet still verifies, through the previous signature.
    stub.setSecrets([first]);
    expect(await runTest(id)).toMatchObject({ ok: true });
    expect(stub.calls.at(-1)!.kit).toMatchObject({ ok: true, usedPreviousSignature: true, signatureVersion: 2, buyerId: ownerId });
    expect(stub.calls.at(-1)!.independentOk).toBe(true);
    expect(Listings.getGatewayTarget(t.deps, id)?.endpoint).toMatchObject({ signingSecret: second, previousSigningSecret: first });
    const meta = (await t.call('GET', `/api/v1/listings/${id}/endpoint`, { key })).json.data;
    expect(meta).toMatchObject({ secret_prefix: second.slice(0, 12), previous_secret_valid_until: graceEnd });

    t.clock.advance(DAY_MS + 1000);
    const after = await runTest(id);
    expect(stub.calls.at(-1)!.headers['x-crochet-signature-previous']).toBeUndefined();
    expect(stub.calls.at(-1)!.headers['x-crochet-signature-previous-v2']).toBeUndefined();
    expect(after).toMatchObject({ ok: false, status: 401, json: true, error_code: 'UPSTREAM_REJECTED' });
    expect(stub.calls.at(-1)!.kit).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(Listings.getGatewayTarget(t.deps, id)?.endpoint.previousSigningSecret).toBeNull();
    expect((await t.call('GET', `/api/v1/listings/${id}/endpoint`, { key })).json.data.previous_secret_valid_until).toBeNull();
    stub.setSecrets([second]);
    expect(await runTest(id)).toMatchObject({ ok: true });
  });

  test('grace_seconds 0 cuts over at once; limits are enforced', async () => {
    const { id, secret: first } = await listingAt('/strict');
    const rotated = await t.call('POST', `/api/v1/listings/${id}/endpoint/rotate-secret`, { key, body: { grace_seconds: 0 } });
    expect(rotated.json.data.previous_secret_valid_until).toBeNull();
    stub.setSecrets([first]);
    expect(await runTest(id)).toMatchObject({ ok: false, status: 401 });
    expect(stub.calls.at(-1)!.headers['x-crochet-signature-previous']).toBeUndefined();
    stub.setSecrets([rotated.json.data.signing_secret]);
    expect(await runTest(id)).toMatchObject({ ok: true });
    for (const grace of [-1, 30 * 86_400 + 1, 1.5, '60']) {
      const bad = await t.call('POST', `/api/v1/listings/${id}/endpoint/rotate-secret`, { key, body: { grace_seconds: grace } });
      expect(bad.status).toBe(400);
    }
  });

  test('rotating again during a grace period retires the older secret', async () => {
    const { id, secret: first } = await listingAt('/strict');
    const second = (await t.call('POST', `/api/v1/listings/${id}/endpoint/rotate-secret`, { key, body: {} })).json.data.signing_secret;
    const third = (await t.call('POST', `/api/v1/listings/${id}/endpoint/rotate-secret`, { key, body: {} })).json.data.signing_secret;
    expect(Listings.getGatewayTarget(t.deps, id)?.endpoint).toMatchObject({ signingSecret: third, previousSigningSecret: second });
    stub.setSecrets([first]);
    expect(await runTest(id)).toMatchObject({ ok: false, status: 401 });
  });
});

describe('failures are reported, not thrown', () => {
  test.each([
    ['/boom', { ok: false, status: 503, json: true, error_code: 'UPSTREAM_ERROR' }],
    ['/html', { ok: false, status: 200, json: false, error_code: 'UPSTREAM_INVALID_RESPONSE' }],
    ['/redirect', { ok: false, status: 302, json: false, error_code: 'UPSTREAM_REDIRECT' }],
    ['/nowhere', { ok: false, status: 404, json: true, error_code: 'UPSTREAM_REJECTED' }],
  ])('%s', async (path, expected) => {
    const { id } = await listingAt(path);
    expect(await runTest(id)).toMatchObject(expected);
    expect((await t.call('GET', `/api/v1/listings/${id}/endpoint`, { key })).json.data.last_test).toMatchObject({ ok: false, error_code: expected.error_code });
  });

  test('timeout per endpoint config', async () => {
    const { id } = await listingAt('/slow');
    await t.call('PUT', `/api/v1/listings/${id}/endpoint`, { key, body: { timeout_ms: 1000 } });
    expect(await runTest(id)).toMatchObject({ ok: false, status: null, error_code: 'UPSTREAM_TIMEOUT' });
  });

  test('connection refused', async () => {
    const res = await postListing(t.call, key, { status: 'active', private_endpoint_url: 'http://127.0.0.1:9/x' });
    expect(await runTest(res.json.data.id)).toMatchObject({ ok: false, status: null, error_code: 'UPSTREAM_UNREACHABLE' });
  });

  test('no URL yet → 409 ENDPOINT_NOT_CONFIGURED', async () => {
    const draft = await postListing(t.call, key, {});
    const res = await t.call('POST', `/api/v1/listings/${draft.json.data.id}/endpoint/test`, { key });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('ENDPOINT_NOT_CONFIGURED');
  });
});

test('getGatewayTarget: listing facts and opened secrets; null for an unknown listing', async () => {
  const res = await postListing(t.call, key, { status: 'active', pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: stub.url('/strict') });
  const id = res.json.data.id;
  await t.call('PUT', `/api/v1/listings/${id}/endpoint`, { key, body: { status: 'disabled', max_request_bytes: 2048, max_response_bytes: 4096 } });
  expect(Listings.getGatewayTarget(t.deps, id)).toEqual({
    listing: { id, ownerProfileId: ownerId, status: 'active', pricingModel: 'per_call', priceMicroUsd: 250_000 },
    endpoint: {
      listingId: id,
      status: 'disabled',
      privateUrl: stub.url('/strict'),
      upstreamAuth: null,
      signingSecret: res.json.data.gateway_endpoint.signing_secret,
      previousSigningSecret: null,
      timeoutMs: 15_000,
      maxRequestBytes: 2048,
      maxResponseBytes: 4096,
    },
  });
  expect(Listings.getGatewayTarget(t.deps, 'no-such-listing')).toBeNull();
});
