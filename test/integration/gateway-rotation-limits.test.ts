import { afterAll, beforeAll, expect, test } from 'bun:test';
import { verifyCrochetRequest } from '../../src/seller/verify.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet } from '../support/wallets.ts';

// Secret rotation without downtime, and the per-buyer / per-listing gateway limits.
let t: TestContext;
let limited: TestContext;
let stub: ReturnType<typeof startSellerStub>;
beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' });
  limited = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '3', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '5' });
  t.listen();
  limited.listen();
  stub = startSellerStub({ now: () => t.clock.now() });
});
afterAll(async () => {
  stub.stop();
  await t.close();
  await limited.close();
});

const call = (listingId: string, key: string, app = t) => app.call('POST', `/api/v1/gateway/${listingId}`, { rawBody: '{"a":1}', key });

test('during the grace period a seller holding the old secret keeps working; after it, it does not', async () => {
  const seller = await registerAgent(t.call, evmWallet());
  const buyer = await registerAgent(t.call, evmWallet());
  const listing = await createListing(t.call, seller.key, { private_endpoint_url: stub.url('/echo') });
  const oldSecret = listing.gateway_endpoint.signing_secret;
  stub.setSecrets([oldSecret]);
  expect((await call(listing.id, buyer.key)).json.verified).toBe(true);

  const rotated = await t.call('POST', `/api/v1/listings/${listing.id}/endpoint/rotate-secret`, { key: seller.key, body: { grace_seconds: 600 } });
  expect(rotated.status).toBe(200);
  const newSecret = rotated.json.data.signing_secret as string;
  expect(newSecret).not.toBe(oldSecret);

  // Seller still on the old secret: verified through X-Crochet-Signature-Previous and -Previous-V2.
  let n = stub.calls.length;
  expect((await call(listing.id, buyer.key)).json.verified).toBe(true);
  const grace = stub.calls[n]!;
  expect(grace.kit).toMatchObject({ ok: true, usedPreviousSignature: true, signatureVersion: 2, buyerId: buyer.profile.id, relayRequestId: null });
  expect(grace.independentOk).toBe(true);
  // Both previous headers are needed: without either one the old secret no longer verifies.
  for (const dropped of ['x-crochet-signature-previous', 'x-crochet-signature-previous-v2']) {
    expect(grace.headers[dropped]).toMatch(/^[0-9a-f]{64}$/);
    const { [dropped]: _gone, ...rest } = grace.headers;
    const verdict = await verifyCrochetRequest({ headers: rest, rawBody: grace.body, secrets: [oldSecret], now: t.clock.now(), requireV2: true });
    expect(verdict).toMatchObject({ ok: false, reason: 'bad_signature' });
  }
  // Seller already on the new secret: verified through X-Crochet-Signature.
  stub.setSecrets([newSecret]);
  n = stub.calls.length;
  expect((await call(listing.id, buyer.key)).json.verified).toBe(true);
  expect(stub.calls[n]!.kit).toMatchObject({ ok: true, usedPreviousSignature: false });

  // Grace over: the old secret no longer verifies, and no previous signature is sent.
  t.clock.advance(601_000);
  stub.setSecrets([oldSecret]);
  n = stub.calls.length;
  expect((await call(listing.id, buyer.key)).json.verified).toBe(false);
  expect(stub.calls[n]!.headers['x-crochet-signature-previous']).toBeUndefined();
  expect(stub.calls[n]!.headers['x-crochet-signature-previous-v2']).toBeUndefined();
  expect(stub.calls[n]!.independentOk).toBe(false);
});

test('per-buyer limit: the 4th call in a minute gets 429 with Retry-After, recorded as rejected', async () => {
  const seller = await registerAgent(limited.call, evmWallet());
  const buyer = await registerAgent(limited.call, evmWallet());
  const a = await createListing(limited.call, seller.key, { name: 'A', private_endpoint_url: stub.url('/echo') });
  const b = await createListing(limited.call, seller.key, { name: 'B', private_endpoint_url: stub.url('/echo') });
  for (const id of [a.id, b.id, a.id]) expect((await call(id, buyer.key, limited)).status).toBe(200);
  const refused = await call(b.id, buyer.key, limited);
  expect(refused.status).toBe(429);
  expect(refused.json.error.code).toBe('RATE_LIMITED');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  const row = await limited.call('GET', `/api/v1/gateway-requests/${refused.headers.get('x-crochet-request-id')}`, { key: buyer.key });
  expect(row.json.data).toMatchObject({ status: 'rejected', http_status: 429, error_code: 'RATE_LIMITED' });
});

test('per-listing limit: many buyers share one listing budget', async () => {
  const seller = await registerAgent(limited.call, evmWallet());
  const listing = await createListing(limited.call, seller.key, { name: 'Shared', private_endpoint_url: stub.url('/echo') });
  const buyers = await Promise.all(Array.from({ length: 3 }, () => registerAgent(limited.call, evmWallet())));
  const results = [];
  for (const b of [...buyers, ...buyers]) results.push(await call(listing.id, b.key, limited));
  expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
  const refused = results[5]!;
  expect(refused.json.error).toMatchObject({ code: 'RATE_LIMITED', recovery: { retryable: true, next_action: 'retry_later' } });
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(refused.json.error.recovery.retry_after_seconds).toBe(Number(refused.headers.get('retry-after')));
});
