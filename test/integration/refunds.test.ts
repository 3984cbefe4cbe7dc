// Threat: the operator's refund records disagree with the chain: one refund transfer booked for
// two buyers, or a refund list that does not say who holds the money to pay back.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import * as Payments from '../../src/modules/payments/service.ts';
import { paymentIntents } from '../../src/modules/payments/schema.ts';
import { createTestApp, type TestContext } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

const NETWORK = 'eip155:8453';
const treasury = evmWallet().address;
const sellerWallet = evmWallet().address;
let t: TestContext;

beforeAll(async () => {
  const route = { network: NETWORK, rpc_url: 'http://127.0.0.1:9', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', treasury };
  t = await createTestApp({ CROCHET_PAYMENT_ROUTES: JSON.stringify([route]) });
});
afterAll(() => t.close());

/** An intent the sweep turned into refund_due (as the sweep leaves it), paid to `payTo`. */
function refundDue(id: string, buyerId: string, payTo: string) {
  const now = t.clock.now().toISOString();
  t.deps.db.db.insert(paymentIntents).values({
    id, buyerId, sellerId: 'seller-1', listingId: 'listing-1', bodySha256: '0'.repeat(64), amountMicroUsd: 250_000, feeBps: 0,
    routes: [{ network: NETWORK, asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6, pay_to: payTo, amount_atomic: '250000', min_amount: '0' }],
    status: 'refund_due', createdAt: now, expiresAt: now, settlementKey: `${NETWORK}:0x${id}:0`, settledNetwork: NETWORK, settledTxRef: `0x${id}`, settledAt: now,
  }).run();
}

const ledgerRows = () => (t.deps.db.sqlite.query('SELECT COUNT(*) AS n FROM ledger_entries').get() as { n: number }).n;

test('the list says where each payment went: the treasury or the seller', () => {
  refundDue('rly_a1', 'buyer-a', treasury.toLowerCase());
  refundDue('rly_a2', 'buyer-a', sellerWallet);
  const byId = Object.fromEntries(Payments.listRefunds(t.deps).map((r) => [r.relay_request_id, r]));
  expect(byId['rly_a1']).toMatchObject({ paid_to: treasury.toLowerCase(), held_by: 'treasury', seller_id: 'seller-1' });
  expect(byId['rly_a2']).toMatchObject({ paid_to: sellerWallet, held_by: 'seller' });
});

test('one refund transfer may settle several refunds of one buyer, never another buyer\'s', () => {
  refundDue('rly_b1', 'buyer-b', treasury);
  expect(Payments.markRefunded(t.deps, 'rly_a1', '0xrefund1')).toMatchObject({ status: 'refunded', refund_tx_ref: '0xrefund1' });
  expect(Payments.markRefunded(t.deps, 'rly_a2', '0xrefund1')).toMatchObject({ status: 'refunded' });
  const before = ledgerRows();
  expect(() => Payments.markRefunded(t.deps, 'rly_b1', '0xrefund1')).toThrow(expect.objectContaining({ status: 409, code: 'REFUND_TX_REF_USED' }));
  // Nothing written: still owed, no ledger entry.
  expect(ledgerRows()).toBe(before);
  expect(Payments.listRefunds(t.deps).map((r) => r.relay_request_id)).toEqual(['rly_b1']);
  expect(Payments.markRefunded(t.deps, 'rly_b1', '0xrefund2')).toMatchObject({ status: 'refunded', refund_tx_ref: '0xrefund2' });
});
