// Threat: one payment buys many calls (concurrent retries, replays), or a seller failure loses the buyer's money.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import * as Payments from '../../src/modules/payments/service.ts';
import { masterKeyToBase64 } from '../../src/modules/vault/envelope.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let m: PaidMarket;
beforeAll(async () => {
  m = await startPaidMarket();
});
afterAll(() => m.stop());

async function paidIntent(raw: string) {
  const res = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'EVM' });
  expect(res.status).toBe(402);
  const { relay_request_id: relay, routes } = res.json.payment;
  const tx = await m.usdc.transfer(m.buyer.account, routes[0].pay_to as Hex, 250_000n);
  return { relay: relay as string, tx, raw, payTo: routes[0].pay_to as string };
}

const count = (sql: string, ...args: string[]) => (m.t.deps.db.sqlite.query(sql).get(...args) as { n: number }).n;

test('50 concurrent retries with one paid relay id: exactly one forward and one settlement', async () => {
  const { relay, tx, raw } = await paidIntent('{"concurrent":true}');
  const before = m.stub.calls.length;
  const results = await Promise.all(Array.from({ length: 50 }, () => m.call(m.listing.id, raw, m.buyer.key, { relay, tx })));
  const statuses = results.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
  for (const r of results.filter((x) => x.status === 409)) expect(['PAYMENT_IN_PROGRESS', 'PAYMENT_INTENT_CONSUMED']).toContain(r.json.error.code);
  expect(m.stub.calls.length).toBe(before + 1);
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?', relay)).toBe(1);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'buyer_payment'", relay)).toBe(1);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay)).toBe(1);
});

test('the settlement transaction records the attempt (pending while forwarded); its outcome replaces it, one row', async () => {
  const { relay, tx, raw } = await paidIntent('{"slow":true}');
  m.setSellerMode('slow');
  try {
    const inFlight = m.call(m.listing.id, raw, m.buyer.key, { relay, tx });
    // While the seller works: the payment is settled and the attempt is on record with it.
    let rows: { id: string; status: string; http_status: number }[] = [];
    for (let i = 0; i < 100 && rows.length === 0; i++) {
      await Bun.sleep(10);
      rows = m.t.deps.db.sqlite.query('SELECT id, status, http_status FROM gateway_requests WHERE relay_request_id = ? AND status = ?').all(relay, 'payment_pending') as typeof rows;
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]?.http_status).toBe(202);
    expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'payment_held'", relay)).toBe(1);
    const done = await inFlight;
    expect(done.status).toBe(200);
    const id = done.headers.get('x-crochet-request-id')!;
    expect(rows[0]?.id).toBe(id);
    expect(m.t.deps.db.sqlite.query('SELECT status, http_status FROM gateway_requests WHERE id = ?').all(id)).toEqual([{ status: 'completed', http_status: 200 }]);
  } finally {
    m.setSellerMode('ok');
  }
});

test('seller 500 after payment: no credit; a retry with the same relay id succeeds and credits once', async () => {
  const { relay, tx, raw } = await paidIntent('{"flaky":true}');
  m.setSellerMode('fail');
  const failed = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx });
  expect(failed.status).toBe(502);
  expect(failed.json.error.code).toBe('UPSTREAM_ERROR');
  expect(failed.json.error.recovery).toMatchObject({ retryable: true, preserve: ['relay_request_id', 'body'] });
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'payment_held'", relay)).toBe(1);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay)).toBe(0);
  const row = await m.t.call('GET', `/api/v1/gateway-requests/${failed.headers.get('x-crochet-request-id')}`, { key: m.buyer.key });
  expect(row.json.data).toMatchObject({ status: 'seller_failed', http_status: 502, seller_status: 500, relay_request_id: relay });

  m.setSellerMode('ok');
  // The retry needs no new payment (and no transaction hash: the intent is already settled).
  const ok = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(ok.status).toBe(200);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay)).toBe(1);
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?', relay)).toBe(1);
});

