// Threat: a seller points a listing at this instance's own gateway (or two listings at each other) and one buyer call fans out.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { vetUpstreamUrl } from '../../src/shared/upstream/guard.ts';
import { instanceAddressOf } from '../../src/shared/upstream/self-address.ts';
import { createTestApp, httpCaller, registerAgent, type CallResult, type TestContext } from '../support/app.ts';
import { freePort } from '../support/binary.ts';
import { createListing, postListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { PROCESS_TEST_ENV, startServerProcess } from '../support/server-process.ts';
import { evmWallet } from '../support/wallets.ts';

function expectLoopRefusal(res: CallResult, what: string) {
  expect({ what, status: res.status, code: res.json?.error?.code, reason: res.json?.error?.details?.reason }).toEqual({
    what,
    status: 422,
    code: 'UNSAFE_ENDPOINT_URL',
    reason: 'this_instance',
  });
}

describe('development settings (private upstreams allowed): compared by host and port', () => {
  let t: TestContext;
  let stub: ReturnType<typeof startSellerStub>;
  let seller: string;
  let buyer: string;
  let listing: Awaited<ReturnType<typeof createListing>>;
  const dns: Record<string, string[]> = { localhost: ['127.0.0.1'] };

  beforeAll(async () => {
    stub = startSellerStub({ routes: { '/ok': () => Response.json({ ok: true }) } });
    // Public URL http://localhost:8787, listening on 0.0.0.0:8787 (the defaults).
    t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0' }, { resolveHost: async (h) => dns[h] ?? [] });
    seller = (await registerAgent(t.call, evmWallet(), 'Loop Seller')).key;
    buyer = (await registerAgent(t.call, evmWallet(), 'Loop Buyer')).key;
    listing = await createListing(t.call, seller, { private_endpoint_url: stub.url('/ok') });
  });
  afterAll(async () => {
    stub.stop();
    await t.close();
  });

  const selfUrls = () => [
    listing.gateway_url,
    `http://127.0.0.1:8787/api/v1/gateway/${listing.id}`,
    'http://LOCALHOST.:8787/api/v1/gateway/x',
    'http://127.0.0.2:8787/', // all of 127/8 reaches a server bound to 0.0.0.0
    'http://0.0.0.0:8787/',
    'http://[::ffff:127.0.0.1]:8787/',
    'http://[::1]:8787/',
    'http://[::ffff:127.0.0.2]:8787/', // mapped forms of the rest of 127/8 and of 0.0.0.0
    'http://[::ffff:0.0.0.0]:8787/',
  ];

  test('its own gateway URL (and every other way to write this instance) is refused at create, PATCH and PUT endpoint', async () => {
    expect(listing.gateway_url).toBe(`http://localhost:8787/api/v1/gateway/${listing.id}`);
    for (const url of selfUrls()) {
      expectLoopRefusal(await postListing(t.call, seller, { status: 'active', private_endpoint_url: url }), `create ${url}`);
      expectLoopRefusal(await t.call('PATCH', `/api/v1/listings/${listing.id}`, { key: seller, body: { private_endpoint_url: url } }), `PATCH ${url}`);
      expectLoopRefusal(await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, { key: seller, body: { private_endpoint_url: url } }), `PUT ${url}`);
    }
    // The saved endpoint is untouched, and the refusal never echoed the URL.
    const meta = await t.call('GET', `/api/v1/listings/${listing.id}/endpoint`, { key: seller });
    expect(meta.json.data.host).toBe(new URL(stub.url('/')).host);
  });

  test('other ports on this host stay usable (sellers run next to the server in development)', async () => {
    for (const url of [stub.url('/ok'), 'http://localhost:9999/x', 'http://127.0.0.1:8788/']) {
      const res = await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, { key: seller, body: { private_endpoint_url: url } });
      expect({ url, status: res.status }).toEqual({ url, status: 200 });
    }
    await t.call('PUT', `/api/v1/listings/${listing.id}/endpoint`, { key: seller, body: { private_endpoint_url: stub.url('/ok') } });
  });

  test('a name saved while it pointed elsewhere and moved here since is refused at call time; nothing is sent', async () => {
    dns['seller.test'] = ['10.20.30.40'];
    const moved = await createListing(t.call, seller, { name: 'Moved', private_endpoint_url: `http://seller.test:8787/api/v1/gateway/${listing.id}` });
    dns['seller.test'] = ['10.20.30.40', '127.0.0.1']; // one answer leading here is enough
    const res = await t.call('POST', `/api/v1/gateway/${moved.id}`, { key: buyer, body: { q: 1 } });
    // The buyer learns only that the seller's endpoint is unusable (UPSTREAM_UNSAFE), not where it points;
    // a connection attempt would have ended as whatever answers on that port (unreachable, invalid…).
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('UPSTREAM_UNSAFE');
    // The owner's endpoint test is refused the same way, with the reason.
    const tested = await t.call('POST', `/api/v1/listings/${moved.id}/endpoint/test`, { key: seller });
    expect(tested.json.data).toMatchObject({ ok: false, error_code: 'UNSAFE_ENDPOINT_URL' });
  });

  test('a gateway call carrying X-Crochet-Signature is refused 400 GATEWAY_LOOP before anything is forwarded, and recorded', async () => {
    const before = stub.calls.length;
    for (const header of ['X-Crochet-Signature', 'x-crochet-signature', 'X-Crochet-Signature-V2', 'X-Crochet-Signature-Previous']) {
      const signed = await t.call('POST', `/api/v1/gateway/${listing.id}`, { key: buyer, body: { q: 1 }, headers: { [header]: 'a'.repeat(64) } });
      expect({ header, status: signed.status, code: signed.json.error.code }).toEqual({ header, status: 400, code: 'GATEWAY_LOOP' });
      expect(signed.json.error.recovery.next_action).toBe('stop');
    }
    // Without a key (or with a human's) it is still the loop that is named.
    const anonymous = await t.call('POST', `/api/v1/gateway/${listing.id}`, { body: { q: 1 }, headers: { 'X-Crochet-Signature': 'a'.repeat(64) } });
    expect([anonymous.status, anonymous.json.error.code]).toEqual([400, 'GATEWAY_LOOP']);
    expect(stub.calls.length).toBe(before);

    // Recorded like every refusal after authentication, for the buyer to see.
    t.runtime.history.flush();
    const history = await t.call('GET', `/api/v1/gateway-requests?role=buyer&listing_id=${listing.id}`, { key: buyer });
    const loops = history.json.data.filter((r: { error_code: string | null }) => r.error_code === 'GATEWAY_LOOP');
    expect(loops).toHaveLength(4);
    expect(loops[0]).toMatchObject({ status: 'rejected', http_status: 400 });

    // The same call without the header goes through.
    const plain = await t.call('POST', `/api/v1/gateway/${listing.id}`, { key: buyer, body: { q: 1 } });
    expect(plain.status).toBe(200);
    expect(stub.calls.length).toBe(before + 1);
  });
});

