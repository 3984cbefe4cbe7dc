// Threat: a paid call still running past its lease is forwarded again by a retry, or a lease left
// behind by a failed call keeps the buyer's retries out (SPEC §5 item 9).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { EvmVerifier } from '../../src/modules/payments/evm-verifier.ts';
import * as Payments from '../../src/modules/payments/service.ts';
import type { PaymentVerification } from '../../src/modules/payments/verification-result.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

const TX = `0x${'cd'.repeat(32)}` as const;
const ROUTE = { network: 'eip155:8453', rpc_url: 'http://127.0.0.1:1/', asset: '0x5fbdb2315678afecb367f032d93f642f64180aa3', decimals: 6, confirmations: 1, min_amount: '0', treasury: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' };
const verified: PaymentVerification = { status: 'verified', settlementKey: `eip155:8453:${TX}:0`, txRef: TX, payer: '0x1', amountAtomic: 250_000n, transferIndex: 0 };

let t: TestContext;
let deps: Payments.PaymentsDeps;
let args: Parameters<typeof Payments.authorizePaidCall>[1];
beforeAll(async () => {
  t = await createTestApp({ CROCHET_PAYMENT_ROUTES: JSON.stringify([ROUTE]) });
  const buyerId = (await registerAgent(t.call, evmWallet(), 'Buyer')).profile.id as string;
  const sellerId = (await registerAgent(t.call, evmWallet(), 'Seller')).profile.id as string;
  const evm = new Map<string, EvmVerifier>([[Payments.verifierKey(ROUTE), { headBlock: async () => 1n, verify: async () => verified }]]);
  deps = { ...t.deps, verifiers: { evm, solana: new Map() }, verifying: new Map() };
  const { intent } = await Payments.createIntent(deps, { buyerId, sellerId, listingId: 'listing-1', priceMicroUsd: 250_000, bodySha256: 'e'.repeat(64), origin: 'EVM' });
  args = { buyerId, listingId: 'listing-1', bodySha256: 'e'.repeat(64), relayRequestId: intent.id, paymentTx: TX, timeoutMs: 1_000 };
});
afterAll(() => t.close());

const lease = () => t.deps.db.sqlite.query('SELECT lease_id, lease_until FROM payment_intents WHERE id = ?').get(args.relayRequestId) as { lease_id: string | null; lease_until: string | null };

test('a call that runs past its timeout keeps its lease (renewed while it runs); released, the next retry may forward', async () => {
  const first = await Payments.authorizePaidCall(deps, args);
  if (first.kind !== 'forward') throw new Error('expected a forward');
  const taken = lease();
  expect(Date.parse(taken.lease_until!) - t.clock.now().getTime()).toBe(1_000 + Payments.FORWARD_LEASE_MARGIN_MS);
  // Time passes beyond the timeout plus the margin while the call still runs (a stalled process):
  // its renewal (every 5 s) moves the lease on, so a retry now is refused, not forwarded.
  t.clock.advance(60_000);
  await Bun.sleep(5_500);
  expect(Date.parse(lease().lease_until!)).toBe(t.clock.now().getTime() + Payments.FORWARD_LEASE_MARGIN_MS);
  await expect(Payments.authorizePaidCall(deps, args)).rejects.toMatchObject({ status: 409, code: 'PAYMENT_IN_PROGRESS' });
  // The seller failed: the lease goes with the call, and a retry forwards at once.
  first.release();
  expect(lease()).toEqual({ lease_id: null, lease_until: null });
  const retry = await Payments.authorizePaidCall(deps, { ...args, paymentTx: null });
  expect(retry.kind).toBe('forward');
  if (retry.kind === 'forward') retry.release();
}, 30_000);