test('a settled intent left unused becomes refund_due after expiry; the operator marks it refunded', async () => {
  const { relay, tx, raw, payTo } = await paidIntent('{"abandoned":true}');
  m.setSellerMode('fail');
  expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx })).status).toBe(502);
  m.setSellerMode('ok');
  const deps: Payments.PaymentsDeps = { ...m.t.deps, verifiers: Payments.buildVerifiers(m.t.config.payment_routes), verifying: new Map() };
  // Not yet expired: the sweep leaves it alone.
  expect(Payments.sweepExpiredIntents(deps).refundDue).toBe(0);
  m.t.clock.advance(901_000);
  const swept = Payments.sweepExpiredIntents(deps);
  expect(swept.refundDue).toBeGreaterThanOrEqual(1);
  const entries = m.t.deps.db.sqlite.query('SELECT account, entry_type, amount_micro_usd FROM ledger_entries WHERE relay_request_id = ? ORDER BY seq').all(relay) as { account: string; entry_type: string; amount_micro_usd: number }[];
  expect(entries.map((e) => [e.account.split(':')[0], e.entry_type, e.amount_micro_usd])).toEqual([
    ['buyer', 'buyer_payment', -250000],
    ['held', 'payment_held', 250000],
    ['held', 'refund_due', -250000],
    ['refunds', 'refund_due', 250000],
  ]);
  // The relay id is no longer usable.
  const late = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(late.status).toBe(410);
  // Operator, with the real CLI on the running instance's data folder: list, then mark refunded.
  const cli = async (...args: string[]) => {
    const proc = Bun.spawn(['bun', 'src/main.ts', 'refunds', ...args, '--data-dir', m.t.dir], {
      env: { ...process.env, CROCHET_MASTER_KEY: masterKeyToBase64(m.t.masterKey) },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [out, code] = [await new Response(proc.stdout).text(), await proc.exited];
    return { code, lines: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
  };
  const due = await cli('list');
  expect(due.code).toBe(0);
  // The seller has an EVM payout wallet, so the payment went to the seller: the list says so.
  expect(due.lines).toContainEqual(expect.objectContaining({ relay_request_id: relay, amount_micro_usd: 250000, status: 'refund_due', payment_tx_ref: tx.toLowerCase(), paid_to: payTo, held_by: 'seller', seller_id: m.seller.profile.id }));
  const done = await cli('mark', relay, '--tx-ref', '0xrefundtx');
  expect(done.code).toBe(0);
  expect(done.lines[0]).toMatchObject({ relay_request_id: relay, status: 'refunded', refund_tx_ref: '0xrefundtx', amount: '0.25' });
  expect((await cli('list')).lines.map((r) => r.relay_request_id)).not.toContain(relay);
  expect((await cli('mark', relay, '--tx-ref', 'again')).code).toBe(1);
  expect(Payments.listRefunds(deps, true).find((r) => r.relay_request_id === relay)?.status).toBe('refunded');
  const { verifyLedger } = await import('../../src/modules/ledger/service.ts');
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
  // Every account of this call is back to zero except the buyer's net payment, reversed by the refund.
  const net = m.t.deps.db.sqlite.query('SELECT account, sum(amount_micro_usd) AS s FROM ledger_entries WHERE relay_request_id = ? GROUP BY account').all(relay) as { s: number }[];
  expect(net.every((a) => a.s === 0)).toBe(true);
});

test('a buyer who pays twice for one intent: the extra transfer is recorded as owed back, once', async () => {
  const { relay, tx, raw, payTo } = await paidIntent('{"paid":"twice"}');
  expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx })).status).toBe(200);
  const extra = await m.usdc.transfer(m.buyer.account, payTo as Hex, 250_000n);
  const entries = () => m.t.deps.db.sqlite.query('SELECT entry_type, amount_micro_usd, tx_ref FROM ledger_entries WHERE relay_request_id = ? ORDER BY seq').all(relay) as { entry_type: string; amount_micro_usd: number; tx_ref: string }[];
  const before = entries().length;

  const refused = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: extra });
  expect(refused.status).toBe(409);
  expect(refused.json.error).toMatchObject({ code: 'PAYMENT_INTENT_CONSUMED', details: { extra_payment_refund_due: true } });
  // Held and moved to the buyer's refund account under the extra transfer's reference; nothing credited.
  expect(entries().slice(before).map((e) => [e.entry_type, e.amount_micro_usd, e.tx_ref])).toEqual([
    ['buyer_payment', -250000, extra.toLowerCase()],
    ['payment_held', 250000, extra.toLowerCase()],
    ['refund_due', -250000, extra.toLowerCase()],
    ['refund_due', 250000, extra.toLowerCase()],
  ]);
  const owed = Payments.listRefunds(m.t.deps).find((r) => r.relay_request_id === relay);
  expect(owed).toMatchObject({ kind: 'extra_payment', payment_tx_ref: extra.toLowerCase(), status: 'refund_due', paid_to: payTo, amount_micro_usd: 250000 });

  // Presented again, or alongside the original: nothing more is recorded.
  const again = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: extra });
  expect(again.status).toBe(409);
  expect(again.json.error.details?.extra_payment_refund_due).toBeUndefined();
  expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx })).status).toBe(409);
  expect(entries()).toHaveLength(before + 4);

  // Not before every intent that could still claim it has expired (it may have been meant for one).
  expect(() => Payments.markRefunded(m.t.deps, owed!.refund_id, '0xrefund-extra')).toThrow(expect.objectContaining({ code: 'REFUND_NOT_YET_PAYABLE' }));
  expect(Date.parse(owed!.payable_after) - Date.parse(owed!.due_since)).toBe(m.t.config.payment_intent_ttl_seconds * 1000);
  m.t.clock.set(new Date(owed!.payable_after));
  const refunded = Payments.markRefunded(m.t.deps, owed!.refund_id, '0xrefund-extra');
  expect(refunded).toMatchObject({ kind: 'extra_payment', status: 'refunded', refund_tx_ref: '0xrefund-extra' });
  expect(Payments.listRefunds(m.t.deps).map((r) => r.refund_id)).not.toContain(owed!.refund_id);
  expect(() => Payments.markRefunded(m.t.deps, owed!.refund_id, '0xrefund-extra')).toThrow(expect.objectContaining({ code: 'REFUND_NOT_FOUND' }));
  const { verifyLedger } = await import('../../src/modules/ledger/service.ts');
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});

