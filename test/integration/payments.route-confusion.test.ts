// Threat: with two payment routes on one network, a transfer is checked against the other route's token and amount, so dust of one token pays a price set in another.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { startAnvil, type AnvilAccount, type AnvilChain } from '../support/anvil.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { deployTestToken, type TestToken } from '../support/usdc.ts';
import { evmWallet } from '../support/wallets.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let chain: AnvilChain;
let usdc: TestToken;
let wei: TestToken;
let buyerAccount: AnvilAccount;
let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
let buyerKey: string;
let listingId: string;

beforeAll(async () => {
  chain = await startAnvil();
  const [deployer, buyer, , , , , , , , treasury] = chain.accounts;
  if (!deployer || !buyer || !treasury) throw new Error('anvil has too few accounts');
  buyerAccount = buyer;
  usdc = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer });
  // A second stablecoin on the same chain, with 18 decimals (like DAI).
  wei = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer, name: 'Wei Dollar', symbol: 'WEID' });
  await usdc.mint(buyer.address, 1_000_000_000n);
  await wei.mint(buyer.address, 10n ** 24n);
  const network = `eip155:${chain.chainId}`;
  const route = (asset: Hex, decimals: number) => ({ network, rpc_url: chain.rpcUrl, asset, decimals, confirmations: 1, min_amount: '0', treasury: treasury.address });
  t = await createTestApp({
    CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
    CROCHET_PAYMENT_ROUTES: JSON.stringify([route(usdc.address, 6), route(wei.address, 18)]),
  });
  stub = startSellerStub({ routes: { '/paid': () => Response.json({ served: true }) } });
  const seller = await registerAgent(t.call, evmWallet(), 'Seller');
  buyerKey = (await registerAgent(t.call, evmWallet(buyer.privateKey), 'Buyer')).key;
  listingId = (await createListing(t.call, seller.key, { pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: stub.url('/paid') })).id;
});
afterAll(async () => {
  stub?.stop();
  await t?.close();
  await chain?.stop();
});

const call = (raw: string, headers: Record<string, string> = {}) =>
  t.call('POST', `/api/v1/gateway/${listingId}`, { rawBody: raw, key: buyerKey, headers: { 'content-type': 'application/json', ...headers } });

async function intent(raw: string) {
  const res = await call(raw);
  expect(res.status).toBe(402);
  const routes = res.json.payment.routes as { asset: string; amount_atomic: string; pay_to: Hex }[];
  expect(routes.map((r) => [r.asset.toLowerCase(), r.amount_atomic])).toEqual([
    [usdc.address.toLowerCase(), '250000'],
    [wei.address.toLowerCase(), '250000000000000000'],
  ]);
  return { relay: res.json.payment.relay_request_id as string, payTo: routes[0]!.pay_to };
}

test('250000 atomic units of the 18-decimal token (0.00000000000025 of it) do not pay a 0.25 USD call', async () => {
  const raw = '{"q":"dust"}';
  const { relay, payTo } = await intent(raw);
  const tx = await wei.transfer(buyerAccount, payTo, 250_000n);
  const before = stub.calls.length;
  const res = await call(raw, { 'x-crochet-relay-request-id': relay, 'x-crochet-payment-tx': tx });
  expect(res.status).toBe(402);
  expect(['PAYMENT_INSUFFICIENT', 'PAYMENT_WRONG_ASSET']).toContain(res.json.error.code);
  expect(stub.calls.length).toBe(before);
  expect(t.deps.db.sqlite.query('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?').get(relay)).toEqual({ n: 0 });
});

test('each route accepts its own token at its own amount', async () => {
  for (const [token, amount, raw] of [[usdc, 250_000n, '{"q":"usdc"}'], [wei, 250_000n * 10n ** 12n, '{"q":"weid"}']] as const) {
    const { relay, payTo } = await intent(raw);
    const tx = await token.transfer(buyerAccount, payTo, amount);
    const res = await call(raw, { 'x-crochet-relay-request-id': relay, 'x-crochet-payment-tx': tx });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ served: true });
  }
});
