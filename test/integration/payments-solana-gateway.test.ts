// Threat: a buyer gets a paid call forwarded without a final, correct Solana Pay transfer made for this very intent.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { address, type KeyPairSigner } from '@solana/kit';
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

const body = (n: number) => JSON.stringify({ sol: n });

async function newIntent(raw: string) {
  const res = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'SOL' });
  expect(res.status).toBe(402);
  const route = res.json.payment.routes[0];
  expect(route.network).toBe(m.sol.network);
  return { relay: res.json.payment.relay_request_id as string, route, payment: res.json.payment, raw };
}

const pay = (route: { pay_to: string; reference: string }, opts: { amount?: bigint; mint?: string; reference?: string | null; payTo?: string; skipPreflight?: boolean } = {}) =>
  payUsdcSolana({
    rpc: m.sol.rpc,
    payer,
    mint: address(opts.mint ?? m.sol.mint),
    payToOwner: address(opts.payTo ?? route.pay_to),
    amountAtomic: opts.amount ?? 250_000n,
    decimals: 6,
    ...(opts.reference === null ? {} : { reference: address(opts.reference ?? route.reference) }),
    ...(opts.skipPreflight ? { skipPreflight: true } : {}),
  });

test('402 with a fresh reference → Solana Pay transfer → retry without a signature → seller reply; ledger right', async () => {
  const { relay, route, payment, raw } = await newIntent(body(1));
  // SOL first, then the EVM route; pay_to is the treasury since the seller has no Solana wallet.
  expect(payment.routes.map((r: { network: string }) => r.network)).toEqual([m.sol.network, 'eip155:31337']);
  expect(route).toMatchObject({ asset: m.sol.mint, decimals: 6, pay_to: m.treasury.solana, amount_atomic: '250000', min_amount: '0' });
  expect(route.reference).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
  const second = await newIntent(body(1));
  expect(second.route.reference).not.toBe(route.reference);

  const before = m.stub.calls.length;
  const notYet = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(notYet.status).toBe(402);
  expect(notYet.json.error.code).toBe('PAYMENT_NOT_FOUND');
  // The same requirement again, so the buyer can (re)pay from this answer alone.
  expect(notYet.json.payment).toEqual(payment);

  // Landed at `confirmed` only: found, not final → 202.
  m.sol.setCommitmentMode('confirmed');
  const signature = await pay(route);
  const pending = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(pending.status).toBe(202);
  expect(pending.json.data).toMatchObject({ status: 'pending', relay_request_id: relay, retryable: true });
  expect(m.stub.calls.length).toBe(before);

  m.sol.finalize(signature);
  m.sol.setCommitmentMode('finalized');
  const done = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(done.status).toBe(200);
  expect(done.json).toMatchObject({ answer: 42, verified: true });
  expect(m.stub.calls.length).toBe(before + 1);
  const entries = m.t.deps.db.sqlite
    .query('SELECT account, entry_type, amount_micro_usd, network, tx_ref FROM ledger_entries WHERE relay_request_id = ? ORDER BY seq')
    .all(relay) as { account: string; entry_type: string; amount_micro_usd: number; network: string; tx_ref: string }[];
  expect(entries.map((e) => [e.account.split(':')[0], e.entry_type, e.amount_micro_usd])).toEqual([
    ['buyer', 'buyer_payment', -250000],
    ['held', 'payment_held', 250000],
    ['held', 'hold_released', -250000],
    ['seller', 'seller_credit', 243750],
    ['fees', 'marketplace_fee', 6250],
  ]);
  expect(entries.every((e) => e.network === m.sol.network && e.tx_ref === signature)).toBe(true);
  // History: one row per attempt, the completed one carrying the amount; the reply is kept for the buyer.
  const requestId = done.headers.get('x-crochet-request-id');
  const history = await m.t.call('GET', `/api/v1/gateway-requests?role=buyer&listing_id=${m.listing.id}&limit=100`, { key: m.buyer.key });
  const rows = history.json.data.filter((r: { relay_request_id: string | null }) => r.relay_request_id === relay);
  expect(rows.map((r: { status: string }) => r.status).sort()).toEqual(['completed', 'payment_pending', 'payment_required', 'payment_required']);
  expect(rows.find((r: { id: string }) => r.id === requestId)).toMatchObject({ status: 'completed', http_status: 200, seller_status: 200, amount_micro_usd: 250000, seller_id: m.seller.profile.id });
  const seller = await m.t.call('GET', `/api/v1/gateway-requests/${requestId}`, { key: m.seller.key });
  expect(seller.json.data).toMatchObject({ role: 'seller', relay_request_id: relay });
  expect((await m.t.call('GET', `/api/v1/gateway-requests/${requestId}/response`, { key: m.buyer.key })).json.data).toMatchObject({ seller_status: 200, body: { answer: 42 } });
});

