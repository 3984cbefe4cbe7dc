// Threat: a suspension takes a buyer's money without the service (a call paid before it can neither complete nor be refunded), or lets a paid call through twice.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import { signInAdmin } from '../support/admin.ts';
import { as, type Person } from '../support/humans.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let m: PaidMarket;
let admin: Person;
beforeAll(async () => {
  m = await startPaidMarket({ confirmations: 2 });
  admin = await signInAdmin(m.t);
});
afterAll(() => m.stop());

const body = (n: number) => JSON.stringify({ question: 'suspended?', n });

async function payBefore(listingId: string, raw: string) {
  const res = await m.call(listingId, raw, m.buyer.key);
  expect(res.status).toBe(402);
  const payment = res.json.payment;
  const tx = await m.usdc.transfer(m.buyer.account, payment.routes[0].pay_to as Hex, BigInt(payment.amount_atomic));
  // One block: pending (2 confirmations needed), so the intent is settled only after the suspension.
  expect((await m.call(listingId, raw, m.buyer.key, { relay: payment.relay_request_id, tx })).status).toBe(202);
  return { relay: payment.relay_request_id as string, tx };
}

for (const what of ['listing', 'seller profile'] as const) {
  test(`a call paid before its ${what} was suspended completes once; new calls are refused with 409 LISTING_SUSPENDED`, async () => {
    const raw = body(what === 'listing' ? 1 : 2);
    const { relay, tx } = await payBefore(m.listing.id, raw);
    const path = what === 'listing' ? `/api/v1/admin/listings/${m.listing.id}` : `/api/v1/admin/profiles/${m.seller.profile.id}`;
    expect((await m.t.call('PATCH', path, as(admin, { body: { status: 'suspended' } }))).status).toBe(200);
    const fresh = await m.call(m.listing.id, body(99), m.buyer.key);
    expect([fresh.status, fresh.json.error.code]).toEqual([409, 'LISTING_SUSPENDED']);
    // Someone else's relay id does not open the door.
    const stranger = await m.call(m.listing.id, raw, m.stranger.key, { relay, tx });
    expect([stranger.status, stranger.json.error.code]).toEqual([409, 'LISTING_SUSPENDED']);
    const calls = m.stub.calls.length;
    await m.chain.mine(1);
    const done = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ answer: 42, echo: raw });
    expect(m.stub.calls.length).toBe(calls + 1);
    // Once: the consumed intent no longer opens the suspended listing.
    const again = await m.call(m.listing.id, raw, m.buyer.key, { relay, tx });
    expect([again.status, again.json.error.code]).toEqual([409, 'LISTING_SUSPENDED']);
    expect(m.stub.calls.length).toBe(calls + 1);
    expect((await m.t.call('PATCH', path, as(admin, { body: { status: 'active' } }))).status).toBe(200);
  });
}
