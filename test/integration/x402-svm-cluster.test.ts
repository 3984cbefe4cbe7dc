// Threat: a Solana route on a cluster stock x402 clients do not know offers an x402 payment no
// client can make (or the native flow breaks when x402 is configured).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { address } from '@solana/kit';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { payUsdcSolana } from '../support/solana-pay.ts';
import { PRIVATE_CLUSTER_GENESIS_HASH } from '../support/solana-rpc.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { newFeePayerSecret } from '../support/x402-svm.ts';

allowSlowSetup();

let m: PaidMarket;
beforeAll(async () => {
  const feePayer = await newFeePayerSecret();
  m = await startPaidMarket({ solanaGenesisHash: PRIVATE_CLUSTER_GENESIS_HASH, env: { CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret } });
  m.sol.ledger.fund(feePayer.address, 1_000_000_000n);
  await m.sol.mintTo(m.treasury.solana, 0n);
});
afterAll(() => m.stop());

test('a Solana route on a private cluster: no PAYMENT-REQUIRED offer, the native Solana flow unchanged', async () => {
  expect(m.sol.network).toBe(`solana:${PRIVATE_CLUSTER_GENESIS_HASH.slice(0, 32)}`);
  const raw = JSON.stringify({ q: 'private cluster' });
  const res = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'SOL' });
  expect(res.status).toBe(402);
  expect(res.headers.get('PAYMENT-REQUIRED')).toBeNull();
  const route = res.json.payment.routes[0];
  expect(route.network).toBe(m.sol.network);
  const wallet = await m.sol.createFundedWallet(1_000_000n);
  await payUsdcSolana({ rpc: m.sol.rpc, payer: wallet, mint: m.sol.mint, payToOwner: address(route.pay_to), amountAtomic: 250_000n, decimals: 6, reference: address(route.reference) });
  const done = await m.call(m.listing.id, raw, m.buyer.key, { relay: res.json.payment.relay_request_id });
  expect(done.status).toBe(200);
  expect(done.json).toMatchObject({ answer: 42 });
});