describe('production settings: this host on any port, or any address the server listens on', () => {
  let t: TestContext;
  let seller: string;
  let listingId: string;
  const LISTEN_IP = '93.184.216.34';
  const dns: Record<string, string[]> = {
    'api.example.com': ['93.184.216.35'],
    'seller.example.org': ['93.184.216.35', LISTEN_IP],
    'market.example.com': ['198.51.100.1'],
  };

  beforeAll(async () => {
    t = await createTestApp(
      { CROCHET_MODE: 'production', CROCHET_PUBLIC_URL: 'https://market.example.com', CROCHET_HOST: LISTEN_IP },
      { resolveHost: async (h) => dns[h] ?? [] },
    );
    expect(t.config.allow_private_upstreams).toBe(false);
    seller = (await registerAgent(t.call, evmWallet(), 'Prod Loop Seller')).key;
    const created = await postListing(t.call, seller, { status: 'active', private_endpoint_url: 'https://api.example.com/run' });
    expect(created.status).toBe(201);
    listingId = created.json.data.id;
  });
  afterAll(() => t.close());

  test('refused at create, PATCH and PUT endpoint', async () => {
    for (const url of [
      `https://market.example.com/api/v1/gateway/${listingId}`,
      'https://market.example.com:8443/other',
      'https://MARKET.EXAMPLE.COM./x',
      `https://${LISTEN_IP}:8443/x`,
      'https://seller.example.org/hook',
    ]) {
      expectLoopRefusal(await postListing(t.call, seller, { status: 'active', private_endpoint_url: url }), `create ${url}`);
      expectLoopRefusal(await t.call('PATCH', `/api/v1/listings/${listingId}`, { key: seller, body: { private_endpoint_url: url } }), `PATCH ${url}`);
      expectLoopRefusal(await t.call('PUT', `/api/v1/listings/${listingId}/endpoint`, { key: seller, body: { private_endpoint_url: url } }), `PUT ${url}`);
    }
    const ok = await t.call('PUT', `/api/v1/listings/${listingId}/endpoint`, { key: seller, body: { private_endpoint_url: 'https://api.example.com/v2' } });
    expect(ok.status).toBe(200);
  });

  test('bound to 0.0.0.0, every interface address of the machine counts', async () => {
    const self = instanceAddressOf({ public_url: 'https://market.example.com', host: '0.0.0.0', port: 8787 }, () => ['127.0.0.1', '93.184.216.40', 'fe80::1%eth0']);
    const resolve = async (h: string) => (h === 'here.example' ? ['93.184.216.40'] : ['93.184.216.41']);
    const refused = await vetUpstreamUrl('https://here.example/x', { allowPrivate: false, resolve, phase: 'save', self }).catch((e) => e);
    expect(refused.details).toEqual({ reason: 'this_instance' });
    const fine = await vetUpstreamUrl('https://there.example/x', { allowPrivate: false, resolve, phase: 'save', self });
    expect(fine.vetted?.address).toBe('93.184.216.41');
  });
});

