import { afterAll, beforeAll, expect, test } from 'bun:test';
import { generateKeyPairSigner, getBase64Encoder, getCompiledTransactionMessageDecoder, getTransactionDecoder, type KeyPairSigner } from '@solana/kit';
import { x402Client, wrapFetchWithPayment } from '@x402/fetch';
import {
  decodePaymentResponseHeader,
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { MEMO_PROGRAM_ADDRESS, SOLANA_DEVNET_CAIP2 } from '@x402/svm';
import { ExactSvmScheme as ExactSvmClient } from '@x402/svm/exact/client';
import { ExactSvmScheme as ExactSvmFacilitator } from '@x402/svm/exact/facilitator';
import { createSvmFeePayer, loadedKey, type SvmFeePayer } from '../../src/modules/x402/svm/fee-payer.ts';
import { startSolanaRpc, type SolanaTestChain } from '../support/solana-rpc.ts';

/**
 * The stock x402 Solana client (`@x402/fetch` + `@x402/svm`'s exact scheme, configured as its
 * README shows, with the buyer's own RPC URL) against the LiteSVM test RPC: it must build a payment
 * the stock facilitator code accepts with Crochet's kit-built fee payer, and that settles on chain.
 * A tiny resource server stands in for Crochet here; the gateway's own tests use the real one.
 */
let chain: SolanaTestChain;
let buyer: KeyPairSigner;
let seller: KeyPairSigner;
let feePayerKey: KeyPairSigner;
let feePayer: SvmFeePayer;
let server: ReturnType<typeof Bun.serve>;
const PRICE_ATOMIC = 1_250_000n;
const MEMO = 'rly_0123456789abcdef';
const seen: { payload?: PaymentPayload; verify?: unknown; settle?: unknown; calls: number } = { calls: 0 };

beforeAll(async () => {
  chain = await startSolanaRpc();
  buyer = await chain.createFundedWallet(5_000_000n);
  seller = await generateKeyPairSigner();
  await chain.mintTo(seller.address, 0n); // the seller's token account exists
  feePayerKey = await generateKeyPairSigner();
  chain.ledger.fund(feePayerKey.address, 1_000_000_000n);
  feePayer = createSvmFeePayer(loadedKey(feePayerKey), [{ network: chain.network, rpcUrl: chain.rpcUrl, commitment: 'finalized' }]);
  const facilitator = new ExactSvmFacilitator(feePayer);

  const requirements = (): PaymentRequirements => ({
    scheme: 'exact',
    network: chain.network as PaymentRequirements['network'],
    amount: PRICE_ATOMIC.toString(),
    asset: chain.mint,
    payTo: seller.address,
    maxTimeoutSeconds: 60,
    extra: { feePayer: feePayerKey.address, memo: MEMO },
  });

  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => {
      seen.calls += 1;
      const header = request.headers.get('PAYMENT-SIGNATURE');
      if (!header) {
        const required = { x402Version: 2, resource: { url: request.url, description: 'test', mimeType: 'application/json' }, accepts: [requirements()] };
        return Response.json({ error: 'payment required' }, { status: 402, headers: { 'PAYMENT-REQUIRED': encodePaymentRequiredHeader(required) } });
      }
      const payload = decodePaymentSignatureHeader(header);
      seen.payload = payload;
      seen.verify = await facilitator.verify(payload, requirements());
      const settled = await facilitator.settle(payload, requirements());
      seen.settle = settled;
      if (!settled.success) return Response.json({ error: settled.errorReason }, { status: 402 });
      return Response.json({ ok: true }, { headers: { 'PAYMENT-RESPONSE': encodePaymentResponseHeader(settled) } });
    },
  });
});

/** As a buyer sets it up: its key, its RPC, and the (non-default) asset it agrees to pay in. */
function stockClient(): x402Client {
  const client = new x402Client();
  client.register('solana:*', new ExactSvmClient(buyer, { rpcUrl: chain.rpcUrl }));
  client.setSpendControls({ allowedAssets: [{ network: chain.network as PaymentRequirements['network'], asset: chain.mint, maxAmountPerPayment: '10000000' }] });
  return client;
}

