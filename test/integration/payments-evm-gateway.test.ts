// Threat: a buyer gets a paid call forwarded without paying for it in full, on the right chain, to the right wallet, once.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let m: PaidMarket;
beforeAll(async () => {
  m = await startPaidMarket({ confirmations: 2 });
});
afterAll(() => m.stop());

const body = (n: number) => JSON.stringify({ question: 'meaning of life', n });

async function newIntent(listingId = m.listing.id, raw = body(1), key = m.buyer.key, origin = 'EVM') {
  const res = await m.call(listingId, raw, key, { origin });
  expect(res.status).toBe(402);
  const payment = res.json.payment;
  const route = payment.routes[0];
  return { res, payment, route, raw };
}

const sellerCredit = async () => {
  const res = await m.t.call('GET', '/api/v1/ledger/balance', { key: m.seller.key });
  return (res.json.data.accounts as { account: string; balance_micro_usd: number }[]).find((a) => a.account.startsWith('seller:'))?.balance_micro_usd ?? 0;
};

test('402 → pay → retry → seller reply; ledger, history and stored reply right to the micro-USD', async () => {
  const { res, payment, route, raw } = await newIntent();
  expect(res.json.error.code).toBe('PAYMENT_REQUIRED');
  expect(res.json.error.recovery).toMatchObject({ next_action: 'complete_payment_and_retry', preserve: ['relay_request_id', 'body'] });
  expect(payment).toMatchObject({ listing_id: m.listing.id, amount: '0.25', amount_atomic: '250000', currency: 'USD', body_sha256: new Bun.CryptoHasher('sha256').update(raw).digest('hex') });
  expect(payment.relay_request_id).toMatch(/^rly_/);
  // Exactly the SPEC §5 fields; the intent lives CROCHET_PAYMENT_INTENT_TTL_SECONDS from now.
  expect(Object.keys(payment).sort()).toEqual(['amount', 'amount_atomic', 'body_sha256', 'currency', 'expires_at', 'listing_id', 'relay_request_id', 'routes']);
  expect(payment.expires_at).toBe(new Date(m.t.clock.now().getTime() + m.t.config.payment_intent_ttl_seconds * 1000).toISOString());
  expect(res.headers.get('x-crochet-request-id')).toMatch(/^gw_req_/);
  expect(payment.routes).toHaveLength(1);
  // pay_to is the seller's default EVM payout wallet.
  expect(route).toEqual({ network: 'eip155:31337', asset: m.usdc.address, decimals: 6, pay_to: m.seller.wallet.address, amount_atomic: '250000', min_amount: '0.1' });

  const before = m.stub.calls.length;
  const tx = await m.usdc.transfer(m.buyer.account, route.pay_to as Hex, 250_000n);
  // One block: below the 2 confirmations this route needs.
  const pending = await m.call(m.listing.id, raw, m.buyer.key, { relay: payment.relay_request_id, tx });
  expect(pending.status).toBe(202);
  expect(pending.json).toEqual({ success: true, data: { status: 'pending', relay_request_id: payment.relay_request_id, retryable: true, retry_after_seconds: expect.any(Number) } });
  expect(m.stub.calls.length).toBe(before);

  await m.chain.mine(1);
  const done = await m.call(m.listing.id, raw, m.buyer.key, { relay: payment.relay_request_id, tx });
  expect(done.status).toBe(200);
  expect(done.json).toMatchObject({ answer: 42, echo: raw, verified: true });
  expect(m.stub.calls.length).toBe(before + 1);
  expect(m.stub.calls[before]!.headers['x-crochet-relay-request-id']).toBe(payment.relay_request_id);
  const requestId = done.headers.get('x-crochet-request-id')!;

  const ledger = await m.t.call('GET', `/api/v1/ledger?relay_request_id=${payment.relay_request_id}&limit=100`, { key: m.buyer.key });
  expect(ledger.json.data.map((e: { entry_type: string; amount_micro_usd: number }) => [e.entry_type, e.amount_micro_usd])).toEqual([['buyer_payment', -250000]]);
  const sellerLedger = await m.t.call('GET', `/api/v1/ledger?relay_request_id=${payment.relay_request_id}`, { key: m.seller.key });
  expect(sellerLedger.json.data).toEqual([expect.objectContaining({ entry_type: 'seller_credit', amount_micro_usd: 243750, amount: '0.24375', gateway_request_id: requestId, tx_ref: tx.toLowerCase(), network: 'eip155:31337' })]);
  const { verifyLedger } = await import('../../src/modules/ledger/service.ts');
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
  const fees = m.t.deps.db.sqlite.query("SELECT sum(amount_micro_usd) AS s FROM ledger_entries WHERE account = 'fees'").get() as { s: number };
  expect(fees.s).toBe(6250);

  const row = await m.t.call('GET', `/api/v1/gateway-requests/${requestId}`, { key: m.seller.key });
  expect(row.json.data).toMatchObject({ status: 'completed', amount_micro_usd: 250000, relay_request_id: payment.relay_request_id, http_status: 200 });
  const history = await m.t.call('GET', `/api/v1/gateway-requests?listing_id=${m.listing.id}&role=buyer&limit=100`, { key: m.buyer.key });
  const statuses = history.json.data.filter((r: { relay_request_id: string }) => r.relay_request_id === payment.relay_request_id).map((r: { status: string }) => r.status);
  expect(statuses.sort()).toEqual(['completed', 'payment_pending', 'payment_required']);

  const stored = await m.t.call('GET', `/api/v1/gateway-requests/${requestId}/response`, { key: m.buyer.key });
  expect(stored.json.data).toMatchObject({ seller_status: 200, body: { answer: 42 } });
  expect((await m.t.call('GET', `/api/v1/gateway-requests/${requestId}/response`, { key: m.seller.key })).status).toBe(404);
  expect((await m.t.call('GET', `/api/v1/gateway-requests/${requestId}/response`, { key: m.stranger.key })).status).toBe(404);

  // The intent paid for one call.
  const again = await m.call(m.listing.id, raw, m.buyer.key, { relay: payment.relay_request_id, tx });
  expect(again.status).toBe(409);
  expect(again.json.error.code).toBe('PAYMENT_INTENT_CONSUMED');
  expect(m.stub.calls.length).toBe(before + 1);
});

