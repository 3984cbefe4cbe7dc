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
  m = await startPaidMarket();
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
  return { ...m.t.deps, verifiers, inFlight: new Set(), verifying: new Map() };
}

async function openIntent(raw: string) {
  const res = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'EVM' });
  expect(res.status).toBe(402);
  const { relay_request_id: relay, routes } = res.json.payment;
  const pay = () => m.usdc.transfer(m.buyer.account, routes[0].pay_to as Hex, 250_000n);
  const args = { buyerId: m.buyer.profile.id as string, listingId: m.listing.id, bodySha256: sha256Hex(new TextEncoder().encode(raw)), relayRequestId: relay as string };
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
