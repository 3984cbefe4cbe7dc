// Threat: a buyer gets a paid call forwarded with an EVM transaction that does not really pay for it (failed, wrong token, wrong recipient, someone else's wallet, too small, replayed from before the intent, or not yet final).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import { AppError } from '../../src/shared/app-error.ts';
import { createEvmVerifier, type EvmVerifier } from '../../src/modules/payments/evm-verifier.ts';
import { startAnvil, type AnvilAccount, type AnvilChain } from '../support/anvil.ts';
import { deployTestToken, payUsdcEvm, type TestToken } from '../support/usdc.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

const PRICE = 250_000n; // 0.25 USDC
let chain: AnvilChain;
let usdc: TestToken;
let wrongToken: TestToken;
let buyer: AnvilAccount;
let unlinked: AnvilAccount;
let payTo: Hex;
let stranger: Hex;
let network: string;
let verifier: EvmVerifier;
let afterBlock: bigint;

beforeAll(async () => {
  chain = await startAnvil();
  const [deployer, b, u, p, s] = chain.accounts;
  if (!deployer || !b || !u || !p || !s) throw new Error('anvil has too few accounts');
  [buyer, unlinked, payTo, stranger] = [b, u, p.address, s.address];
  usdc = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer });
  wrongToken = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer, name: 'Wrong Token', symbol: 'WRONG' });
  await usdc.mint(buyer.address, 100_000_000n);
  await usdc.mint(unlinked.address, 100_000_000n);
  await wrongToken.mint(buyer.address, 100_000_000n);
  network = `eip155:${chain.chainId}`;
  verifier = createEvmVerifier({ network, rpcUrl: chain.rpcUrl, asset: usdc.address, decimals: 6, confirmations: 1 });
  // As the gateway does when it creates the intent: every payment below is mined after this.
  afterBlock = await verifier.headBlock();
});

afterAll(async () => {
  await chain?.stop();
});

/** Verify as the buyer whose linked wallet is `buyer` and who owes PRICE to `payTo`. */
function verify(txHash: Hex, overrides: { amountAtomic?: bigint; afterBlock?: bigint; v?: EvmVerifier } = {}) {
  return (overrides.v ?? verifier).verify({
    txHash,
    payTo,
    amountAtomic: overrides.amountAtomic ?? PRICE,
    buyerWallets: [buyer.address],
    afterBlock: overrides.afterBlock ?? afterBlock,
  });
}

