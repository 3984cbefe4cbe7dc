// Threat: a stock x402 client (@x402/fetch + @x402/evm, no Crochet code) cannot pay a paid listing,
// pays the wrong amount or recipient, or gets the call without the chain moving exactly the price.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { decodePaymentResponseHeader, type PaymentRequired } from '@x402/fetch';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { startX402Market, type X402Market } from '../support/x402-market.ts';

allowSlowSetup();

let m: X402Market;
beforeAll(async () => {
  m = await startX402Market();
});
afterAll(() => m.stop());

const decode = <T>(header: string | null): T => JSON.parse(Buffer.from(header ?? '', 'base64').toString('utf8')) as T;

test('an unpaid call answers 402 with Crochet\'s JSON and an x402 v2 PAYMENT-REQUIRED bound to the intent', async () => {
  const res = await m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, { key: m.buyer.key, rawBody: JSON.stringify({ q: 1 }), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(402);
  expect(res.json.error.code).toBe('PAYMENT_REQUIRED');
  const payment = res.json.payment;
  expect(res.headers.get('cache-control')).toBe('no-store');
  const required = decode<PaymentRequired>(res.headers.get('payment-required'));
  expect(required.x402Version).toBe(2);
  expect(required.resource.url).toBe(`${m.t.config.public_url}/api/v1/gateway/${m.listing.id}`);
  expect(required.accepts).toHaveLength(1);
  const [offer] = required.accepts;
  const route = payment.routes[0];
  expect(offer).toMatchObject({ scheme: 'exact', network: route.network, amount: '250000', asset: route.asset, payTo: route.pay_to });
  expect(offer!.maxTimeoutSeconds).toBeGreaterThanOrEqual(30);
  // The EIP-712 domain read from the token, and the binding to this intent.
  expect(offer!.extra).toMatchObject({ name: 'USD Coin', version: '2', crochet: { relay_request_id: payment.relay_request_id, expires_at: payment.expires_at } });
  expect((offer!.extra['crochet'] as { mac: string }).mac).toMatch(/^[0-9a-f]{64}$/);
  expect(required.extensions).toHaveProperty('payment-identifier');
});

test('the stock @x402/fetch client pays and gets the seller\'s JSON and PAYMENT-RESPONSE; the chain moved exactly the price, once', async () => {
  const payTo = (await m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, { key: m.buyer.key, rawBody: '{}', headers: { 'content-type': 'application/json' } })).json.payment.routes[0].pay_to;
  const buyerBefore = await m.usdc.balanceOf(m.buyer.account.address);
  const payToBefore = await m.usdc.balanceOf(payTo);
  const relayerEthBefore = await m.chain.accounts[8] && (await fetchBalance(m.relayer.address));
  const forwardsBefore = m.forwards();

  const res = await m.payingFetch(m.buyer.account, m.buyer.key)(m.listing.id, { question: 'meaning of life' });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ answer: 42, echo: { question: 'meaning of life' }, verified: true });
  const settled = decodePaymentResponseHeader(res.headers.get('PAYMENT-RESPONSE') ?? '');
  expect(settled).toMatchObject({ success: true, network: `eip155:${m.chain.chainId}`, payer: m.buyer.account.address });
  expect(settled.transaction).toMatch(/^0x[0-9a-f]{64}$/);

  expect(await m.usdc.balanceOf(m.buyer.account.address)).toBe(buyerBefore - 250_000n);
  expect(await m.usdc.balanceOf(payTo)).toBe(payToBefore + 250_000n);
  // The relayer paid the gas, never the price.
  expect(await fetchBalance(m.relayer.address)).toBeLessThan(relayerEthBefore as bigint);
  expect(m.forwards()).toBe(forwardsBefore + 1);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);

  // On the books as any paid call: the buyer's history shows it completed with its relay id.
  const history = await m.t.call('GET', '/api/v1/gateway-requests?role=buyer&status=completed', { key: m.buyer.key });
  expect(history.json.data.some((r: { relay_request_id: string | null; amount_micro_usd: number }) => r.relay_request_id !== null && r.amount_micro_usd === 250_000)).toBe(true);
});

test('the native relay-id flow still pays on the same instance', async () => {
  const first = await m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, { key: m.buyer.key, rawBody: '{"native":1}', headers: { 'content-type': 'application/json' } });
  const route = first.json.payment.routes[0];
  const tx = await m.usdc.transfer(m.buyer.account, route.pay_to, BigInt(route.amount_atomic));
  const paid = await m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, {
    key: m.buyer.key, rawBody: '{"native":1}',
    headers: { 'content-type': 'application/json', 'x-crochet-relay-request-id': first.json.payment.relay_request_id, 'x-crochet-payment-tx': tx },
  });
  expect(paid.status).toBe(200);
  expect(paid.json).toMatchObject({ answer: 42 });
  expect(paid.headers.get('payment-response')).toBeNull();
});

async function fetchBalance(address: string): Promise<bigint> {
  const res = await fetch(m.chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [address, 'latest'] }) });
  return BigInt(((await res.json()) as { result: string }).result);
}