afterAll(async () => {
  await server?.stop(true);
  await chain?.stop();
});

test('the test chain carries the devnet CAIP-2 id, the only kind a stock client pays on', () => {
  expect(chain.network).toBe(SOLANA_DEVNET_CAIP2);
});

test('stock wrapped fetch pays a Solana offer; the stock facilitator verifies and settles it with our fee payer', async () => {
  const client = stockClient();
  const pay = wrapFetchWithPayment(fetch, client);
  const buyerBefore = await chain.tokenBalance(buyer.address);
  const feePayerLamportsBefore = await feePayer.balance(chain.network);

  const response = await pay(`http://127.0.0.1:${server.port}/paid`);

  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ ok: true });
  expect(seen.calls).toBe(2);
  expect(seen.verify).toEqual({ isValid: true, invalidReason: undefined, payer: buyer.address });
  const settle = decodePaymentResponseHeader(response.headers.get('PAYMENT-RESPONSE') ?? '');
  expect(settle).toMatchObject({ success: true, network: chain.network, payer: buyer.address });

  // The payload is what the exact scheme promises: compute budget ×2, TransferChecked, our memo;
  // the fee payer is the transaction's fee payer and nothing else.
  const wire = getBase64Encoder().encode((seen.payload?.payload as { transaction: string }).transaction);
  const compiled = getCompiledTransactionMessageDecoder().decode(getTransactionDecoder().decode(wire).messageBytes);
  if (compiled.version !== 0) throw new Error(`expected a v0 transaction, got ${compiled.version}`);
  expect(compiled.staticAccounts[0]).toBe(feePayerKey.address);
  const programs: string[] = compiled.instructions.map((ix) => compiled.staticAccounts[ix.programAddressIndex] ?? '');
  expect(programs).toEqual([
    'ComputeBudget111111111111111111111111111111',
    'ComputeBudget111111111111111111111111111111',
    'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA',
    MEMO_PROGRAM_ADDRESS,
  ]);
  expect(new TextDecoder().decode(compiled.instructions[3]?.data)).toBe(MEMO);
  expect(compiled.instructions.every((ix) => !(ix.accountIndices ?? []).includes(0))).toBe(true);

  // Settled on chain: exactly the price moved; only fees came out of the fee payer.
  const landed = chain.ledger.find(settle.transaction);
  expect(landed?.err).toBeNull();
  expect(landed?.level).toBe('finalized');
  expect(await chain.tokenBalance(seller.address)).toBe(PRICE_ATOMIC);
  expect(buyerBefore - (await chain.tokenBalance(buyer.address))).toBe(PRICE_ATOMIC);
  expect(feePayerLamportsBefore - (await feePayer.balance(chain.network))).toBe(landed?.fee ?? -1n);
});

test('the fee payer waits for the route commitment and reports pending at the deadline', async () => {
  chain.setCommitmentMode('processed');
  try {
    const client = stockClient();
    const payload = await client.createPaymentPayload({
      x402Version: 2,
      resource: { url: 'http://x/paid', description: '', mimeType: '' },
      accepts: [{ scheme: 'exact', network: chain.network as PaymentRequirements['network'], amount: '1000', asset: chain.mint, payTo: seller.address, maxTimeoutSeconds: 60, extra: { feePayer: feePayerKey.address, memo: 'rly_pending' } }],
    });
    const signed = await feePayer.signTransaction((payload.payload as { transaction: string }).transaction, feePayerKey.address, chain.network);
    const signature = await feePayer.sendTransaction(signed, chain.network);
    expect(await feePayer.waitForCommitment(signature, chain.network, Date.now() + 300)).toEqual({ status: 'pending' });
    chain.confirm(signature);
    expect(await feePayer.waitForCommitment(signature, chain.network, Date.now() + 300)).toEqual({ status: 'pending' });
    chain.finalize(signature);
    expect(await feePayer.waitForCommitment(signature, chain.network, Date.now() + 300)).toEqual({ status: 'confirmed' });
  } finally {
    chain.setCommitmentMode('finalized');
  }
});