describe('a real server process whose listening port changed under a saved endpoint', () => {
  test('the endpoint that now leads back to this instance is refused at call time; nothing loops', async () => {
    const stub = startSellerStub({ routes: { '/ok': () => Response.json({ ok: true }) } });
    const laterPort = freePort();
    const first = await startServerProcess(PROCESS_TEST_ENV);
    const dataDir = first.dataDir;
    let buyer: string;
    let looping: string;
    try {
      const call = httpCaller(first.baseUrl);
      const seller = await registerAgent(call, evmWallet(), 'Port Seller');
      buyer = (await registerAgent(call, evmWallet(), 'Port Buyer')).key;
      const target = await createListing(call, seller.key, { name: 'Target', private_endpoint_url: stub.url('/ok') });
      // The attack as reported: the seller's own agent key as upstream auth, the gateway URL as endpoint.
      const own = await postListing(call, seller.key, { status: 'active', name: 'Own gateway', private_endpoint_url: target.gateway_url });
      expectLoopRefusal(own, 'its own gateway_url');
      // Saved while nothing of this instance listened on that port: accepted.
      const created = await createListing(call, seller.key, { name: 'Later loop', private_endpoint_url: `http://127.0.0.1:${laterPort}/api/v1/gateway/${target.id}` });
      looping = created.id;
      const auth = await call('PUT', `/api/v1/listings/${looping}/endpoint`, { key: seller.key, body: { upstream_auth_header_name: 'Authorization', upstream_auth_header_value: `Bearer ${seller.key}` } });
      expect(auth.status).toBe(200);
    } finally {
      await first.stop();
    }

    // The operator moves the server to that port (same data folder, same key file).
    const second = await startServerProcess(PROCESS_TEST_ENV, { port: laterPort, dataDir });
    try {
      const res = await httpCaller(second.baseUrl)('POST', `/api/v1/gateway/${looping}`, { key: buyer, body: { q: 1 } });
      // A forwarded call would have come back as the inner call's answer (a pass-through 2xx/4xx).
      expect(res.status).toBe(502);
      expect(res.json.error.code).toBe('UPSTREAM_UNSAFE');
      expect(stub.calls).toHaveLength(0);
    } finally {
      await second.stop();
      stub.stop();
    }
  }, 60_000);
});
