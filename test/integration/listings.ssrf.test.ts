// Threat: a seller saves an endpoint URL that points the gateway at loopback, private, metadata or other internal hosts (SSRF).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type CallResult, type TestContext } from '../support/app.ts';
import { postListing } from '../support/listings.ts';
import { HOSTILE_DNS, HOSTILE_URLS, PUBLIC_URLS, ssrfTestResolver } from '../support/ssrf-cases.ts';
import { evmWallet } from '../support/wallets.ts';

let t: TestContext;
let key: string;
let listingId: string;

const HOSTILE = [...HOSTILE_URLS, ...Object.keys(HOSTILE_DNS).map((host) => `https://${host}/run`)];

beforeAll(async () => {
  // Production settings: private upstreams are NOT allowed.
  t = await createTestApp({ CROCHET_MODE: 'production' }, { resolveHost: ssrfTestResolver });
  expect(t.config.allow_private_upstreams).toBe(false);
  key = (await registerAgent(t.call, evmWallet())).key;
  const created = await postListing(t.call, key, { status: 'active', private_endpoint_url: 'https://api.example.com/original' });
  expect(created.status).toBe(201);
  listingId = created.json.data.id;
});
afterAll(() => t.close());

function expectRefused(res: CallResult, url: string) {
  expect(res.status).toBe(422);
  expect(res.json.error.code).toBe('UNSAFE_ENDPOINT_URL');
  expect(res.json.error.recovery.next_action).toBe('fix_request');
  // The refusal never echoes the URL or anything resolved for it.
  const trimmed = url.trim();
  if (trimmed.length > 8) expect(res.text).not.toContain(trimmed);
  for (const address of Object.values(HOSTILE_DNS).flat()) expect(res.text).not.toContain(address);
}

test('the hostile table is large enough to mean something', () => {
  expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
});

describe('refused with 422 UNSAFE_ENDPOINT_URL', () => {
  for (const url of HOSTILE) {
    test(JSON.stringify(url), async () => {
      const before = (await t.call('GET', '/api/v1/me/listings?limit=100', { key })).json.pagination.total;
      expectRefused(await postListing(t.call, key, { status: 'active', private_endpoint_url: url }), url);
      // A draft is checked just the same.
      expectRefused(await postListing(t.call, key, { status: 'draft', private_endpoint_url: url }), url);
      expect((await t.call('GET', '/api/v1/me/listings?limit=100', { key })).json.pagination.total).toBe(before);

      expectRefused(await t.call('PATCH', `/api/v1/listings/${listingId}`, { key, body: { private_endpoint_url: url } }), url);
      expectRefused(await t.call('PUT', `/api/v1/listings/${listingId}/endpoint`, { key, body: { private_endpoint_url: url } }), url);
      // The saved endpoint is untouched.
      const meta = await t.call('GET', `/api/v1/listings/${listingId}/endpoint`, { key });
      expect(meta.json.data.host).toBe('api.example.com');
    });
  }
});

describe('accepted', () => {
  for (const url of PUBLIC_URLS) {
    test(`public URL ${url}`, async () => {
      const created = await postListing(t.call, key, { status: 'active', private_endpoint_url: url });
      expect(created.status).toBe(201);
      expect(created.json.data.warnings).toEqual([]);
      const patched = await t.call('PATCH', `/api/v1/listings/${listingId}`, { key, body: { private_endpoint_url: url } });
      expect(patched.status).toBe(200);
      expect(patched.json.data.warnings).toEqual([]);
      const put = await t.call('PUT', `/api/v1/listings/${listingId}/endpoint`, { key, body: { private_endpoint_url: url } });
      expect(put.status).toBe(200);
      expect(put.json.data.host).toBe(new URL(url).host);
    });
  }

  test('a name that does not resolve yet is accepted with a warning, everywhere', async () => {
    const url = 'https://not-yet.seller-dns.example/run';
    const created = await postListing(t.call, key, { status: 'active', private_endpoint_url: url });
    expect(created.status).toBe(201);
    expect(created.json.data.warnings).toHaveLength(1);
    expect(created.json.data.warnings[0]).toContain('does not resolve');
    const patched = await t.call('PATCH', `/api/v1/listings/${listingId}`, { key, body: { private_endpoint_url: url } });
    expect(patched.json.data.warnings).toHaveLength(1);
    const put = await t.call('PUT', `/api/v1/listings/${listingId}/endpoint`, { key, body: { private_endpoint_url: url } });
    expect(put.json.data.warnings).toHaveLength(1);
  });

  test('an unresolvable but unsafe name is still refused at save', async () => {
    expectRefused(await postListing(t.call, key, { status: 'active', private_endpoint_url: 'https://later.internal/' }), 'https://later.internal/');
  });
});

test('the endpoint test re-checks at call time: a name that now resolves privately is refused, not called', async () => {
  // Saved while it did not resolve (warning), then DNS points it at a private address.
  let answer: string[] = [];
  const t2 = await createTestApp({ CROCHET_MODE: 'production' }, { resolveHost: async () => answer });
  try {
    const k = (await registerAgent(t2.call, evmWallet())).key;
    const created = await postListing(t2.call, k, { status: 'active', private_endpoint_url: 'https://rebind.seller-dns.example/run' });
    expect(created.json.data.warnings).toHaveLength(1);
    answer = ['10.1.2.3'];
    const tested = await t2.call('POST', `/api/v1/listings/${created.json.data.id}/endpoint/test`, { key: k });
    expect(tested.status).toBe(200);
    expect(tested.json.data).toMatchObject({ ok: false, status: null, json: false, error_code: 'UNSAFE_ENDPOINT_URL' });
    expect(tested.text).not.toContain('10.1.2.3');
    answer = [];
    const unreachable = await t2.call('POST', `/api/v1/listings/${created.json.data.id}/endpoint/test`, { key: k });
    expect(unreachable.json.data).toMatchObject({ ok: false, error_code: 'UPSTREAM_UNREACHABLE' });
  } finally {
    await t2.close();
  }
});
