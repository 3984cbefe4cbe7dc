// Threat: a Solana payment in a Token-2022 mint that withholds a transfer fee is counted at the gross amount sent, so the seller's account receives less than the price while the call is paid.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { address, type Address, type KeyPairSigner } from '@solana/kit';
import { findAssociatedTokenPda } from '@solana-program/token';
import { newSolanaReference } from '../../src/modules/payments/reference.ts';
import { createSolanaVerifier } from '../../src/modules/payments/solana-verifier.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { payUsdcSolana } from '../support/solana-pay.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

const FEE_BASIS_POINTS = 100; // 1 %
const TOKEN_2022 = address('TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb');
let m: PaidMarket;
let feeMint: Address;
let buyer: KeyPairSigner;
beforeAll(async () => {
  m = await startPaidMarket({
    solanaAsset: async (sol) => (feeMint = await sol.createTransferFeeMint({ basisPoints: FEE_BASIS_POINTS, maximumFee: 10n ** 12n })),
  });
  buyer = await m.sol.createFundedWallet(100_000_000n, feeMint);
});
afterAll(() => m?.stop());

/** What Token-2022 withholds from a transfer of `gross` (rounded up, as the program does). */
const feeOf = (gross: bigint) => (gross * BigInt(FEE_BASIS_POINTS) + 9_999n) / 10_000n;

test('the price sent gross arrives short: 402 PAYMENT_INSUFFICIENT; sending enough to net the price settles', async () => {
  const raw = '{"fee-mint":true}';
  const offer = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'SOL' });
  expect(offer.status).toBe(402);
  const route = offer.json.payment.routes[0];
  expect(route.asset).toBe(feeMint);
  const relay = offer.json.payment.relay_request_id as string;
  const price = BigInt(route.amount_atomic);
  const payTo = address(route.pay_to);
  const pay = (amountAtomic: bigint) =>
    payUsdcSolana({ rpc: m.sol.rpc, payer: buyer, mint: feeMint, payToOwner: payTo, amountAtomic, decimals: 6, reference: address(route.reference) });

  // The TransferChecked says `price`; the recipient's account gets price − fee.
  await pay(price);
  expect(await m.sol.tokenBalance(payTo, feeMint)).toBe(price - feeOf(price));
  const before = m.stub.calls.length;
  const short = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(short.status).toBe(402);
  expect(short.json.error.code).toBe('PAYMENT_INSUFFICIENT');
  expect(short.json.error.message).toContain(`received ${price - feeOf(price)} of the ${price}`);
  expect(m.stub.calls.length).toBe(before);
  expect(m.t.deps.db.sqlite.query('SELECT count(*) AS n FROM payment_settlements WHERE intent_id = ?').get(relay)).toEqual({ n: 0 });

  // The smallest gross amount whose net is the price.
  let gross = price;
  while (gross - feeOf(gross) < price) gross++;
  await pay(gross);
  const ok = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(ok.status).toBe(200);
  expect(m.stub.calls.length).toBe(before + 1);
  const settled = m.t.deps.db.sqlite.query('SELECT amount_atomic FROM payment_settlements WHERE intent_id = ?').all(relay);
  expect(settled).toEqual([{ amount_atomic: (gross - feeOf(gross)).toString() }]);
});

test('a node whose reply lacks token balances gets a retryable 503, never a payment counted at the gross amount', async () => {
  // An RPC in front of the chain that drops the token balances from every transaction's meta.
  const proxy = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const upstream = await fetch(m.sol.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if ((JSON.parse(body) as { method: string }).method !== 'getTransaction') return upstream;
      const reply = (await upstream.json()) as { result: { meta: Record<string, unknown> } | null };
      if (reply.result) Object.assign(reply.result.meta, { preTokenBalances: null, postTokenBalances: null });
      return Response.json(reply);
    },
  });
  try {
    const route = { network: m.sol.network, rpcUrl: `http://127.0.0.1:${proxy.port}`, mint: feeMint, decimals: 6, commitment: 'finalized' as const };
    const reference = address(newSolanaReference());
    const payTo = address(m.treasury.solana);
    const signature = await payUsdcSolana({ rpc: m.sol.rpc, payer: buyer, mint: feeMint, payToOwner: payTo, amountAtomic: 1_000_000n, decimals: 6, reference });
    expect((await m.sol.rpc.getTransaction(signature, { encoding: 'json', maxSupportedTransactionVersion: 0 }).send())?.meta?.postTokenBalances?.length).toBeGreaterThan(0);
    const error = await createSolanaVerifier(route).verify({ reference, payToOwner: payTo, amountAtomic: 250_000n }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'PAYMENT_RPC_UNAVAILABLE' });
  } finally {
    proxy.stop(true);
  }
});

test('the test RPC reports token balances as a validator does: the fee withheld shows in the recipient’s post balance', async () => {
  const payTo = address(m.treasury.solana);
  const [ata] = await findAssociatedTokenPda({ owner: payTo, mint: feeMint, tokenProgram: TOKEN_2022 });
  const send = (amountAtomic: bigint) => payUsdcSolana({ rpc: m.sol.rpc, payer: buyer, mint: feeMint, payToOwner: payTo, amountAtomic, decimals: 6 });
  await send(1_000n); // the recipient's token account exists before the transfer under test
  const before = await m.sol.tokenBalance(payTo, feeMint);
  const signature = await send(500_000n);
  const tx = await m.sol.rpc.getTransaction(signature, { encoding: 'json', maxSupportedTransactionVersion: 0 }).send();
  const accountIndex = tx?.transaction.message.accountKeys.indexOf(ata) ?? -1;
  expect(accountIndex).toBeGreaterThan(0);
  const entry = (b: { accountIndex: number }) => b.accountIndex === accountIndex;
  expect(tx?.meta?.preTokenBalances?.find(entry)).toMatchObject({ mint: feeMint, owner: payTo, programId: TOKEN_2022, uiTokenAmount: { amount: before.toString(), decimals: 6 } });
  const arrived = before + 500_000n - feeOf(500_000n);
  expect(tx?.meta?.postTokenBalances?.find(entry)).toMatchObject({ mint: feeMint, owner: payTo, programId: TOKEN_2022, uiTokenAmount: { amount: arrived.toString(), decimals: 6 } });
});
