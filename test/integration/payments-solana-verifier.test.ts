// Threat: a buyer gets a paid call forwarded with a Solana transaction that does not really pay for this intent (failed, wrong mint, wrong recipient, no reference, too small, not final), or a third party spoils a payment by spamming its public reference key.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { address, generateKeyPairSigner, getBase58Decoder, isAddress, type Address, type KeyPairSigner, type Signature } from '@solana/kit';
import { AppError } from '../../src/shared/app-error.ts';
import { newSolanaReference } from '../../src/modules/payments/reference.ts';
import type { PaymentVerification } from '../../src/modules/payments/verification-result.ts';
import { createSolanaVerifier, type SolanaVerifier } from '../../src/modules/payments/solana-verifier.ts';
import { payUsdcSolana, type PayUsdcSolanaArgs } from '../support/solana-pay.ts';
import { STATUS_CACHE_SLOTS } from '../support/solana-rpc-methods.ts';
import { startSolanaRpc, type SolanaTestChain } from '../support/solana-rpc.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

const PRICE = 250_000n; // 0.25 USDC
let chain: SolanaTestChain;
let buyer: KeyPairSigner;
let wrongMint: Address;
let payTo: Address;
let stranger: Address;
let verifier: SolanaVerifier; // settles at `finalized`
let confirmedVerifier: SolanaVerifier;

beforeAll(async () => {
  chain = await startSolanaRpc();
  buyer = await chain.createFundedWallet(100_000_000n);
  wrongMint = await chain.createMint(6);
  await chain.mintTo(buyer.address, 100_000_000n, wrongMint);
  payTo = (await generateKeyPairSigner()).address;
  stranger = (await generateKeyPairSigner()).address;
  const route = { network: chain.network, rpcUrl: chain.rpcUrl, mint: chain.mint, decimals: 6 };
  verifier = createSolanaVerifier({ ...route, commitment: 'finalized' });
  confirmedVerifier = createSolanaVerifier({ ...route, commitment: 'confirmed' });
});

afterAll(async () => {
  await chain?.stop();
});

function freshReference(): Address {
  return address(newSolanaReference());
}

/** The buyer pays PRICE of the route's mint to payTo carrying `reference`, unless overridden. */
function pay(overrides: Partial<PayUsdcSolanaArgs> = {}) {
  return payUsdcSolana({
    rpc: chain.rpc,
    payer: buyer,
    mint: chain.mint,
    payToOwner: payTo,
    amountAtomic: PRICE,
    decimals: 6,
    ...overrides,
  });
}

function verify(reference: string, signature?: string, v: SolanaVerifier = verifier) {
  return v.verify({ reference, payToOwner: payTo, amountAtomic: PRICE, ...(signature ? { signature } : {}) });
}