test('retry with the signature given works too', async () => {
  const { relay, route, raw } = await newIntent(body(2));
  const signature = await pay(route);
  const res = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: signature });
  expect(res.status).toBe(200);
});

describe('refused with their own code, nothing forwarded, nothing credited', () => {
  async function refused(makeTx: (route: { pay_to: string; reference: string }) => Promise<string | null>, code: string, withSignature = true) {
    const { relay, route, raw } = await newIntent(body(Math.random()));
    const before = m.stub.calls.length;
    const credits = m.t.deps.db.sqlite.query("SELECT count(*) AS n FROM ledger_entries WHERE entry_type = 'seller_credit'").get() as { n: number };
    const signature = await makeTx(route);
    const res = await m.call(m.listing.id, raw, m.buyer.key, { relay, ...(signature && withSignature ? { tx: signature } : {}) });
    expect(res.status).toBe(402);
    expect(res.json.error.code).toBe(code);
    expect(res.json.payment.relay_request_id).toBe(relay);
    expect(m.stub.calls.length).toBe(before);
    expect((m.t.deps.db.sqlite.query("SELECT count(*) AS n FROM ledger_entries WHERE entry_type = 'seller_credit'").get() as { n: number }).n).toBe(credits.n);
  }

  test('underpayment → PAYMENT_INSUFFICIENT', () => refused((r) => pay(r, { amount: 249_999n }), 'PAYMENT_INSUFFICIENT'));
  test('wrong mint → PAYMENT_WRONG_ASSET', async () => {
    const otherMint = await m.sol.createMint(6);
    await m.sol.mintTo(payer.address, 10_000_000n, otherMint);
    await refused((r) => pay(r, { mint: otherMint }), 'PAYMENT_WRONG_ASSET');
  });
  test('wrong recipient → PAYMENT_WRONG_RECIPIENT', () => refused((r) => pay(r, { payTo: payer.address }), 'PAYMENT_WRONG_RECIPIENT'));
  test('failed transaction → PAYMENT_TX_FAILED', () => refused((r) => pay(r, { amount: 10n ** 12n, skipPreflight: true }), 'PAYMENT_TX_FAILED'));
  test('a transfer without the reference → PAYMENT_REFERENCE_MISSING', () => refused((r) => pay(r, { reference: null }), 'PAYMENT_REFERENCE_MISSING'));
  test('no payment yet → PAYMENT_NOT_FOUND', () => refused(async () => null, 'PAYMENT_NOT_FOUND'));
  test("another intent's transfer presented for this one → refused", async () => {
    const first = await newIntent(body(99));
    const signature = await pay(first.route);
    expect((await m.call(m.listing.id, first.raw, m.buyer.key, { relay: first.relay })).status).toBe(200);
    // Its reference belongs to the first intent: it cannot pay for a second one.
    await refused(async () => signature, 'PAYMENT_REFERENCE_MISSING');
  });
});
