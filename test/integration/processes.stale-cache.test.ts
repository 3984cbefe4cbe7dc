// Threat: a key revoked, a profile suspended, a listing paused, an endpoint moved or a secret rotated through one process (or a tool writing the database) keeps working through another process on the same data folder.
import { Database } from 'bun:sqlite';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../src/server.ts';
import { registerAgent } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { startServeProcess, type ServeProcess } from '../support/serve-process.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

allowSlowSetup();

/** SPEC §5 item 9: what one process changed is honoured by the other within one second. */
const BOUND_MS = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'crochet-procs-'));
const ENV = { CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' };
const stub = startSellerStub({ routes: { '/v1': () => Response.json({ at: 'v1' }), '/v2': () => Response.json({ at: 'v2' }) } });
// Its own stub: it holds only the secret a test gives it, so a signature with any other fails there.
const rotationStub = startSellerStub({ routes: { '/r': (call) => Response.json({ signed_with_held_secret: call.independentOk }) } });
let a: ServeProcess;
let b: ServeProcess;
let seller: { key: string };
let buyer: { key: string; profile: { id: string } };

beforeAll(async () => {
  // One after the other: the first start creates the key file and migrates the database.
  a = await startServeProcess(join(dir, 'data'), join(dir, 'a.log'), ENV);
  b = await startServeProcess(join(dir, 'data'), join(dir, 'b.log'), ENV);
  seller = await registerAgent(a.call, evmWallet(), 'Seller');
  buyer = await registerAgent(a.call, solanaWallet(), 'Buyer');
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  stub.stop();
  rotationStub.stop();
  rmSync(dir, { recursive: true, force: true });
});

const callThrough = (p: ServeProcess, listingId: string, key = buyer.key) =>
  p.call('POST', `/api/v1/gateway/${listingId}`, { key, body: { q: 1 } });

/** Calls `probe` until it holds; the time it took from now. Fails after five times the bound. */
async function msUntil(probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > 5 * BOUND_MS) throw new Error(`not honoured after ${5 * BOUND_MS} ms`);
    await Bun.sleep(10);
  }
}

/** A listing created through A, already called (and so cached) through B. */
async function listingCachedByB(url: string): Promise<string> {
  const listing = await createListing(a.call, seller.key, { private_endpoint_url: url });
  stub.setSecrets([listing.gateway_endpoint.signing_secret]);
  expect((await callThrough(b, listing.id)).status).toBe(200);
  return listing.id;
}

test('a key revoked through one process is refused by the other within 1 s', async () => {
  const listingId = await listingCachedByB(stub.url('/v1'));
  const created = await a.call('POST', '/api/v1/api-keys', { key: buyer.key, body: { name: 'second' } });
  expect(created.status).toBe(201);
  const second = created.json.data as { id: string; api_key: string };
  expect((await callThrough(b, listingId, second.api_key)).status).toBe(200);
  expect((await b.call('GET', '/api/v1/me', { key: second.api_key })).status).toBe(200);

  expect((await a.call('DELETE', `/api/v1/api-keys/${second.id}`, { key: buyer.key })).status).toBe(200);
  const ms = await msUntil(async () => (await callThrough(b, listingId, second.api_key)).json?.error?.code === 'API_KEY_REVOKED');
  expect(ms).toBeLessThan(BOUND_MS);
  const me = await b.call('GET', '/api/v1/me', { key: second.api_key });
  expect([me.status, me.json.error.code]).toEqual([401, 'API_KEY_REVOKED']);
  // The buyer's other key is untouched.
  expect((await callThrough(b, listingId)).status).toBe(200);
});

test('a listing paused through one process is refused by the other within 1 s, and serves again once active', async () => {
  const listingId = await listingCachedByB(stub.url('/v1'));
  expect((await a.call('PATCH', `/api/v1/listings/${listingId}`, { key: seller.key, body: { status: 'paused' } })).status).toBe(200);
  const paused = await msUntil(async () => (await callThrough(b, listingId)).json?.error?.code === 'LISTING_NOT_ACTIVE');
  expect(paused).toBeLessThan(BOUND_MS);
  const forwarded = stub.calls.length;
  const refused = await callThrough(b, listingId);
  expect([refused.status, refused.json.error.code]).toEqual([409, 'LISTING_NOT_ACTIVE']);
  expect(stub.calls.length).toBe(forwarded);

  expect((await a.call('PATCH', `/api/v1/listings/${listingId}`, { key: seller.key, body: { status: 'active' } })).status).toBe(200);
  const resumed = await msUntil(async () => (await callThrough(b, listingId)).status === 200);
  expect(resumed).toBeLessThan(BOUND_MS);
});

test('an endpoint URL changed through one process gets the other process\'s calls within 1 s', async () => {
  const listingId = await listingCachedByB(stub.url('/v1'));
  expect((await callThrough(b, listingId)).json).toEqual({ at: 'v1' });
  const put = await a.call('PUT', `/api/v1/listings/${listingId}/endpoint`, { key: seller.key, body: { private_endpoint_url: stub.url('/v2') } });
  expect(put.status).toBe(200);
  const ms = await msUntil(async () => (await callThrough(b, listingId)).json?.at === 'v2');
  expect(ms).toBeLessThan(BOUND_MS);
  expect(stub.calls.at(-1)?.path).toBe('/v2');
});

test('a secret rotated through one process signs the other process\'s calls within 1 s', async () => {
  const listing = await createListing(a.call, seller.key, { private_endpoint_url: rotationStub.url('/r') });
  rotationStub.setSecrets([listing.gateway_endpoint.signing_secret]);
  expect((await callThrough(b, listing.id)).json).toEqual({ signed_with_held_secret: true });

  const rotated = await a.call('POST', `/api/v1/listings/${listing.id}/endpoint/rotate-secret`, { key: seller.key, body: { grace_seconds: 0 } });
  expect(rotated.status).toBe(200);
  // The seller now holds only the new secret: a call signed with the old one fails its check.
  rotationStub.setSecrets([rotated.json.data.signing_secret]);
  const ms = await msUntil(async () => (await callThrough(b, listing.id)).json?.signed_with_held_secret === true);
  expect(ms).toBeLessThan(BOUND_MS);
  expect(rotationStub.calls.at(-1)?.headers['x-crochet-signature-previous']).toBeUndefined();
});

test('a change written straight into the database (a CLI or a manual fix) is honoured by both processes within 1 s', async () => {
  const listingId = await listingCachedByB(stub.url('/v1'));
  expect((await callThrough(a, listingId)).status).toBe(200);
  const db = new Database(join(dir, 'data', DATABASE_FILE));
  try {
    db.run('PRAGMA busy_timeout = 5000');
    db.run("UPDATE profiles SET status = 'suspended' WHERE id = ?", [buyer.profile.id]);
  } finally {
    db.close();
  }
  const suspended = async (p: ServeProcess) => (await callThrough(p, listingId)).json?.error?.code === 'PROFILE_SUSPENDED';
  const [ms1, ms2] = await Promise.all([msUntil(() => suspended(b)), msUntil(() => suspended(a))]);
  expect(ms1).toBeLessThan(BOUND_MS);
  expect(ms2).toBeLessThan(BOUND_MS);
});