describe('Solana payment verifier', () => {
  test('a TransferChecked to pay_to carrying the reference is verified, found by reference or by signature', async () => {
    const reference = freshReference();
    const signature = await pay({ reference });
    const expected: PaymentVerification = {
      status: 'verified',
      // Instruction 0 creates pay_to's token account; the transfer is instruction 1.
      settlementKey: `${chain.network}:${signature}:1`,
      txRef: signature,
      payer: buyer.address,
      amountAtomic: PRICE,
      transferIndex: 1,
    };
    expect(await verify(reference)).toEqual(expected);
    expect(await verify(reference, signature)).toEqual(expected);
    expect(await chain.tokenBalance(payTo)).toBeGreaterThanOrEqual(PRICE);
  });

  test('paying more than the price is accepted and reports the amount paid', async () => {
    const reference = freshReference();
    await pay({ reference, amountAtomic: PRICE + 1n });
    const result = await verify(reference);
    expect(result.status).toBe('verified');
    if (result.status === 'verified') expect(result.amountAtomic).toBe(PRICE + 1n);
  });

  test('the settlement key is the same for the same transfer and differs between transfers', async () => {
    const [r1, r2] = [freshReference(), freshReference()];
    const s1 = await pay({ reference: r1 });
    await pay({ reference: r2 });
    const [a, b, c] = await Promise.all([verify(r1), verify(r1, s1), verify(r2)]);
    if (a.status !== 'verified' || b.status !== 'verified' || c.status !== 'verified') {
      throw new Error('expected three verified results');
    }
    expect(a.settlementKey).toBe(b.settlementKey);
    expect(c.settlementKey).not.toBe(a.settlementKey);
  });

  test('a transaction that landed with an error is PAYMENT_TX_FAILED', async () => {
    const reference = freshReference();
    // More than the balance, sent without preflight: it lands on chain with meta.err set.
    const signature = await pay({ reference, amountAtomic: 10n ** 12n, skipPreflight: true });
    expect(chain.ledger.find(signature)?.err).not.toBeNull();
    expect(await verify(reference)).toMatchObject({ status: 'rejected', code: 'PAYMENT_TX_FAILED', txRef: signature });
    expect(await verify(reference, signature)).toMatchObject({ status: 'rejected', code: 'PAYMENT_TX_FAILED' });
  });

  test('a transfer of another mint is PAYMENT_WRONG_ASSET', async () => {
    const reference = freshReference();
    await pay({ reference, mint: wrongMint });
    expect(await verify(reference)).toMatchObject({ status: 'rejected', code: 'PAYMENT_WRONG_ASSET' });
  });

  test("a transfer into another wallet's token account is PAYMENT_WRONG_RECIPIENT", async () => {
    const reference = freshReference();
    await pay({ reference, payToOwner: stranger });
    expect(await verify(reference)).toMatchObject({ status: 'rejected', code: 'PAYMENT_WRONG_RECIPIENT' });
  });

  test('a given signature whose transfer lacks the reference is PAYMENT_REFERENCE_MISSING', async () => {
    const signature = await pay();
    expect(await verify(freshReference(), signature)).toMatchObject({
      status: 'rejected',
      code: 'PAYMENT_REFERENCE_MISSING',
      txRef: signature,
    });
  });

  test('a transfer below the price is PAYMENT_INSUFFICIENT', async () => {
    const reference = freshReference();
    await pay({ reference, amountAtomic: PRICE - 1n });
    expect(await verify(reference)).toMatchObject({ status: 'rejected', code: 'PAYMENT_INSUFFICIENT' });
  });

  test('an unused reference and an unknown signature are not_found', async () => {
    expect(await verify(freshReference())).toEqual({ status: 'not_found' });
    const unknownSignature = getBase58Decoder().decode(new Uint8Array(64).fill(7));
    expect(await verify(freshReference(), unknownSignature)).toEqual({ status: 'not_found' });
  });

  test('a payment confirmed but not finalized is pending, then verified once finalized', async () => {
    chain.setCommitmentMode('confirmed');
    try {
      const reference = freshReference();
      const signature = await pay({ reference });
      const pending = await verify(reference);
      expect(pending).toMatchObject({ status: 'pending', txRef: signature });
      if (pending.status === 'pending') expect(pending.retryAfterSeconds).toBeGreaterThan(0);
      // A route that settles at `confirmed` accepts it already.
      expect((await verify(reference, undefined, confirmedVerifier)).status).toBe('verified');
      chain.finalize(signature);
      expect((await verify(reference)).status).toBe('verified');
    } finally {
      chain.setCommitmentMode('finalized');
    }
  });

  test('a payment older than the validator status cache is still verified (the buyer retried late)', async () => {
    const reference = freshReference();
    const signature = await pay({ reference });
    chain.ledger.advanceSlots(Number(STATUS_CACHE_SLOTS) + 50);
    // A plain status query no longer knows it: finality must be read from history.
    const { value } = await chain.rpc.getSignatureStatuses([signature as Signature]).send();
    expect(value[0]).toBeNull();
    expect(await verify(reference)).toMatchObject({ status: 'verified', txRef: signature });
    expect(await verify(reference, signature)).toMatchObject({ status: 'verified', txRef: signature });
  });

  test('a payment only processed is invisible by reference, pending by signature, until confirmed', async () => {
    chain.setCommitmentMode('processed');
    try {
      const reference = freshReference();
      const signature = await pay({ reference });
      expect(await verify(reference)).toEqual({ status: 'not_found' });
      expect(await verify(reference, signature)).toMatchObject({ status: 'pending', txRef: signature });
      chain.confirm(signature);
      expect((await verify(reference)).status).toBe('pending');
      chain.finalize(signature);
      expect((await verify(reference)).status).toBe('verified');
    } finally {
      chain.setCommitmentMode('finalized');
    }
  });

  test('a v0 transaction loading the reference from an address lookup table is verified', async () => {
    const reference = freshReference();
    const table = await chain.createLookupTable([reference]);
    const signature = await pay({ reference, lookupTable: { address: table, addresses: [reference] } });
    // The reference really came through the table (meta.loadedAddresses), not the static keys.
    expect(chain.ledger.find(signature)?.loaded.readonly).toEqual([reference]);
    expect(await verify(reference)).toMatchObject({ status: 'verified', txRef: signature });
  });

  test('a legacy transaction is verified', async () => {
    const reference = freshReference();
    const signature = await pay({ reference, version: 'legacy' });
    expect(await verify(reference)).toMatchObject({ status: 'verified', txRef: signature });
  });

  test('transactions spamming the public reference do not hide the real payment', async () => {
    const reference = freshReference();
    const attacker = await chain.createFundedWallet(10_000_000n);
    const real = await pay({ reference });
    // Newer than the payment: a 1-unit transfer, a failed one, and one to the attacker itself.
    await pay({ reference, payer: attacker, amountAtomic: 1n });
    await pay({ reference, payer: attacker, amountAtomic: 10n ** 12n, skipPreflight: true });
    await pay({ reference, payer: attacker, payToOwner: attacker.address });
    expect(await verify(reference)).toMatchObject({ status: 'verified', txRef: real });
  });

  test('a malformed signature is a 400 PAYMENT_TX_INVALID', async () => {
    const error = await verify(freshReference(), 'not-a-signature').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: 'PAYMENT_TX_INVALID' });
  });

  test('an unreachable RPC is a retryable 503 that does not reveal the RPC URL', async () => {
    const down = createSolanaVerifier({
      network: chain.network,
      rpcUrl: 'http://127.0.0.1:9/rpc-secret',
      mint: chain.mint,
      decimals: 6,
      commitment: 'finalized',
    });
    const error = await verify(freshReference(), undefined, down).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'PAYMENT_RPC_UNAVAILABLE' });
    expect((error as AppError).message).not.toContain('rpc-secret');
  });

  test('an RPC that never answers is a retryable 503 at the deadline, not a call held forever', async () => {
    let asked = 0;
    const hung = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (asked++, new Promise<Response>(() => {})) });
    try {
      const route = { network: chain.network, rpcUrl: `http://127.0.0.1:${hung.port}/`, mint: chain.mint, decimals: 6, commitment: 'finalized' as const };
      const error = await createSolanaVerifier(route, { rpcTimeoutMs: 200 }).verify({ reference: freshReference(), payToOwner: payTo, amountAtomic: PRICE }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 503, code: 'PAYMENT_RPC_UNAVAILABLE' });
      expect(asked).toBe(1);
    } finally {
      hung.stop(true);
    }
  });

  test('newSolanaReference returns a distinct 32-byte public key each time', () => {
    const references = new Set(Array.from({ length: 20 }, () => newSolanaReference()));
    expect(references.size).toBe(20);
    for (const reference of references) expect(isAddress(reference)).toBe(true);
  });
});
