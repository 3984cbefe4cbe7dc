import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  postLedgerTransaction,
  refundDueEntries,
  refundEntries,
  releaseEntries,
  settlementEntries,
} from '../../src/modules/ledger/service.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

const ENTRY_FIELDS = [
  'account', 'amount', 'amount_micro_usd', 'created_at', 'entry_type', 'gateway_request_id', 'id', 'network', 'profile_id', 'relay_request_id', 'transaction_id', 'tx_ref',
];
const T0 = new Date('2026-05-03T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

let t: TestContext;
let buyer: { key: string; id: string };
let seller: { key: string; id: string };

// Payments do not exist yet: write what they will write for paid calls from buyer to seller, one second apart.
beforeAll(async () => {
  t = await createTestApp({ CROCHET_FEE_BPS: '250' });
  const a = await registerAgent(t.call, evmWallet(), 'Buyer');
  const b = await registerAgent(t.call, solanaWallet(), 'Seller');
  buyer = { key: a.key, id: a.profile.id };
  seller = { key: b.key, id: b.profile.id };
  const feeBps = t.config.fee_bps;
  const post = (second: number, input: Parameters<typeof postLedgerTransaction>[1]) => {
    t.clock.set(at(second));
    return postLedgerTransaction(t.deps, input);
  };
  const net = 'eip155:8453';
  // Call 1: 0.25 USD, served.
  post(0, { kind: 'settlement', entries: settlementEntries({ buyerId: buyer.id, amountMicroUsd: 250_000 }), network: net, txRef: '0x01', relayRequestId: 'rly_1' });
  post(1, { kind: 'release', entries: releaseEntries({ sellerId: seller.id, amountMicroUsd: 250_000, feeBps }), relayRequestId: 'rly_1', gatewayRequestId: 'gw_req_1' });
  // Call 2: 0.1 USD, served.
  post(2, { kind: 'settlement', entries: settlementEntries({ buyerId: buyer.id, amountMicroUsd: 100_000 }), network: net, txRef: '0x02', relayRequestId: 'rly_2' });
  post(3, { kind: 'release', entries: releaseEntries({ sellerId: seller.id, amountMicroUsd: 100_000, feeBps }), relayRequestId: 'rly_2', gatewayRequestId: 'gw_req_2' });
  // Call 3: 0.04 USD, the seller failed, the intent expired, the operator refunded it on chain.
  post(4, { kind: 'settlement', entries: settlementEntries({ buyerId: buyer.id, amountMicroUsd: 40_000 }), network: net, txRef: '0x03', relayRequestId: 'rly_3' });
  post(5, { kind: 'refund_due', entries: refundDueEntries({ buyerId: buyer.id, amountMicroUsd: 40_000 }), relayRequestId: 'rly_3' });
  post(6, { kind: 'refund', entries: refundEntries({ buyerId: buyer.id, amountMicroUsd: 40_000 }), network: net, txRef: '0xrefund', relayRequestId: 'rly_3' });
});
afterAll(() => t.close());

const list = (key: string, query = '') => t.call('GET', `/api/v1/ledger${query}`, { key });

describe('GET /api/v1/ledger', () => {
  test('the buyer sees exactly its own entries, newest first, with the SPEC fields', async () => {
    const res = await list(buyer.key);
    expect(res.status).toBe(200);
    expect(res.json.pagination).toEqual({ page: 1, limit: 20, total: 6, totalPages: 1 });
    const entries = res.json.data as Record<string, unknown>[];
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(ENTRY_FIELDS);
      expect(e.profile_id).toBe(buyer.id);
    }
    expect(entries.map((e) => [e.account, e.entry_type, e.amount_micro_usd, e.amount])).toEqual([
      [`buyer:${buyer.id}`, 'refund', 40_000, '0.04'],
      [`refunds:${buyer.id}`, 'refund', -40_000, '-0.04'],
      [`refunds:${buyer.id}`, 'refund_due', 40_000, '0.04'],
      [`buyer:${buyer.id}`, 'buyer_payment', -40_000, '-0.04'],
      [`buyer:${buyer.id}`, 'buyer_payment', -100_000, '-0.1'],
      [`buyer:${buyer.id}`, 'buyer_payment', -250_000, '-0.25'],
    ]);
    expect(entries[5]).toMatchObject({ network: 'eip155:8453', tx_ref: '0x01', relay_request_id: 'rly_1', gateway_request_id: null, created_at: '2026-05-03T12:00:00.000Z' });
    expect(entries[0]).toMatchObject({ tx_ref: '0xrefund', relay_request_id: 'rly_3', created_at: '2026-05-03T12:00:06.000Z' });
    // The shared accounts and the other profile never show.
    expect(res.text).not.toContain('"held"');
    expect(res.text).not.toContain('"fees"');
    expect(res.text).not.toContain(seller.id);
    expect(res.text).not.toContain('prev_hash');
  });

  test('the seller sees only its credits, net of the 250 bps fee', async () => {
    const res = await list(seller.key);
    expect(res.status).toBe(200);
    expect(res.json.data.map((e: Record<string, unknown>) => [e.account, e.entry_type, e.amount_micro_usd, e.amount, e.gateway_request_id])).toEqual([
      [`seller:${seller.id}`, 'seller_credit', 97_500, '0.0975', 'gw_req_2'],
      [`seller:${seller.id}`, 'seller_credit', 243_750, '0.24375', 'gw_req_1'],
    ]);
    expect(res.text).not.toContain(buyer.id);
  });

  test.each([
    ['?account=seller', 'seller', 2],
    [`?account=seller:SELLER`, 'seller', 2],
    ['?account=refunds', 'buyer', 2],
    ['?account=buyer', 'buyer', 4],
    ['?account=held', 'buyer', 0],
    ['?account=fees', 'seller', 0],
    // Naming another profile's account shows nothing, not their entries.
    ['?account=seller:SELLER', 'buyer', 0],
    ['?account=buyer:BUYER', 'seller', 0],
    ['?entry_type=buyer_payment', 'buyer', 3],
    ['?entry_type=refund', 'buyer', 2],
    ['?entry_type=seller_credit', 'buyer', 0],
    ['?relay_request_id=rly_3', 'buyer', 4],
    ['?relay_request_id=rly_1', 'seller', 1],
    ['?gateway_request_id=gw_req_2', 'seller', 1],
    ['?gateway_request_id=gw_req_2', 'buyer', 0],
    ['?since=2026-05-03T12:00:04Z', 'buyer', 4],
    ['?since=2026-05-03T12:00:04.001Z', 'buyer', 3],
    ['?until=2026-05-03T12:00:04.000Z', 'buyer', 2],
    ['?since=2026-05-03T14:00:02%2B02:00&until=2026-05-03T12:00:05Z', 'buyer', 2],
    ['?since=2026-05-03T12:00:01Z&entry_type=buyer_payment&limit=1', 'buyer', 2],
  ])('filter %s as %s → %d', async (query, who, total) => {
    const q = query.replace('SELLER', seller.id).replace('BUYER', buyer.id);
    const res = await list(who === 'buyer' ? buyer.key : seller.key, q);
    expect(res.status).toBe(200);
    expect(res.json.pagination.total).toBe(total);
    const me = who === 'buyer' ? buyer.id : seller.id;
    for (const e of res.json.data) expect(e.profile_id).toBe(me);
  });

  test('pagination walks every entry once, newest first', async () => {
    const p1 = await list(buyer.key, '?limit=4');
    const p2 = await list(buyer.key, '?limit=4&page=2');
    const p3 = await list(buyer.key, '?limit=4&page=3');
    expect(p1.json.pagination).toEqual({ page: 1, limit: 4, total: 6, totalPages: 2 });
    expect(p2.json.pagination).toEqual({ page: 2, limit: 4, total: 6, totalPages: 2 });
    expect(p1.json.data).toHaveLength(4);
    expect(p2.json.data).toHaveLength(2);
    expect(p3.json.data).toEqual([]);
    const all = (await list(buyer.key)).json.data.map((e: { id: string }) => e.id);
    expect([...p1.json.data, ...p2.json.data].map((e: { id: string }) => e.id)).toEqual(all);
  });

  test.each([['?limit=101'], ['?page=0'], ['?since=yesterday'], ['?entry_type=gift'], ['?limit=abc']])('rejects %s with 400', async (query) => {
    const res = await list(buyer.key, query);
    expect(res.status).toBe(400);
    expect(res.json.success).toBe(false);
    expect(res.json.error.recovery.next_action).toBe('fix_request');
  });
});

