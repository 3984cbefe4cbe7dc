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

test('x402 discovery: a stock Bazaar client lists the active paid listings with their offers, paginated', async () => {
  const { HTTPFacilitatorClient } = await import('@x402/core/http');
  const { withBazaar } = await import('@x402/extensions/bazaar');
  const { createListing } = await import('../support/listings.ts');
  const second = await createListing(m.t.call, m.seller.key, { name: 'Second paid oracle', pricing_model: 'per_call', pricing_amount: '0.5', private_endpoint_url: m.stub.url('/paid') });
  const free = await createListing(m.t.call, m.seller.key, { name: 'Free oracle', pricing_model: 'free', private_endpoint_url: m.stub.url('/paid') });
  const bazaar = withBazaar(new HTTPFacilitatorClient({ url: m.base })).extensions.bazaar;

  const all = await bazaar.listResources({ limit: 10 });
  expect(all.x402Version).toBe(2);
  expect(all.pagination).toEqual({ limit: 10, offset: 0, total: 2 });
  const urls = all.items.map((i) => i.resource);
  expect(urls.sort()).toEqual([m.listing.id, second.id].map((id) => `${m.t.config.public_url}/api/v1/gateway/${id}`).sort());
  expect(urls.some((u) => u.endsWith(free.id))).toBe(false);
  const secondItem = all.items.find((i) => i.resource.endsWith(second.id))!;
  expect(secondItem).toMatchObject({ type: 'http', serviceName: 'Second paid oracle', mimeType: 'application/json' });
  expect(secondItem.accepts).toEqual([expect.objectContaining({ scheme: 'exact', network: `eip155:${m.chain.chainId}`, amount: '500000', asset: m.usdc.address })]);

  const page2 = await bazaar.listResources({ limit: 1, offset: 1 });
  expect(page2.items).toHaveLength(1);
  expect(page2.pagination).toEqual({ limit: 1, offset: 1, total: 2 });
  // The same route as the document describes it.
  const documented = await m.t.call('GET', '/discovery/resources?limit=1&offset=0');
  expect(documented.status).toBe(200);
  expect(documented.json.items[0].resource).not.toBe(page2.items[0]!.resource);
  expect((await m.t.call('GET', '/discovery/resources?limit=0')).status).toBe(400);
});

test('the payment-identifier extension is an idempotency key: a re-signed payment with the same id is never sent', async () => {
  const { appendPaymentIdentifierToExtensions, generatePaymentId } = await import('@x402/extensions/payment-identifier');
  const id = generatePaymentId();
  const body = { idempotent: true };
  // The client adds the id to every payment it creates (what the x402 docs show).
  const withId = (r: PaymentRequired) => {
    r.extensions ??= {};
    appendPaymentIdentifierToExtensions(r.extensions, id);
  };
  const buyerBefore = await m.usdc.balanceOf(m.buyer.account.address);
  const forwardsBefore = m.forwards();

  // First attempt: sent, but not final in time (automine off) → 504 settlement_pending.
  const first = await m.signedPayment(m.buyer.account, m.buyer.key, body, withId);
  await m.chain.setAutomine(false);
  let pending: Response;
  try {
    pending = await m.replay(first, body, m.buyer.key);
  } finally {
    await m.chain.setAutomine(true);
  }
  expect(pending.status).toBe(504);
  const tx = decodePaymentResponseHeader(pending.headers.get('PAYMENT-RESPONSE') ?? '').transaction;
  await m.chain.mine(1);

  // The client retries from scratch: a new 402, a new authorization (new nonce), the same id.
  const retry = await m.signedPayment(m.buyer.account, m.buyer.key, body, withId);
  expect(retry).not.toBe(first);
  const done = await m.replay(retry, body, m.buyer.key);
  expect(done.status).toBe(200);
  expect(decodePaymentResponseHeader(done.headers.get('PAYMENT-RESPONSE') ?? '')).toMatchObject({ success: true, transaction: tx });
  // Once more with the same id after completion: the call was paid for, nothing is sent.
  const third = await m.signedPayment(m.buyer.account, m.buyer.key, body, withId);
  const again = await m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, { key: m.buyer.key, rawBody: JSON.stringify(body), headers: { 'content-type': 'application/json', 'PAYMENT-SIGNATURE': third } });
  expect(again.status).toBe(409);
  expect(again.json.error.code).toBe('PAYMENT_ALREADY_USED');
  expect(await m.usdc.balanceOf(m.buyer.account.address)).toBe(buyerBefore - 250_000n);
  expect(m.forwards()).toBe(forwardsBefore + 1);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});

