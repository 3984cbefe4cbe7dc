// Threat: a seller's upstream auth header replaces a framing, routing or signed header on calls the gateway forwards.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { NEVER_FORWARDED_HEADERS } from '../../src/shared/upstream/forwarded-headers.ts';
import { instanceAddressOf } from '../../src/shared/upstream/self-address.ts';
import { sendSignedCall } from '../../src/shared/upstream/send-signed.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet } from '../support/wallets.ts';

const SECRET = 'whsec_header_smuggling_test_secret_0123456789';
const SIGNED = ['X-Crochet-Signature', 'X-Crochet-Signature-V2', 'X-Crochet-Buyer-Id', 'X-Crochet-Relay-Request-Id', 'X-Crochet-Anything'];
const DENIED = [...NEVER_FORWARDED_HEADERS, ...SIGNED];
const spellings = (name: string) => [name.toLowerCase(), name.toUpperCase(), name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())];

let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
let seller: string;
let listingId: string;

beforeAll(async () => {
  stub = startSellerStub({ secrets: [SECRET], routes: { '/ok': () => Response.json({ ok: true }) } });
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  seller = (await registerAgent(t.call, evmWallet(), 'Header Seller')).key;
  listingId = (await createListing(t.call, seller, { private_endpoint_url: stub.url('/ok') })).id;
});
afterAll(async () => {
  stub.stop();
  await t.close();
});

test('the list covers framing, hop-by-hop, proxy and routing headers', () => {
  for (const name of ['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'proxy-authorization', 'forwarded', 'via', 'x-forwarded-for']) {
    expect(NEVER_FORWARDED_HEADERS.has(name)).toBe(true);
  }
});

describe('endpoint validation refuses every denied name as the upstream auth header', () => {
  for (const name of DENIED) {
    test(name, async () => {
      for (const spelled of spellings(name)) {
        const res = await t.call('PUT', `/api/v1/listings/${listingId}/endpoint`, {
          key: seller,
          body: { upstream_auth_header_name: spelled, upstream_auth_header_value: 'smuggled' },
        });
        expect({ spelled, status: res.status, code: res.json.error?.code }).toEqual({ spelled, status: 400, code: 'INVALID_UPSTREAM_AUTH_HEADER' });
      }
    });
  }

  test('ordinary auth header names are accepted', async () => {
    for (const name of ['Authorization', 'X-Api-Key', 'Cookie', 'X-Seller-Token']) {
      const res = await t.call('PUT', `/api/v1/listings/${listingId}/endpoint`, { key: seller, body: { upstream_auth_header_name: name, upstream_auth_header_value: 'v' } });
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
  });
});

describe('the forwarder never sends a denied name, even from an endpoint saved before the rule', () => {
  const send = (upstreamAuth: { name: string; value: string }) =>
    sendSignedCall({
      target: { listingId: 'lst_smuggle', privateUrl: stub.url('/ok'), upstreamAuth, signingSecret: SECRET, previousSigningSecret: null, timeoutMs: 5_000, maxResponseBytes: 1 << 20 },
      body: new TextEncoder().encode('{"q":1}'),
      requestId: 'gw_req_smuggle',
      buyerId: 'buyer_1',
      now: new Date(),
      allowPrivate: true,
      resolve: async () => [],
      self: instanceAddressOf({ public_url: 'http://localhost:8787', host: '0.0.0.0', port: 8787 }),
      maxJsonDepth: 64,
    });

  for (const name of DENIED) {
    test(name, async () => {
      const value = `smuggled-${name.toLowerCase()}`;
      const before = stub.calls.length;
      const outcome = await send({ name: name.toUpperCase(), value });
      expect(outcome.kind).toBe('response');
      const received = stub.calls.at(-1);
      expect(stub.calls.length).toBe(before + 1);
      // Not under its own name, nor anywhere else.
      expect(Object.values(received?.headers ?? {})).not.toContain(value);
      // The signed headers are the gateway's own: the seller's check still passes.
      expect(received?.kit.ok).toBe(true);
      expect(received?.independentOk).toBe(true);
    });
  }

  test('an allowed name is forwarded with its value', async () => {
    await send({ name: 'X-Api-Key', value: 'seller-secret-value' });
    expect(stub.calls.at(-1)?.headers['x-api-key']).toBe('seller-secret-value');
  });
});
