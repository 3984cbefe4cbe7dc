// Threat: a buyer's second transfer for one intent, presented while the first is settling, is
// verified and then forgotten (money that reached pay_to, on no book).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import * as Payments from '../../src/modules/payments/service.ts';
import { sha256Hex } from '../../src/shared/request-signing.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let m: PaidMarket;
beforeAll(async () => {
  // Low EVM minimum: the 0.05 listing (`cheap`) can be paid on EVM too.
  m = await startPaidMarket({ evmMinAmount: '0.01' });
});
afterAll(() => m.stop());

/** Payments deps whose EVM verifiers answer for `slow` transactions only after `delayMs`. */
function depsWithSlowTx(slow: string, delayMs: number): Payments.PaymentsDeps {
  const verifiers = Payments.buildVerifiers(m.t.config.payment_routes);
  for (const [key, real] of verifiers.evm) {
    verifiers.evm.set(key, {
      ...real,
      verify: async (args) => {
        if (args.txHash.toLowerCase() === slow.toLowerCase()) await Bun.sleep(delayMs);
        return real.verify(args);
      },
    });
  }
  return { ...m.t.deps, verifiers, verifying: new Map() };
}

async function openIntent(raw: string, listingId = m.listing.id) {
  const res = await m.call(listingId, raw, m.buyer.key, { origin: 'EVM' });
  expect(res.status).toBe(402);
  const { relay_request_id: relay, routes } = res.json.payment;
  const pay = () => m.usdc.transfer(m.buyer.account, routes[0].pay_to as Hex, BigInt(routes[0].amount_atomic));
  const args = { buyerId: m.buyer.profile.id as string, listingId, bodySha256: sha256Hex(new TextEncoder().encode(raw)), relayRequestId: relay as string };
  return { relay: relay as string, pay, args };
}

const surplusOf = (relay: string) =>
  m.t.deps.db.sqlite.query('SELECT tx_ref FROM payment_settlements WHERE intent_id = ? AND surplus = 1').all(relay) as { tx_ref: string }[];

test('both transfers presented at once, the second verified after the first paid the call: the second is owed back', async () => {
  const { relay, pay, args } = await openIntent('{"race":"consumed"}');
  const [first, second] = [await pay(), await pay()];
  const deps = depsWithSlowTx(second, 300);
  const a = Payments.authorizePaidCall(deps, { ...args, paymentTx: first });
  const b = Payments.authorizePaidCall(deps, { ...args, paymentTx: second }).catch((e: unknown) => e);
  const decision = await a;
  if (decision.kind !== 'forward') throw new Error(`expected a forward, got ${decision.kind}`);
  Payments.completePaidCall(deps, decision.intent, { gatewayRequestId: 'gw_req_race', sellerStatus: 200, body: new TextEncoder().encode('{}') });
  decision.release();
  expect(await b).toMatchObject({ status: 409, code: 'PAYMENT_INTENT_CONSUMED', details: { extra_payment_refund_due: true } });
  expect(surplusOf(relay)).toEqual([{ tx_ref: second.toLowerCase() }]);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});

test('both at once, the first only settled (its seller failed): the second is owed back and the call can go on', async () => {
  const { relay, pay, args } = await openIntent('{"race":"settled"}');
  const [first, second] = [await pay(), await pay()];
  const deps = depsWithSlowTx(second, 300);
  const pending = Payments.authorizePaidCall(deps, { ...args, paymentTx: first });
  const b = Payments.authorizePaidCall(deps, { ...args, paymentTx: second });
  const a = await pending;
  if (a.kind !== 'forward') throw new Error(`expected a forward, got ${a.kind}`);
  a.release(); // the seller failed: nothing consumed, the settled intent stays usable
  const retry = await b;
  expect(retry.kind).toBe('forward');
  if (retry.kind === 'forward') retry.release();
  expect(surplusOf(relay)).toEqual([{ tx_ref: second.toLowerCase() }]);
});

const owedOn = (relay: string) => Payments.listRefunds(m.t.deps).filter((r) => r.relay_request_id === relay).map((r) => [r.kind, r.amount_micro_usd]);

test('a transfer owed back for a dearer intent does not pay a cheaper one (the debt would shrink)', async () => {
  const x = await openIntent('{"reclaim":"dear"}');
  const t = await x.pay();
  const deps = depsWithSlowTx('0x', 0);
  const first = await Payments.authorizePaidCall(deps, { ...x.args, paymentTx: t });
  if (first.kind !== 'forward') throw new Error('expected a forward');
  Payments.completePaidCall(deps, first.intent, { gatewayRequestId: 'gw_req_dear', sellerStatus: 200, body: new TextEncoder().encode('{}') });
  first.release();
  const cheapIntent = await openIntent('{"reclaim":"cheap"}', m.cheap.id);
  const extra = await x.pay(); // 0.25, after the cheap intent was made
  await expect(Payments.authorizePaidCall(deps, { ...x.args, paymentTx: extra })).rejects.toMatchObject({ details: { extra_payment_refund_due: true } });
  await expect(Payments.authorizePaidCall(deps, { ...cheapIntent.args, paymentTx: extra })).rejects.toMatchObject({ code: 'PAYMENT_ALREADY_USED' });
  expect(owedOn(x.relay)).toEqual([['extra_payment', 250000]]);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});

test('a transfer owed back is not moved to an intent that expired unpaid (it stays owed in full)', async () => {
  const x = await openIntent('{"reclaim":"late"}');
  const deps = depsWithSlowTx('0x', 0);
  const first = await Payments.authorizePaidCall(deps, { ...x.args, paymentTx: await x.pay() });
  if (first.kind !== 'forward') throw new Error('expected a forward');
  Payments.completePaidCall(deps, first.intent, { gatewayRequestId: 'gw_req_late', sellerStatus: 200, body: new TextEncoder().encode('{}') });
  first.release();
  const y = await openIntent('{"reclaim":"late-y"}');
  const extra = await y.pay();
  await expect(Payments.authorizePaidCall(deps, { ...x.args, paymentTx: extra })).rejects.toMatchObject({ details: { extra_payment_refund_due: true } });
  m.t.clock.advance(m.t.config.payment_intent_ttl_seconds * 1000 + 1_000);
  await expect(Payments.authorizePaidCall(deps, { ...y.args, paymentTx: extra })).rejects.toMatchObject({ code: 'PAYMENT_ALREADY_USED' });
  expect(owedOn(x.relay)).toEqual([['extra_payment', 250000]]);
  expect(owedOn(y.relay)).toEqual([]);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});
