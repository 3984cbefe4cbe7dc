// Threat: a client (no key needed) makes the server buffer a huge chunked body before anything refuses it.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet } from '../support/wallets.ts';

let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  stub = startSellerStub();
});
afterAll(async () => {
  stub.stop();
  await t.close();
});

const MiB = 1 << 20;

/** A chunked body (no Content-Length) of `totalMiB` that counts how much of it the server pulled. */
function countingBody(totalMiB: number) {
  let pulled = 0;
  const chunk = new Uint8Array(MiB).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= totalMiB * MiB) return controller.close();
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulledMiB: () => pulled / MiB };
}

const post = (path: string, body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  t.app.handle(new Request(`http://localhost${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }));

test('an API route (1 MiB limit) stops reading a chunked body at its limit', async () => {
  const body = countingBody(96);
  const res = await post('/api/v1/auth/challenge', body.stream);
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  // A chunk or two of read-ahead past the limit at most, never the whole 96 MiB.
  expect(body.pulledMiB()).toBeLessThanOrEqual(1 + 2);
});

test('the gateway reads nothing for an anonymous caller, and stops at the listing\'s limit for a buyer', async () => {
  const anonymous = countingBody(96);
  const refused = await post('/api/v1/gateway/some-listing', anonymous.stream);
  expect(refused.status).toBe(401);
  expect(anonymous.pulledMiB()).toBeLessThanOrEqual(2);

  const seller = await registerAgent(t.call, evmWallet(), 'Limit Seller');
  const buyer = await registerAgent(t.call, evmWallet(), 'Limit Buyer');
  const listing = await createListing(t.call, seller.key, { private_endpoint_url: stub.url('/echo') });
  const big = countingBody(96);
  const res = await post(`/api/v1/gateway/${listing.id}`, big.stream, { authorization: `Bearer ${buyer.key}` });
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: { code: string; details: { limit_bytes: number } } }).error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit_bytes: 262144 } });
  expect(big.pulledMiB()).toBeLessThanOrEqual(1 + 2);
});

test('a chunked gateway body within the limits still reaches the seller byte for byte', async () => {
  const seller = await registerAgent(t.call, evmWallet(), 'Chunked Seller');
  const buyer = await registerAgent(t.call, evmWallet(), 'Chunked Buyer');
  const listing = await createListing(t.call, seller.key, { private_endpoint_url: stub.url('/echo') });
  const parts = ['{"city": ', '"Zürich",', ' "n": [1, 2]}'];
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });
  const res = await post(`/api/v1/gateway/${listing.id}`, stream, { authorization: `Bearer ${buyer.key}` });
  expect(res.status).toBe(200);
  expect(new TextDecoder().decode(stub.calls.at(-1)?.body)).toBe(parts.join(''));
});
