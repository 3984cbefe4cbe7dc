// Threat: the console silently overrides what the operator fixed in the environment, or a fee change or refund goes unrecorded.
import { afterEach, expect, test } from 'bun:test';
import * as Settings from '../../src/modules/admin/settings.ts';
import { paymentIntents } from '../../src/modules/payments/schema.ts';
import * as Payments from '../../src/modules/payments/service.ts';
import { createTestApp, type TestContext } from '../support/app.ts';
import { signInAdmin } from '../support/admin.ts';
import { as } from '../support/humans.ts';
import { evmWallet } from '../support/wallets.ts';

let t: TestContext;
afterEach(async () => t?.close());

const route = { network: 'eip155:8453', rpc_url: 'http://127.0.0.1:9', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', treasury: evmWallet().address };

test('the marketplace fee set in the console is the fee in force and is audited', async () => {
  t = await createTestApp({ CROCHET_PAYMENT_ROUTES: JSON.stringify([route]) });
  const admin = await signInAdmin(t);
  const before = await t.call('GET', '/api/v1/admin/settings', as(admin));
  expect(before.json.data.fee_bps).toEqual({ value: 0, fixed: false, source: 'console' });
  const changed = await t.call('PATCH', '/api/v1/admin/settings', as(admin, { body: { fee_bps: 300 } }));
  expect(changed.status).toBe(200);
  expect(changed.json.data.fee_bps.value).toBe(300);
  expect((await t.call('PATCH', '/api/v1/admin/settings', as(admin, { body: { fee_bps: 10_001 } }))).status).toBe(400);
  // What new payment intents take (app.ts passes it to payments as feeBps).
  expect(Settings.effectiveFeeBps(t.deps)).toBe(300);
  // Agents discover the fee in force, not the configured default.
  expect((await t.call('GET', '/.well-known/agent-protocol.json')).json.payments.fee_bps).toBe(300);
  const log = (await t.call('GET', '/api/v1/admin/overview', as(admin))).json.data.audit_log;
  expect(log[0]).toMatchObject({ action: 'settings.fee_bps', actor_profile_id: admin.profileId, details: { from: 0, to: 300 } });
});

test('a fee fixed by CROCHET_FEE_BPS shows as fixed and cannot be changed in the console', async () => {
  t = await createTestApp({ CROCHET_FEE_BPS: '250' });
  const admin = await signInAdmin(t);
  expect((await t.call('GET', '/api/v1/admin/settings', as(admin))).json.data.fee_bps).toEqual({ value: 250, fixed: true, source: 'CROCHET_FEE_BPS' });
  const refused = await t.call('PATCH', '/api/v1/admin/settings', as(admin, { body: { fee_bps: 0 } }));
  expect([refused.status, refused.json.error.code]).toEqual([409, 'SETTING_FIXED']);
  expect((await t.call('GET', '/api/v1/admin/settings', as(admin))).json.data.fee_bps.value).toBe(250);
});

test('refunds due: listed in the console and overview, marked refunded through the API (as `crochet refunds mark`), audited', async () => {
  t = await createTestApp({ CROCHET_PAYMENT_ROUTES: JSON.stringify([route]) });
  const admin = await signInAdmin(t);
  const now = t.clock.now().toISOString();
  // An intent as the sweep leaves it once it expired unused.
  t.deps.db.db.insert(paymentIntents).values({
    id: 'rly_due1', buyerId: 'buyer-1', sellerId: 'seller-1', listingId: 'listing-1', bodySha256: '0'.repeat(64), amountMicroUsd: 250_000, feeBps: 0,
    routes: [{ network: route.network, asset: route.asset, decimals: 6, pay_to: route.treasury, amount_atomic: '250000', min_amount: '0' }],
    status: 'refund_due', createdAt: now, expiresAt: now, settlementKey: `${route.network}:0xdue1:0`, settledNetwork: route.network, settledTxRef: '0xdue1', settledAt: now,
  }).run();
  const list = await t.call('GET', '/api/v1/admin/refunds', as(admin));
  expect(list.json.data).toEqual([expect.objectContaining({ refund_id: 'rly_due1', status: 'refund_due', amount: '0.25' })]);
  expect((await t.call('GET', '/api/v1/admin/overview', as(admin))).json.data.refunds_due).toEqual({ count: 1, total_micro_usd: 250_000, total: '0.25' });
  const marked = await t.call('POST', '/api/v1/admin/refunds/rly_due1/mark', as(admin, { body: { tx_ref: '0xrefundtx' } }));
  expect(marked.status).toBe(200);
  expect(marked.json.data).toMatchObject({ status: 'refunded', refund_tx_ref: '0xrefundtx' });
  expect((await t.call('POST', '/api/v1/admin/refunds/rly_due1/mark', as(admin, { body: { tx_ref: '0xother' } }))).status).toBe(404);
  expect(Payments.listRefunds(t.deps)).toEqual([]);
  const overview = (await t.call('GET', '/api/v1/admin/overview', as(admin))).json.data;
  expect(overview.refunds_due.count).toBe(0);
  expect(overview.audit_log[0]).toMatchObject({ action: 'refund.mark', target: 'refund:rly_due1', details: { tx_ref: '0xrefundtx', amount_micro_usd: 250_000 } });
});