test('settling keys: the address is logged, never the key; a low gas balance is warned about; /metrics shows the balances', async () => {
  const { loadConfig } = await import('../../src/config.ts');
  const { memoryLogger } = await import('../../src/shared/logger.ts');
  const X402 = await import('../../src/modules/x402/service.ts');
  const { generatePrivateKey, privateKeyToAccount } = await import('viem/accounts');
  // A relayer key with no ETH at all.
  const emptyKey = generatePrivateKey();
  const config = loadConfig({ env: { ...m.env, CROCHET_X402_EVM_RELAYER_KEY: emptyKey, CROCHET_DATA_DIR: m.t.dir } });
  const logger = memoryLogger('info');
  await X402.refreshSettlerBalances(X402.buildSchemes(config), new Map(), logger, true);
  const log = logger.lines.join('\n');
  const address = privateKeyToAccount(emptyKey).address;
  expect(log).toContain(address);
  expect(log).toMatch(/low on gas/);
  expect(log).not.toContain(emptyKey.slice(2));

  // The funded relayer of the running app: in /metrics once read.
  await X402.refreshSettlerBalances(m.t.runtime.x402, m.t.runtime.x402Balances, m.t.logger);
  const metrics = await m.t.call('GET', '/metrics');
  const line = metrics.text.split('\n').find((l) => l.startsWith('crochet_x402_settler_balance{'));
  expect(line).toContain(`address="${m.relayer.address}"`);
  expect(Number(line!.split(' ').at(-1))).toBeGreaterThan(1);
  expect(m.t.logger.lines.join('\n')).not.toContain(m.relayer.privateKey.slice(2));
});

test('the agent skill tells an x402-capable agent it can pay with its own client', async () => {
  const skill = await m.t.call('GET', '/SKILL.md');
  expect(skill.text).toContain('PAYMENT-SIGNATURE');
  expect(skill.text).toContain('x402');
  const protocol = await m.t.call('GET', '/.well-known/agent-protocol.json');
  expect(protocol.json.x402).toMatchObject({ version: 2, payment_header: 'PAYMENT-SIGNATURE', discovery: `${m.t.config.public_url}/discovery/resources` });
});

test('without a relayer key, or with x402 off on the route, EVM offers no x402 (the native flow is unchanged)', async () => {
  const { loadConfig } = await import('../../src/config.ts');
  const X402 = await import('../../src/modules/x402/service.ts');
  const routes = JSON.parse(m.env.CROCHET_PAYMENT_ROUTES) as Record<string, unknown>[];
  const { CROCHET_X402_EVM_RELAYER_KEY: _key, ...noKey } = m.env;
  expect(X402.buildSchemes(loadConfig({ env: { ...noKey, CROCHET_DATA_DIR: m.t.dir } })).size).toBe(0);
  const off = JSON.stringify(routes.map((r) => ({ ...r, x402: false })));
  expect(X402.buildSchemes(loadConfig({ env: { ...m.env, CROCHET_PAYMENT_ROUTES: off, CROCHET_DATA_DIR: m.t.dir } })).size).toBe(0);
  expect(X402.buildSchemes(loadConfig({ env: { ...m.env, CROCHET_DATA_DIR: m.t.dir } })).size).toBe(1);

  // The running app with its schemes taken away: a plain 402, and PAYMENT-SIGNATURE is not looked at.
  const schemes = new Map(m.t.runtime.x402);
  m.t.runtime.x402.clear();
  try {
    const res = await m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, { key: m.buyer.key, rawBody: '{"nokey":1}', headers: { 'content-type': 'application/json', 'PAYMENT-SIGNATURE': 'ignored' } });
    expect(res.status).toBe(402);
    expect(res.json.error.code).toBe('PAYMENT_REQUIRED');
    expect(res.headers.get('payment-required')).toBeNull();
  } finally {
    for (const [k, v] of schemes) m.t.runtime.x402.set(k, v);
  }
});

test('a smart-contract wallet (EIP-1271) linked to the buyer pays with the stock client', async () => {
  const { generatePrivateKey, privateKeyToAccount } = await import('viem/accounts');
  const { deploySmartWallet } = await import('../support/usdc.ts');
  const { registerAgent } = await import('../support/app.ts');
  const owner = privateKeyToAccount(generatePrivateKey());
  const { getAddress } = await import('viem');
  const wallet = getAddress(await deploySmartWallet({ rpcUrl: m.chain.rpcUrl, deployer: m.chain.accounts[0]!, owner: owner.address }));
  await m.usdc.mint(wallet, 10_000_000n);
  // The agent's wallet is the contract; its owner key signs for it (sign-in and payments alike).
  const agent = await registerAgent(m.t.call, { chain: 'evm', address: wallet, sign: (message) => owner.signMessage({ message }) }, 'Smart wallet buyer');
  const signer = { address: wallet, signTypedData: (typed: Parameters<typeof owner.signTypedData>[0]) => owner.signTypedData(typed) };
  const forwardsBefore = m.forwards();
  const res = await m.payingFetch(signer as never, agent.key)(m.listing.id, { smart: 'wallet' });
  expect(res.status).toBe(200);
  expect(decodePaymentResponseHeader(res.headers.get('PAYMENT-RESPONSE') ?? '')).toMatchObject({ success: true, payer: wallet });
  expect(await m.usdc.balanceOf(wallet)).toBe(10_000_000n - 250_000n);
  expect(m.forwards()).toBe(forwardsBefore + 1);
});