describe('GET /api/v1/ledger/balance', () => {
  test('buyer: per-account totals and what it paid, to the micro-USD', async () => {
    const res = await t.call('GET', '/api/v1/ledger/balance', { key: buyer.key });
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({
      profile_id: buyer.id,
      accounts: [
        { account: `buyer:${buyer.id}`, balance_micro_usd: -350_000, balance: '-0.35', entry_count: 4 },
        { account: `refunds:${buyer.id}`, balance_micro_usd: 0, balance: '0', entry_count: 2 },
      ],
      buyer: {
        paid_micro_usd: 390_000, paid: '0.39',
        refunded_micro_usd: 40_000, refunded: '0.04',
        refund_due_micro_usd: 0, refund_due: '0',
        net_paid_micro_usd: 350_000, net_paid: '0.35',
      },
      seller: {
        gross_micro_usd: 0, gross: '0',
        fees_micro_usd: 0, fees: '0',
        credited_micro_usd: 0, credited: '0',
        balance_micro_usd: 0, balance: '0',
      },
    });
  });

  test('seller: credits, and the fee on its sales, to the micro-USD', async () => {
    const res = await t.call('GET', '/api/v1/ledger/balance', { key: seller.key });
    expect(res.status).toBe(200);
    expect(res.json.data.accounts).toEqual([{ account: `seller:${seller.id}`, balance_micro_usd: 341_250, balance: '0.34125', entry_count: 2 }]);
    expect(res.json.data.seller).toEqual({
      gross_micro_usd: 350_000, gross: '0.35',
      fees_micro_usd: 8_750, fees: '0.00875',
      credited_micro_usd: 341_250, credited: '0.34125',
      balance_micro_usd: 341_250, balance: '0.34125',
    });
    expect(res.json.data.buyer.paid_micro_usd).toBe(0);
    expect(res.text).not.toContain(buyer.id);
  });

  test('a refund not yet paid shows as due', async () => {
    const other = await registerAgent(t.call, evmWallet(), 'Unlucky');
    postLedgerTransaction(t.deps, { kind: 'settlement', entries: settlementEntries({ buyerId: other.profile.id, amountMicroUsd: 5 }) });
    postLedgerTransaction(t.deps, { kind: 'refund_due', entries: refundDueEntries({ buyerId: other.profile.id, amountMicroUsd: 5 }) });
    const res = await t.call('GET', '/api/v1/ledger/balance', { key: other.key });
    expect(res.json.data.buyer).toMatchObject({ paid_micro_usd: 5, refund_due_micro_usd: 5, refund_due: '0.000005', refunded_micro_usd: 0 });
  });
});

describe('authentication', () => {
  test.each([['/api/v1/ledger'], ['/api/v1/ledger/balance']])('%s: guest 401, bad key 401', async (path) => {
    const guest = await t.call('GET', path);
    expect(guest.status).toBe(401);
    expect(guest.json.error.code).toBe('AUTH_REQUIRED');
    const bad = await t.call('GET', path, { key: 'am_k_not_a_real_key' });
    expect(bad.status).toBe(401);
    expect(bad.text).not.toContain(buyer.id);
  });
});
