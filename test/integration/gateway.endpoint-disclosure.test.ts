// Threat: a buyer learns a seller's private host, address or path from the gateway's answer when the upstream fails at call time (DNS, unsafe re-resolution, TLS).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type CallResult, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

const FIXTURES = new URL('../fixtures/tls/', import.meta.url);
const HIDDEN_PATH = '/hidden-run-path-9c2e';
type Agent = Awaited<ReturnType<typeof registerAgent>>;

/** The buyer's whole view of the reply (body and headers) names nothing about the endpoint. */
function expectNothingDisclosed(res: CallResult, secrets: string[]) {
  const seen = res.text + JSON.stringify([...res.headers.entries()]);
  for (const s of [...secrets, HIDDEN_PATH]) expect(seen).not.toContain(s);
}

async function historyOf(t: TestContext, buyer: Agent, res: CallResult) {
  const id = res.headers.get('x-crochet-request-id');
  expect(id).toStartWith('gw_req_');
  return (await t.call('GET', `/api/v1/gateway-requests/${id}`, { key: buyer.key })).json.data;
}

describe('production settings: the name is checked again at call time', () => {
  // One name per case: the gateway caches DNS answers briefly, so names are never shared between cases.
  const answers = new Map<string, string[]>();
  let t: TestContext;
  let seller: Agent;
  let buyer: Agent;

  beforeAll(async () => {
    t = await createTestApp(
      { CROCHET_MODE: 'production', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' },
      { resolveHost: async (name) => answers.get(name) ?? [] },
    );
    expect(t.config.allow_private_upstreams).toBe(false);
    t.listen();
    seller = await registerAgent(t.call, evmWallet(), 'Seller');
    buyer = await registerAgent(t.call, solanaWallet(), 'Buyer');
  });
  afterAll(() => t.close());

  /** A listing saved while its name does not resolve yet (accepted with a warning), then `answer` from DNS. */
  async function listingResolvingTo(label: string, answer: string[]) {
    const host = `${label}.seller-dns.example`;
    const listing = await createListing(t.call, seller.key, { name: `Late ${label}`, private_endpoint_url: `https://${host}${HIDDEN_PATH}` });
    expect(listing.warnings).toHaveLength(1);
    answers.set(host, answer);
    return { id: listing.id, host };
  }

  test('a name that does not resolve → 502 UPSTREAM_UNREACHABLE, host and path never named', async () => {
    const { id, host } = await listingResolvingTo('nodns', []);
    const res = await t.call('POST', `/api/v1/gateway/${id}`, { rawBody: '{}', key: buyer.key });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', recovery: { retryable: true, next_action: 'retry_later' } });
    expectNothingDisclosed(res, [host, 'seller-dns']);
    expect(await historyOf(t, buyer, res)).toMatchObject({ status: 'seller_failed', http_status: 502, seller_status: null, error_code: 'UPSTREAM_UNREACHABLE' });
  });

  test.each([
    ['rfc1918', '10.1.2.3'], ['metadata', '169.254.169.254'], ['loopback', '127.0.0.1'], ['mapped', '::ffff:192.168.1.1'],
  ])('a name that now resolves to a %s address (%s) is refused, not called, and the address is not named', async (label, address) => {
    const { id, host } = await listingResolvingTo(label, [address]);
    const res = await t.call('POST', `/api/v1/gateway/${id}`, { rawBody: '{}', key: buyer.key });
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('UPSTREAM_UNSAFE');
    expectNothingDisclosed(res, [host, 'seller-dns', address]);
    expect(await historyOf(t, buyer, res)).toMatchObject({ status: 'seller_failed', error_code: 'UPSTREAM_UNSAFE', upstream_latency_ms: null });
  });
});

describe('a TLS failure', () => {
  const HOST = 'seller.test';
  let t: TestContext;
  let tlsServer: ReturnType<typeof Bun.serve>;
  let hits = 0;
  let buyer: Agent;
  let listingId: string;

  beforeAll(async () => {
    t = await createTestApp(
      { CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' },
      { resolveHost: async (name) => (name === HOST ? ['127.0.0.1'] : []) },
    );
    t.listen();
    // A self-signed certificate the gateway does not trust.
    tlsServer = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: await Bun.file(new URL('seller.test.cert.pem', FIXTURES)).text(), key: await Bun.file(new URL('seller.test.key.pem', FIXTURES)).text() },
      fetch: () => (hits++, Response.json({ reached: true })),
    });
    const seller = await registerAgent(t.call, evmWallet(), 'TLS Seller');
    buyer = await registerAgent(t.call, evmWallet(), 'Buyer');
    listingId = (await createListing(t.call, seller.key, { private_endpoint_url: `https://${HOST}:${tlsServer.port}${HIDDEN_PATH}` })).id;
  });
  afterAll(async () => {
    tlsServer.stop(true);
    await t.close();
  });

  test('an untrusted certificate → 502 UPSTREAM_TLS_FAILED; no request reaches the server; nothing named', async () => {
    const res = await t.call('POST', `/api/v1/gateway/${listingId}`, { rawBody: '{"secret":"for the seller only"}', key: buyer.key });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ code: 'UPSTREAM_TLS_FAILED', recovery: { retryable: true } });
    expect(hits).toBe(0);
    expectNothingDisclosed(res, [HOST, String(tlsServer.port), '127.0.0.1', 'certificate for', 'self-signed', 'self signed']);
    expect(await historyOf(t, buyer, res)).toMatchObject({ status: 'seller_failed', http_status: 502, error_code: 'UPSTREAM_TLS_FAILED' });
  });
});