test('an extra transfer presented on a retry after a seller failure is recorded, and the call goes on', async () => {
  const { relay, tx, raw, payTo } = await paidIntent('{"paid":"again-after-failure"}');
  m.setSellerMode('fail');
  try {
    expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx })).status).toBe(502);
  } finally {
    m.setSellerMode('ok');
  }
  const extra = await m.usdc.transfer(m.buyer.account, payTo as Hex, 250_000n);
  expect((await m.call(m.listing.id, raw, m.buyer.key, { relay, tx: extra })).status).toBe(200);
  expect(count("SELECT count(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay)).toBe(1);
  expect(Payments.listRefunds(m.t.deps).filter((r) => r.relay_request_id === relay).map((r) => [r.kind, r.payment_tx_ref])).toEqual([['extra_payment', extra.toLowerCase()]]);
});

test("a transfer that paid another intent is not an extra payment of this one", async () => {
  const first = await paidIntent('{"mine":1}');
  const second = await paidIntent('{"mine":2}');
  expect((await m.call(m.listing.id, first.raw, m.buyer.key, { relay: first.relay, tx: first.tx })).status).toBe(200);
  expect((await m.call(m.listing.id, second.raw, m.buyer.key, { relay: second.relay, tx: second.tx })).status).toBe(200);
  const res = await m.call(m.listing.id, first.raw, m.buyer.key, { relay: first.relay, tx: second.tx });
  expect(res.status).toBe(409);
  expect(res.json.error.details?.extra_payment_refund_due).toBeUndefined();
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE surplus = 1 AND tx_ref = ?', second.tx.toLowerCase())).toBe(0);
});

test('a transfer presented for the wrong intent first still pays for its own, and is then no longer owed back', async () => {
  const x = await paidIntent('{"which":"x"}');
  expect((await m.call(m.listing.id, x.raw, m.buyer.key, { relay: x.relay, tx: x.tx })).status).toBe(200);
  const y = await paidIntent('{"which":"y"}');
  // y's transfer shown with x's relay id: recorded as an extra payment of x…
  const wrong = await m.call(m.listing.id, x.raw, m.buyer.key, { relay: x.relay, tx: y.tx });
  expect(wrong.json.error.details).toMatchObject({ extra_payment_refund_due: true });
  // …until it is presented for y, which it pays: the debt is cancelled, nothing is owed.
  expect((await m.call(m.listing.id, y.raw, m.buyer.key, { relay: y.relay, tx: y.tx })).status).toBe(200);
  expect(Payments.listRefunds(m.t.deps).filter((r) => r.relay_request_id === x.relay || r.relay_request_id === y.relay)).toEqual([]);
  expect(count('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ? AND surplus = 0 AND tx_ref = ?', y.relay, y.tx.toLowerCase())).toBe(1);
  const buyerAccounts = m.t.deps.db.sqlite
    .query("SELECT account, sum(amount_micro_usd) AS s FROM ledger_entries WHERE tx_ref = ? GROUP BY account ORDER BY account")
    .all(y.tx.toLowerCase()) as { account: string; s: number }[];
  // Net over y's transfer: the buyer paid once, the seller (and the fee) were credited once, nothing held or owed.
  expect(Object.fromEntries(buyerAccounts.map((a) => [a.account.split(':')[0], a.s]))).toEqual({ buyer: -250000, fees: 6250, held: 0, refunds: 0, seller: 243750 });
  const { verifyLedger } = await import('../../src/modules/ledger/service.ts');
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});