describe('refused with their own code, nothing forwarded, nothing credited', () => {
  async function refused(make: () => Promise<{ relay: string; raw: string; tx?: string; key?: string; listingId?: string }>, status: number, code: string) {
    const forwarded = m.stub.calls.length;
    const credit = await sellerCredit();
    const attempt = await make();
    await m.chain.mine(2);
    const res = await m.call(attempt.listingId ?? m.listing.id, attempt.raw, attempt.key ?? m.buyer.key, { relay: attempt.relay, ...(attempt.tx ? { tx: attempt.tx } : {}) });
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect(res.json.error.recovery).toBeDefined();
    expect(m.stub.calls.length).toBe(forwarded);
    expect(await sellerCredit()).toBe(credit);
    return res;
  }

  test('no transaction hash yet → 400 PAYMENT_TX_REQUIRED', async () => {
    await refused(async () => {
      const { payment, raw } = await newIntent(m.listing.id, body(2));
      return { relay: payment.relay_request_id, raw };
    }, 400, 'PAYMENT_TX_REQUIRED');
  });

  test('an unknown transaction hash → 402 PAYMENT_NOT_FOUND with the payment object', async () => {
    const res = await refused(async () => {
      const { payment, raw } = await newIntent(m.listing.id, body(3));
      return { relay: payment.relay_request_id, raw, tx: `0x${'ab'.repeat(32)}` };
    }, 402, 'PAYMENT_NOT_FOUND');
    expect(res.json.payment.routes).toHaveLength(1);
    expect(res.json.error.recovery.retryable).toBe(true);
  });

  test('underpayment → PAYMENT_INSUFFICIENT', async () => {
    await refused(async () => {
      const { payment, route, raw } = await newIntent(m.listing.id, body(4));
      return { relay: payment.relay_request_id, raw, tx: await m.usdc.transfer(m.buyer.account, route.pay_to, 249_999n) };
    }, 402, 'PAYMENT_INSUFFICIENT');
  });

  test('wrong contract → PAYMENT_WRONG_ASSET', async () => {
    await refused(async () => {
      const { payment, route, raw } = await newIntent(m.listing.id, body(5));
      return { relay: payment.relay_request_id, raw, tx: await m.wrongToken.transfer(m.buyer.account, route.pay_to, 250_000n) };
    }, 402, 'PAYMENT_WRONG_ASSET');
  });

  test('wrong recipient → PAYMENT_WRONG_RECIPIENT', async () => {
    await refused(async () => {
      const { payment, raw } = await newIntent(m.listing.id, body(6));
      return { relay: payment.relay_request_id, raw, tx: await m.usdc.transfer(m.buyer.account, m.treasury.evm, 250_000n) };
    }, 402, 'PAYMENT_WRONG_RECIPIENT');
  });

  test('reverted transaction → PAYMENT_TX_FAILED', async () => {
    await refused(async () => {
      const { payment, route, raw } = await newIntent(m.listing.id, body(7));
      return { relay: payment.relay_request_id, raw, tx: await m.usdc.transfer(m.buyer.account, route.pay_to, 10n ** 15n, { gas: 100_000n }) };
    }, 402, 'PAYMENT_TX_FAILED');
  });

  test('payer wallet not linked to the buyer → PAYMENT_PAYER_NOT_LINKED', async () => {
    await refused(async () => {
      const { payment, route, raw } = await newIntent(m.listing.id, body(8));
      return { relay: payment.relay_request_id, raw, tx: await m.usdc.transfer(m.stranger.account, route.pay_to, 250_000n) };
    }, 402, 'PAYMENT_PAYER_NOT_LINKED');
  });

  test('a transfer older than the intent → PAYMENT_TX_TOO_OLD', async () => {
    await refused(async () => {
      const early = await m.usdc.transfer(m.buyer.account, m.seller.wallet.address as Hex, 250_000n);
      const { payment, raw } = await newIntent(m.listing.id, body(9));
      return { relay: payment.relay_request_id, raw, tx: early };
    }, 402, 'PAYMENT_TX_TOO_OLD');
  });

  test('one transaction presented for two intents → PAYMENT_ALREADY_USED', async () => {
    const first = await newIntent(m.listing.id, body(10));
    const second = await newIntent(m.listing.id, body(11));
    const tx = await m.usdc.transfer(m.buyer.account, first.route.pay_to, 250_000n);
    await m.chain.mine(2);
    expect((await m.call(m.listing.id, first.raw, m.buyer.key, { relay: first.payment.relay_request_id, tx })).status).toBe(200);
    await refused(async () => ({ relay: second.payment.relay_request_id, raw: second.raw, tx }), 409, 'PAYMENT_ALREADY_USED');
  });

  test('the relay id with a different body, listing or buyer', async () => {
    const { payment, route, raw } = await newIntent(m.listing.id, body(12));
    const tx = await m.usdc.transfer(m.buyer.account, route.pay_to, 250_000n);
    const relay = payment.relay_request_id;
    await refused(async () => ({ relay, raw: body(13), tx }), 409, 'PAYMENT_REQUEST_MISMATCH');
    await refused(async () => ({ relay, raw, tx, listingId: m.cheap.id }), 409, 'PAYMENT_REQUEST_MISMATCH');
    const other = await refused(async () => ({ relay, raw, tx, key: m.stranger.key }), 404, 'PAYMENT_INTENT_NOT_FOUND');
    expect(other.text).not.toContain(m.buyer.profile.id);
    // The rightful buyer can still use it.
    expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx })).status).toBe(200);
  });

  test('an expired intent → 410 PAYMENT_INTENT_EXPIRED; a payment that confirmed too late is recorded as refund due, once', async () => {
    let relay = '';
    let tx = '';
    let raw = '';
    const res = await refused(async () => {
      const intent = await newIntent(m.listing.id, body(14));
      tx = await m.usdc.transfer(m.buyer.account, intent.route.pay_to, 250_000n);
      relay = intent.payment.relay_request_id;
      raw = intent.raw;
      m.t.clock.advance(901_000);
      return { relay, raw, tx };
    }, 410, 'PAYMENT_INTENT_EXPIRED');
    expect(res.json.error.details).toEqual({ refund_due: true });
    const entries = m.t.deps.db.sqlite.query('SELECT entry_type, amount_micro_usd FROM ledger_entries WHERE relay_request_id = ? ORDER BY seq').all(relay);
    expect(entries).toEqual([
      { entry_type: 'buyer_payment', amount_micro_usd: -250000 },
      { entry_type: 'payment_held', amount_micro_usd: 250000 },
      { entry_type: 'refund_due', amount_micro_usd: -250000 },
      { entry_type: 'refund_due', amount_micro_usd: 250000 },
    ]);
    // Retrying again records nothing more, and the transfer cannot pay for another (younger) intent.
    const again = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx });
    expect(again.json.error).toMatchObject({ code: 'PAYMENT_INTENT_EXPIRED' });
    expect(again.json.error.details).toBeUndefined();
    expect(m.t.deps.db.sqlite.query('SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ?').get(relay)).toEqual({ n: 4 });
    const other = await newIntent(m.listing.id, body(140));
    const reuse = await m.call(m.listing.id, other.raw, m.buyer.key, { relay: other.payment.relay_request_id, tx });
    expect(reuse.json.error.code).toBe('PAYMENT_TX_TOO_OLD');
  });

  test('an expired intent with no valid payment records nothing', async () => {
    const { payment, raw } = await newIntent(m.listing.id, body(141));
    m.t.clock.advance(901_000);
    const res = await m.call(m.listing.id, raw, m.buyer.key, { relay: payment.relay_request_id, tx: `0x${'cd'.repeat(32)}` });
    expect(res.status).toBe(410);
    expect(res.json.error.details).toBeUndefined();
    expect(m.t.deps.db.sqlite.query('SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ?').get(payment.relay_request_id)).toEqual({ n: 0 });
  });

  test('an EVM-only request below the route minimum → 422 before anything is forwarded', async () => {
    const forwarded = m.stub.calls.length;
    const res = await m.call(m.cheap.id, body(15), m.buyer.key, { origin: 'ETH' });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('PAYMENT_ROUTE_MINIMUM_NOT_MET');
    expect(res.json.error.recovery.next_action).toBe('link_solana_wallet');
    expect(m.stub.calls.length).toBe(forwarded);
    // Without the EVM-only wish, the Solana route carries it.
    const any = await m.call(m.cheap.id, body(15), m.buyer.key);
    expect(any.status).toBe(402);
    expect(any.json.payment.routes.map((r: { network: string }) => r.network)).toEqual([m.sol.network]);
    // With a Solana wallet linked, the hint changes.
    await m.linkSolana(m.buyer);
    const hinted = await m.call(m.cheap.id, body(16), m.buyer.key, { origin: 'EVM' });
    expect(hinted.json.error.recovery.next_action).toBe('use_solana_route');
  });
});

test('an extra transfer not final yet: the refusal says so, and presented again once final it is owed back', async () => {
  const { payment, route, raw } = await newIntent(m.listing.id, body(77));
  const relay = payment.relay_request_id as string;
  const tx = await m.usdc.transfer(m.buyer.account, route.pay_to as Hex, 250_000n);
  await m.chain.mine(1);
  expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx })).status).toBe(200);
  const extra = await m.usdc.transfer(m.buyer.account, route.pay_to as Hex, 250_000n);
  const early = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: extra });
  expect(early.status).toBe(409);
  expect(early.json.error).toMatchObject({ code: 'PAYMENT_INTENT_CONSUMED', details: { extra_payment_pending: true, retry_after_seconds: expect.any(Number) } });
  const owedExtras = () => (m.t.deps.db.sqlite.query('SELECT COUNT(*) AS n FROM payment_settlements WHERE intent_id = ? AND surplus = 1').get(relay) as { n: number }).n;
  expect(owedExtras()).toBe(0);
  await m.chain.mine(1);
  const later = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: extra });
  expect(later.json.error).toMatchObject({ code: 'PAYMENT_INTENT_CONSUMED', details: { extra_payment_refund_due: true } });
  expect(owedExtras()).toBe(1);
});
