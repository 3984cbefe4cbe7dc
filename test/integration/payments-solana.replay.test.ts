// Threat: on Solana, one transfer buys many calls (concurrent retries, another body/listing/buyer, a late retry), or a seller failure loses the buyer's money.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { address, type KeyPairSigner } from '@solana/kit';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { payUsdcSolana } from '../support/solana-pay.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let m: PaidMarket;
let payer: KeyPairSigner;
beforeAll(async () => {
  m = await startPaidMarket();
  payer = await m.sol.createFundedWallet(100_000_000n);
});
afterAll(() => m.stop());

const count = (sql: string, ...args: string[]) => (m.t.deps.db.sqlite.query(sql).get(...args) as { n: number }).n;
const credits = (relay: string) => count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay);

/** A 402 asking for Solana first, then a finalized Solana Pay transfer carrying its reference. */
async function paidIntent(raw: string, listingId = m.listing.id) {
  const res = await m.call(listingId, raw, m.buyer.key, { origin: 'SOL' });
  expect(res.status).toBe(402);
  const route = res.json.payment.routes[0];
  expect(route.network).toBe(m.sol.network);
  const signature = await payUsdcSolana({
    rpc: m.sol.rpc, payer, mint: address(m.sol.mint), payToOwner: address(route.pay_to),
    amountAtomic: BigInt(route.amount_atomic), decimals: 6, reference: address(route.reference),
  });
  return { relay: res.json.payment.relay_request_id as string, signature, raw };
}

test('50 concurrent retries with one paid relay id (found by reference): exactly one forward and one settlement', async () => {
  const { relay, raw } = await paidIntent('{"sol-concurrent":true}');
  const before = m.stub.calls.length;
  const results = await Promise.all(Array.from({ length: 50 }, () => m.call(m.listing.id, raw, m.buyer.key, { relay })));
  const statuses = results.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.filter((s) => s !== 200)).toHaveLength(49);
  for (const r of results.filter((x) => x.status !== 200)) {
    expect(r.status).toBe(409);
    expect(['PAYMENT_IN_PROGRESS', 'PAYMENT_INTENT_CONSUMED']).toContain(r.json.error.code);
  }
  expect(m.stub.calls.length).toBe(before + 1);
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?', relay)).toBe(1);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'buyer_payment'", relay)).toBe(1);
  expect(credits(relay)).toBe(1);
});

test('the paid relay id with a different body, listing or buyer is refused; nothing forwarded, nothing settled', async () => {
  const { relay, signature, raw } = await paidIntent('{"sol-mismatch":1}');
  const before = m.stub.calls.length;
  const attempts = [
    { listingId: m.listing.id, body: '{"sol-mismatch":2}', key: m.buyer.key, status: 409, code: 'PAYMENT_REQUEST_MISMATCH' },
    { listingId: m.cheap.id, body: raw, key: m.buyer.key, status: 409, code: 'PAYMENT_REQUEST_MISMATCH' },
    { listingId: m.listing.id, body: raw, key: m.stranger.key, status: 404, code: 'PAYMENT_INTENT_NOT_FOUND' },
  ];
  for (const a of attempts) {
    const res = await m.call(a.listingId, a.body, a.key, { relay, tx: signature });
    expect(res.status).toBe(a.status);
    expect(res.json.error.code).toBe(a.code);
    expect(res.json.error.recovery.next_action).toBeString();
    expect(res.text).not.toContain(m.buyer.profile.id);
  }
  expect(m.stub.calls.length).toBe(before);
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?', relay)).toBe(0);
  // The rightful buyer, with the same body, still gets what it paid for.
  expect((await m.call(m.listing.id, raw, m.buyer.key, { relay })).status).toBe(200);
  expect(credits(relay)).toBe(1);
});

test('seller 500 after a Solana payment: no credit; the retry with the same relay id succeeds and credits once', async () => {
  const { relay, signature, raw } = await paidIntent('{"sol-flaky":true}');
  m.setSellerMode('fail');
  try {
    const failed = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: signature });
    expect(failed.status).toBe(502);
    expect(failed.json.error).toMatchObject({ code: 'UPSTREAM_ERROR', recovery: { retryable: true, preserve: ['relay_request_id', 'body'] } });
    expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'payment_held'", relay)).toBe(1);
    expect(credits(relay)).toBe(0);
  } finally {
    m.setSellerMode('ok');
  }
  const ok = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(ok.status).toBe(200);
  expect(credits(relay)).toBe(1);
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?', relay)).toBe(1);
  const rows = await m.t.call('GET', `/api/v1/gateway-requests?role=buyer&listing_id=${m.listing.id}&limit=100`, { key: m.buyer.key });
  const mine = rows.json.data.filter((r: { relay_request_id: string | null }) => r.relay_request_id === relay);
  expect(mine.map((r: { status: string }) => r.status).sort()).toEqual(['completed', 'payment_required', 'seller_failed']);
});

test('a retry while the paid call is being forwarded → 409 PAYMENT_IN_PROGRESS; once it completed → PAYMENT_INTENT_CONSUMED', async () => {
  let release: () => void = () => {};
  const slow = startSellerStub({ now: () => m.t.clock.now(), routes: { '/slow': async () => (await new Promise<void>((r) => (release = r)), Response.json({ slow: true })) } });
  try {
    const listing = await createListing(m.t.call, m.seller.key, { name: 'Slow oracle', pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: slow.url('/slow') });
    slow.setSecrets([listing.gateway_endpoint.signing_secret]);
    const { relay, raw } = await paidIntent('{"sol-slow":true}', listing.id);
    const first = m.call(listing.id, raw, m.buyer.key, { relay });
    for (let i = 0; i < 100 && slow.calls.length === 0; i++) await Bun.sleep(10);
    expect(slow.calls).toHaveLength(1);
    const second = await m.call(listing.id, raw, m.buyer.key, { relay });
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: 'PAYMENT_IN_PROGRESS', recovery: { retryable: true, retry_after_seconds: expect.any(Number), preserve: ['relay_request_id', 'body'] } });
    release();
    expect((await first).status).toBe(200);
    const third = await m.call(listing.id, raw, m.buyer.key, { relay });
    expect(third.status).toBe(409);
    expect(third.json.error.code).toBe('PAYMENT_INTENT_CONSUMED');
    expect(slow.calls).toHaveLength(1);
    expect(credits(relay)).toBe(1);
  } finally {
    release();
    slow.stop();
  }
});

// Last: it moves the clock past every open intent's expiry.
test('a paid Solana intent used after it expired → 410, nothing forwarded; the late payment is recorded as refund due', async () => {
  const { relay, signature, raw } = await paidIntent('{"sol-late":true}');
  const before = m.stub.calls.length;
  m.t.clock.advance((m.t.config.payment_intent_ttl_seconds + 1) * 1000);
  const res = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: signature });
  expect(res.status).toBe(410);
  expect(res.json.error).toMatchObject({ code: 'PAYMENT_INTENT_EXPIRED', recovery: { next_action: 'request_new_payment' } });
  expect(res.json.error.details).toEqual({ refund_due: true });
  expect(m.stub.calls.length).toBe(before);
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?', relay)).toBe(1);
  expect(count("SELECT count(*) AS n FROM payment_intents WHERE id = ? AND status = 'refund_due'", relay)).toBe(1);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay)).toBe(0);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND account LIKE 'refunds:%'", relay)).toBe(1);
});