describe('EVM payment verifier', () => {
  test('a transfer of the asset to pay_to from a linked wallet is verified', async () => {
    const txHash = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE });
    // Addresses compare case-insensitively: the stored forms may differ from the log's.
    const result = await verifier.verify({
      txHash,
      payTo: payTo.toUpperCase().replace('0X', '0x'),
      amountAtomic: PRICE,
      buyerWallets: [buyer.address.toLowerCase()],
      afterBlock,
    });
    expect(result).toEqual({
      status: 'verified',
      settlementKey: `${network}:${txHash.toLowerCase()}:0`,
      txRef: txHash.toLowerCase(),
      payer: buyer.address,
      amountAtomic: PRICE,
      transferIndex: 0,
    });
  });

  test('paying more than the price is accepted and reports the amount paid', async () => {
    const txHash = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE + 1n });
    const result = await verify(txHash);
    expect(result.status).toBe('verified');
    if (result.status === 'verified') expect(result.amountAtomic).toBe(PRICE + 1n);
  });

  test('the settlement key is the same for the same transfer and differs between transfers', async () => {
    const first = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE });
    const second = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE });
    const [a, b, c] = await Promise.all([verify(first), verify(first), verify(second)]);
    if (a.status !== 'verified' || b.status !== 'verified' || c.status !== 'verified') {
      throw new Error('expected three verified results');
    }
    expect(a.settlementKey).toBe(b.settlementKey);
    expect(c.settlementKey).not.toBe(a.settlementKey);
  });

  test('a reverted transaction is PAYMENT_TX_FAILED', async () => {
    // More than the balance: the token reverts. A fixed gas limit gets it mined anyway.
    const txHash = await usdc.transfer(buyer, payTo, 10n ** 15n, { gas: 100_000n });
    expect(await verify(txHash)).toMatchObject({ status: 'rejected', code: 'PAYMENT_TX_FAILED', txRef: txHash });
  });

  test('a transfer of another token is PAYMENT_WRONG_ASSET', async () => {
    const txHash = await payUsdcEvm({ token: wrongToken, buyer, payTo, amountAtomic: PRICE });
    expect(await verify(txHash)).toMatchObject({ status: 'rejected', code: 'PAYMENT_WRONG_ASSET' });
  });

  test('a transfer to another address is PAYMENT_WRONG_RECIPIENT', async () => {
    const txHash = await payUsdcEvm({ token: usdc, buyer, payTo: stranger, amountAtomic: PRICE });
    expect(await verify(txHash)).toMatchObject({ status: 'rejected', code: 'PAYMENT_WRONG_RECIPIENT' });
  });

  test("a transfer from a wallet not linked to the buyer is PAYMENT_PAYER_NOT_LINKED", async () => {
    const txHash = await payUsdcEvm({ token: usdc, buyer: unlinked, payTo, amountAtomic: PRICE });
    expect(await verify(txHash)).toMatchObject({ status: 'rejected', code: 'PAYMENT_PAYER_NOT_LINKED' });
  });

  test('a transfer below the price is PAYMENT_INSUFFICIENT', async () => {
    const txHash = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE - 1n });
    expect(await verify(txHash)).toMatchObject({ status: 'rejected', code: 'PAYMENT_INSUFFICIENT' });
  });

  test('a payment mined before the intent was created is PAYMENT_TX_TOO_OLD', async () => {
    const txHash = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE });
    const laterIntentHead = await verifier.headBlock();
    expect(await verify(txHash, { afterBlock: laterIntentHead })).toMatchObject({
      status: 'rejected',
      code: 'PAYMENT_TX_TOO_OLD',
    });
    // The same transfer still pays for an intent created before it was mined.
    expect((await verify(txHash, { afterBlock: laterIntentHead - 1n })).status).toBe('verified');
  });

  test('an unknown transaction hash is not_found', async () => {
    expect(await verify(`0x${'ab'.repeat(32)}`)).toEqual({ status: 'not_found' });
  });

  test('a mined payment is pending until it has the route confirmations, then verified', async () => {
    const threeConfirmations = createEvmVerifier({
      network,
      rpcUrl: chain.rpcUrl,
      asset: usdc.address,
      decimals: 6,
      confirmations: 3,
    });
    const txHash = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE });
    expect(await verify(txHash, { v: threeConfirmations })).toMatchObject({ status: 'pending', txRef: txHash });
    await chain.mine(1);
    expect((await verify(txHash, { v: threeConfirmations })).status).toBe('pending');
    await chain.mine(1);
    expect((await verify(txHash, { v: threeConfirmations })).status).toBe('verified');
  });

  test('a transaction still in the mempool is pending, then verified once mined', async () => {
    await chain.setAutomine(false);
    try {
      const txHash = await usdc.transfer(buyer, payTo, PRICE, { noWait: true });
      const pending = await verify(txHash);
      expect(pending).toMatchObject({ status: 'pending', txRef: txHash });
      if (pending.status === 'pending') expect(pending.retryAfterSeconds).toBeGreaterThan(0);
      await chain.mine(1);
      expect((await verify(txHash)).status).toBe('verified');
    } finally {
      await chain.setAutomine(true);
    }
  });

  test('headBlock reads the chain head uncached', async () => {
    const before = await verifier.headBlock();
    await chain.mine(1);
    expect(await verifier.headBlock()).toBe(before + 1n);
  });

  test('a malformed transaction hash is a 400 PAYMENT_TX_INVALID', async () => {
    const error = await verify('0x1234').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: 'PAYMENT_TX_INVALID' });
  });

  test('an RPC serving another chain is refused rather than trusted', async () => {
    const mainnet = createEvmVerifier({ network: 'eip155:1', rpcUrl: chain.rpcUrl, asset: usdc.address, decimals: 6, confirmations: 1 });
    const txHash = await payUsdcEvm({ token: usdc, buyer, payTo, amountAtomic: PRICE });
    await expect(verify(txHash, { v: mainnet })).rejects.toThrow('rpc_url serves chain 31337');
  });

  test('an unreachable RPC is a retryable 503 that does not reveal the RPC URL', async () => {
    const down = createEvmVerifier({ network, rpcUrl: 'http://127.0.0.1:9/rpc-secret', asset: usdc.address, decimals: 6, confirmations: 1 });
    const error = await verify(`0x${'cd'.repeat(32)}`, { v: down }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'PAYMENT_RPC_UNAVAILABLE' });
    expect(JSON.stringify({ message: (error as AppError).message, recovery: (error as AppError).recovery })).not.toContain('rpc-secret');
  });
});
