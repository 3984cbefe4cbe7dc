// Threat: the console silently overrides what the operator fixed in the environment, or a fee change goes unrecorded.
import { afterEach, expect, test } from 'bun:test';
import * as Settings from '../../src/modules/admin/settings.ts';
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
