// Threat: one payment route's RPC outage blocks a valid payment made on another route, so the buyer's money is never settled.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import * as Payments from '../../src/modules/payments/service.ts';
import type { EvmVerifier } from '../../src/modules/payments/evm-verifier.ts';
import { paymentRpcUnavailable, type PaymentVerification } from '../../src/modules/payments/verification-result.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

const TX = `0x${'ab'.repeat(32)}` as const;
const route = (chainId: number) => ({
  network: `eip155:${chainId}`,
  rpc_url: `http://127.0.0.1:1/${chainId}`,
  asset: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
  decimals: 6,
  confirmations: 1,
  min_amount: '0',
  treasury: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
});

let t: TestContext;
let buyerId: string;
let sellerId: string;
beforeAll(async () => {
  t = await createTestApp({ CROCHET_PAYMENT_ROUTES: JSON.stringify([route(8453), route(10)]) });
  buyerId = (await registerAgent(t.call, evmWallet(), 'Buyer')).profile.id;
  sellerId = (await registerAgent(t.call, evmWallet(), 'Seller')).profile.id;
});
afterAll(() => t.close());

/** Payment deps whose chain verifiers answer as told, instead of asking an RPC. */
function depsWith(verdicts: Record<string, () => Promise<PaymentVerification>>): Payments.PaymentsDeps {
  const evm = new Map<string, EvmVerifier>();
  for (const [network, verify] of Object.entries(verdicts)) evm.set(Payments.verifierKey({ network, asset: route(0).asset }), { headBlock: async () => 100n, verify });
  return { ...t.deps, verifiers: { evm, solana: new Map() }, verifying: new Map() };
}

async function intentFor(deps: Payments.PaymentsDeps, body: string) {
  const { intent } = await Payments.createIntent(deps, { buyerId, sellerId, listingId: 'listing-1', priceMicroUsd: 250_000, bodySha256: body, origin: 'EVM' });
  expect(intent.routes.map((r) => r.network)).toEqual(['eip155:8453', 'eip155:10']);
  return intent;
}

const verified: PaymentVerification = { status: 'verified', settlementKey: `eip155:8453:${TX}:0`, txRef: TX, payer: '0x1', amountAtomic: 250_000n, transferIndex: 0 };
const down = async (): Promise<PaymentVerification> => {
  throw paymentRpcUnavailable(new Error('connection refused'));
};

test('a payment verified on one route settles and forwards while another route is unreachable', async () => {
  const deps = depsWith({ 'eip155:8453': async () => verified, 'eip155:10': down });
  const intent = await intentFor(deps, 'a'.repeat(64));
  const decision = await Payments.authorizePaidCall(deps, { buyerId, listingId: 'listing-1', bodySha256: 'a'.repeat(64), relayRequestId: intent.id, paymentTx: TX });
  expect(decision.kind).toBe('forward');
  expect(decision.intent.status).toBe('settled');
  expect(decision.intent.settledNetwork).toBe('eip155:8453');
  if (decision.kind === 'forward') decision.release();
});

test('with nothing found on the reachable route, the outage is reported (retryable 503), not "not found"', async () => {
  const deps = depsWith({ 'eip155:8453': async () => ({ status: 'not_found' }), 'eip155:10': down });
  const intent = await intentFor(deps, 'b'.repeat(64));
  const attempt = Payments.authorizePaidCall(deps, { buyerId, listingId: 'listing-1', bodySha256: 'b'.repeat(64), relayRequestId: intent.id, paymentTx: TX });
  await expect(attempt).rejects.toMatchObject({ status: 503, code: 'PAYMENT_RPC_UNAVAILABLE' });
});
