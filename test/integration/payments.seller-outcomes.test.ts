// Threat: a paid call's money goes to the wrong place after the seller answers: a handled 4xx goes unpaid, a reply outlives its keep time, or an abandoned payment is never queued for refund while the server runs.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

const PAID_RESPONSE_TTL_SECONDS = 3600;
/** In the seller's reply only: it must never be on disk in clear. */
const CANARY = 'unknown city qv7canary';
let m: PaidMarket;
let rejecting: ReturnType<typeof startSellerStub>;
let rejectingListingId: string;

beforeAll(async () => {
  // The in-process sweep runs every second, as an operator could configure it.
  m = await startPaidMarket({ env: { CROCHET_SWEEP_INTERVAL_SECONDS: '1', CROCHET_PAID_RESPONSE_TTL_SECONDS: String(PAID_RESPONSE_TTL_SECONDS) } });
  rejecting = startSellerStub({ now: () => m.t.clock.now(), routes: { '/reject': () => Response.json({ error: CANARY }, { status: 422 }) } });
  const listing = await createListing(m.t.call, m.seller.key, { name: 'Strict oracle', pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: rejecting.url('/reject') });
  rejecting.setSecrets([listing.gateway_endpoint.signing_secret]);
  rejectingListingId = listing.id;
});
afterAll(async () => {
  rejecting.stop();
  await m.stop();
});

const count = (sql: string, ...args: string[]) => (m.t.deps.db.sqlite.query(sql).get(...args) as { n: number }).n;
const entryTypes = (relay: string) =>
  (m.t.deps.db.sqlite.query('SELECT entry_type, amount_micro_usd FROM ledger_entries WHERE relay_request_id = ? ORDER BY seq').all(relay) as { entry_type: string; amount_micro_usd: number }[])
    .map((e) => [e.entry_type, e.amount_micro_usd]);

async function paidIntent(listingId: string, raw: string) {
  const res = await m.call(listingId, raw, m.buyer.key, { origin: 'EVM' });
  expect(res.status).toBe(402);
  const { relay_request_id: relay, routes } = res.json.payment;
  const tx = await m.usdc.transfer(m.buyer.account, routes[0].pay_to as Hex, 250_000n);
  return { relay: relay as string, tx, raw };
}

test('a seller 4xx on a paid call is handled: passed through, credited once, the intent consumed, the reply kept', async () => {
  const { relay, tx, raw } = await paidIntent(rejectingListingId, '{"city":"Atlantis"}');
  const res = await m.call(rejectingListingId, raw, m.buyer.key, { relay, tx });
  expect(res.status).toBe(422);
  expect(res.json).toEqual({ error: CANARY });
  expect(rejecting.calls).toHaveLength(1);
  expect(rejecting.calls[0]!.kit).toMatchObject({ ok: true, signatureVersion: 2, buyerId: m.buyer.profile.id, relayRequestId: relay });
  expect(rejecting.calls[0]!.independentOk).toBe(true);
  expect(entryTypes(relay)).toEqual([
    ['buyer_payment', -250_000], ['payment_held', 250_000], ['hold_released', -250_000], ['seller_credit', 243_750], ['marketplace_fee', 6_250],
  ]);
  const id = res.headers.get('x-crochet-request-id')!;
  const row = await m.t.call('GET', `/api/v1/gateway-requests/${id}`, { key: m.buyer.key });
  expect(row.json.data).toMatchObject({ status: 'seller_rejected', http_status: 422, seller_status: 422, amount_micro_usd: 250_000, relay_request_id: relay });
  const again = await m.call(rejectingListingId, raw, m.buyer.key, { relay, tx });
  expect(again.json.error.code).toBe('PAYMENT_INTENT_CONSUMED');
  expect(rejecting.calls).toHaveLength(1);

  const stored = await m.t.call('GET', `/api/v1/gateway-requests/${id}/response`, { key: m.buyer.key });
  expect(stored.status).toBe(200);
  const keptUntil = new Date(m.t.clock.now().getTime() + PAID_RESPONSE_TTL_SECONDS * 1000).toISOString();
  expect(stored.json.data).toEqual({ seller_status: 422, body: { error: CANARY }, expires_at: keptUntil });
  // Kept sealed: neither the database file nor its WAL holds the reply in clear.
  const db = join(m.t.dir, 'crochet.db');
  const files = [db, `${db}-wal`].filter(existsSync).map((f) => readFileSync(f));
  expect(files.length).toBeGreaterThan(0);
  for (const bytes of files) expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
  expect(files.some((bytes) => bytes.includes(Buffer.from(relay)))).toBe(true);
  // Past its keep time the reply is gone (and the sweep deletes it).
  m.t.clock.advance(PAID_RESPONSE_TTL_SECONDS * 1000);
  const gone = await m.t.call('GET', `/api/v1/gateway-requests/${id}/response`, { key: m.buyer.key });
  expect(gone.status).toBe(404);
  expect(gone.json.error.code).toBe('NOT_FOUND');
  expect(await waitFor(() => count('SELECT count(*) AS n FROM paid_responses WHERE gateway_request_id = ?', id) === 0)).toBe(true);
});

test('while the server runs, the scheduled sweep turns a settled, unused, expired intent into refund_due', async () => {
  const { relay, tx, raw } = await paidIntent(m.listing.id, '{"abandoned":"scheduled"}');
  m.setSellerMode('fail');
  try {
    expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx })).status).toBe(502);
  } finally {
    m.setSellerMode('ok');
  }
  const status = () => (m.t.deps.db.sqlite.query('SELECT status FROM payment_intents WHERE id = ?').get(relay) as { status: string }).status;
  // Not expired yet: the sweep leaves it settled.
  await Bun.sleep(1_200);
  expect(status()).toBe('settled');
  m.t.clock.advance((m.t.config.payment_intent_ttl_seconds + 1) * 1000);
  expect(await waitFor(() => status() === 'refund_due')).toBe(true);
  expect(entryTypes(relay)).toEqual([['buyer_payment', -250_000], ['payment_held', 250_000], ['refund_due', -250_000], ['refund_due', 250_000]]);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay)).toBe(0);
});

/** Polls `check` for up to 3 s (the sweep runs every second). */
async function waitFor(check: () => boolean): Promise<boolean> {
  for (const deadline = Date.now() + 3_000; Date.now() < deadline; await Bun.sleep(50)) if (check()) return true;
  return check();
}
