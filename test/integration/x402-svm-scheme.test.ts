import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { address, createNoopSigner, generateKeyPairSigner, getBase58Decoder, getBase58Encoder, type KeyPairSigner } from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { loadConfig, type Config } from '../../src/config.ts';
import type { OfferedRoute, PaymentIntent } from '../../src/modules/payments/schema.ts';
import type { X402Scheme } from '../../src/modules/x402/scheme.ts';
import { createSolanaSchemeFactory, LOW_FEE_PAYER_LAMPORTS } from '../../src/modules/x402/svm/scheme.ts';
import { PRIVATE_CLUSTER_GENESIS_HASH, startSolanaRpc, type SolanaTestChain } from '../support/solana-rpc.ts';
import { handBuiltPayment, newFeePayerSecret, stockSvmClient } from '../support/x402-svm.ts';

/**
 * The Solana x402 scheme on its own, against LiteSVM behind the test RPC: what it offers, what it
 * accepts from the stock client, what it refuses (with nothing moved on chain), and how it reports
 * a settlement that is not final yet. The gateway tests drive the same code over HTTP.
 */
let chain: SolanaTestChain;
let config: Config;
let scheme: X402Scheme;
let feePayer: { secret: string; address: ReturnType<typeof address> };
let buyer: KeyPairSigner;
let seller: KeyPairSigner;
const PRICE = 2_500_000n;
let seq = 0;

function routeConfig(network: string, extra: Record<string, unknown> = {}) {
  return { network, rpc_url: chain.rpcUrl, asset: chain.mint, decimals: 6, commitment: 'finalized', min_amount: '0', treasury: seller.address, ...extra };
}

function intentAndRoute(amount = PRICE): { intent: PaymentIntent; route: OfferedRoute } {
  seq += 1;
  const now = new Date();
  const route: OfferedRoute = { network: chain.network, asset: chain.mint, decimals: 6, pay_to: seller.address, amount_atomic: amount.toString(), min_amount: '0' };
  const intent = {
    id: `rly_scheme${seq}${'x'.repeat(8)}`,
    buyerId: 'prf_buyer',
    sellerId: 'prf_seller',
    listingId: 'lst_1',
    bodySha256: '0'.repeat(64),
    amountMicroUsd: Number(amount),
    feeBps: 0,
    routes: [route],
    status: 'open',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 900_000).toISOString(),
  } as PaymentIntent;
  return { intent, route };
}

async function requirementsFor(intent: PaymentIntent, route: OfferedRoute): Promise<PaymentRequirements> {
  return {
    scheme: 'exact',
    network: route.network as PaymentRequirements['network'],
    amount: route.amount_atomic,
    asset: route.asset,
    payTo: route.pay_to,
    maxTimeoutSeconds: scheme.maxTimeoutSeconds,
    extra: await scheme.offerExtra(route, intent),
  };
}

const ctxOf = (intent: PaymentIntent, route: OfferedRoute, deadlineMs = Date.now() + 5_000) => ({ intent, route, buyerWallets: [], now: new Date(), deadlineMs });

async function stockPayload(requirements: PaymentRequirements, payer = buyer): Promise<PaymentPayload> {
  return stockSvmClient(payer, chain).createPaymentPayload({ x402Version: 2, resource: { url: 'http://crochet.test/paid', description: '', mimeType: '' }, accepts: [requirements] });
}

async function balances() {
  return {
    buyer: await chain.tokenBalance(buyer.address),
    seller: await chain.tokenBalance(seller.address),
    feePayerUsdc: await chain.tokenBalance(feePayer.address),
  };
}

beforeAll(async () => {
  chain = await startSolanaRpc();
  buyer = await chain.createFundedWallet(50_000_000n);
  seller = await generateKeyPairSigner();
  await chain.mintTo(seller.address, 0n);
  feePayer = await newFeePayerSecret();
  chain.ledger.fund(feePayer.address, 1_000_000_000n);
  // The fee payer holding USDC of its own is what makes the authority attack worth trying.
  await chain.mintTo(feePayer.address, 10_000_000n);
  config = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([routeConfig(chain.network)]), CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret } });
  const made = createSolanaSchemeFactory(config)(config.payment_routes[0]!);
  if (!made) throw new Error('expected a Solana scheme');
  scheme = made;
});

afterAll(async () => {
  await chain?.stop();
});

describe('offers', () => {
  test('a Solana route on a public cluster offers x402 with the fee payer and the relay id as memo', async () => {
    const { intent, route } = intentAndRoute();
    expect(scheme.family).toBe('solana');
    expect(scheme.settlerAddress).toBe(feePayer.address);
    expect(scheme.canOffer()).toBe(true);
    expect(scheme.maxTimeoutSeconds).toBeGreaterThanOrEqual(30);
    expect(await scheme.offerExtra(route, intent)).toEqual({ feePayer: feePayer.address, memo: intent.id });
  });

  test("a payee without a token account for the asset gets no offer (every payment would fail)", async () => {
    const { intent, route } = intentAndRoute();
    const nobody = await generateKeyPairSigner();
    await expect(scheme.offerExtra({ ...route, pay_to: nobody.address }, intent)).rejects.toThrow(/token account/);
    await chain.mintTo(nobody.address, 0n);
    expect(await scheme.offerExtra({ ...route, pay_to: nobody.address }, intent)).toEqual({ feePayer: feePayer.address, memo: intent.id });
  });

  test('a mint with a transfer fee (the seller would receive less than the price) gets no offer and no payment', async () => {
    const feeMint = await chain.createTransferFeeMint({ basisPoints: 100, maximumFee: 1_000_000n });
    const c = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([{ ...routeConfig(chain.network), asset: feeMint }]), CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret } });
    const s = createSolanaSchemeFactory(c)(c.payment_routes[0]!)!;
    const { intent, route } = intentAndRoute();
    const feeRoute = { ...route, asset: feeMint };
    await chain.mintTo(seller.address, 0n, feeMint);
    await expect(s.offerExtra(feeRoute, intent)).rejects.toThrow(/transfer fee/);
    const payer = await chain.createFundedWallet(10_000_000n, feeMint);
    const requirements: PaymentRequirements = { scheme: 'exact', network: chain.network as PaymentRequirements['network'], amount: PRICE.toString(), asset: feeMint, payTo: seller.address, maxTimeoutSeconds: 90, extra: { feePayer: feePayer.address, memo: intent.id } };
    const client = stockSvmClient(payer, chain);
    client.setSpendControls({ allowedAssets: [{ network: chain.network as PaymentRequirements['network'], asset: feeMint, maxAmountPerPayment: '100000000' }] });
    const payload = await client.createPaymentPayload({ x402Version: 2, resource: { url: 'http://crochet.test/paid', description: '', mimeType: '' }, accepts: [requirements] });
    expect(await s.verify(payload, requirements, ctxOf(intent, feeRoute))).toMatchObject({ ok: false, refusal: { code: 'PAYMENT_WRONG_ASSET' } });
  });

  test('no fee payer key, or x402 off for the route → no scheme; a private cluster → no offer', async () => {
    const noKey = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([routeConfig(chain.network)]) } });
    expect(createSolanaSchemeFactory(noKey)(noKey.payment_routes[0]!)).toBeNull();
    const off = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([routeConfig(chain.network, { x402: false })]), CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret } });
    expect(createSolanaSchemeFactory(off)(off.payment_routes[0]!)).toBeNull();
    const privateNet = `solana:${PRIVATE_CLUSTER_GENESIS_HASH.slice(0, 32)}`;
    const priv = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([routeConfig(privateNet)]), CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret } });
    expect(createSolanaSchemeFactory(priv)(priv.payment_routes[0]!)?.canOffer()).toBe(false);
  });

  test('the fee payer balance is reported in SOL, low under the threshold', async () => {
    const gas = await scheme.gasBalance();
    expect(gas).toMatchObject({ family: 'solana', network: chain.network, address: feePayer.address, decimals: 9, symbol: 'SOL', low: false });
    expect(gas.balance).toBe(chain.ledger.svm.getBalance(feePayer.address) ?? -1n);
    const poor = await newFeePayerSecret();
    chain.ledger.fund(poor.address, LOW_FEE_PAYER_LAMPORTS - 1n);
    const c = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([routeConfig(chain.network)]), CROCHET_X402_SOLANA_FEE_PAYER: poor.secret } });
    expect(await createSolanaSchemeFactory(c)(c.payment_routes[0]!)!.gasBalance()).toMatchObject({ low: true, balance: LOW_FEE_PAYER_LAMPORTS - 1n });
  });
});

test('a fee payer secret whose halves do not match fails when first used (at start), naming the setting, never the secret', async () => {
  const a = await newFeePayerSecret();
  const b = await newFeePayerSecret();
  const bytes = new Uint8Array(getBase58Encoder().encode(a.secret));
  bytes.set(getBase58Encoder().encode(b.address), 32); // a's seed, b's public key
  const mixed = getBase58Decoder().decode(bytes);
  const c = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([routeConfig(chain.network)]), CROCHET_X402_SOLANA_FEE_PAYER: mixed } });
  const s = createSolanaSchemeFactory(c)(c.payment_routes[0]!)!;
  expect(s.settlerAddress).toBe(b.address);
  const error = await s.gasBalance().then(() => null, (e: Error) => e);
  expect(error?.message).toMatch(/^CROCHET_X402_SOLANA_FEE_PAYER: not a valid Ed25519 key pair/);
  expect(error?.message).not.toContain(mixed);
});

test("a route settling at `confirmed` books a payment once it is confirmed", async () => {
  const c = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([routeConfig(chain.network, { commitment: 'confirmed' })]), CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret } });
  const fast = createSolanaSchemeFactory(c)(c.payment_routes[0]!)!;
  chain.setCommitmentMode('processed');
  try {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await stockPayload(requirements);
    const sent = await fast.broadcast(payload, requirements, ctxOf(intent, route));
    if (!sent.ok) throw new Error('not sent');
    expect(await fast.awaitFinal(sent.transaction, ctxOf(intent, route, Date.now() + 300))).toMatchObject({ status: 'pending' });
    chain.confirm(sent.transaction);
    expect(await fast.awaitFinal(sent.transaction, ctxOf(intent, route))).toMatchObject({ status: 'verified', amountAtomic: PRICE });
  } finally {
    chain.setCommitmentMode('finalized');
  }
});

describe('settling a stock client payment', () => {
  test('verify → broadcast → awaitFinal: the price moves exactly once, booked with its settlement key', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await stockPayload(requirements);
    const before = await balances();

    const verdict = await scheme.verify(payload, requirements, ctxOf(intent, route));
    if (!verdict.ok) throw new Error(`refused: ${JSON.stringify(verdict.refusal)}`);
    expect(verdict.payer).toBe(buyer.address);
    expect(verdict.claimKey).toMatch(/^svm:[0-9a-f]{64}$/);
    // Verifying moves nothing.
    expect(await balances()).toEqual(before);

    const sent = await scheme.broadcast(payload, requirements, ctxOf(intent, route));
    if (!sent.ok) throw new Error(`not sent: ${JSON.stringify(sent.refusal)}`);
    const final = await scheme.awaitFinal(sent.transaction, ctxOf(intent, route));
    expect(final).toEqual({
      status: 'verified',
      settlementKey: `${chain.network}:${sent.transaction}:2`,
      txRef: sent.transaction,
      payer: buyer.address,
      amountAtomic: PRICE,
      transferIndex: 2,
    });
    const after = await balances();
    expect(before.buyer - after.buyer).toBe(PRICE);
    expect(after.seller - before.seller).toBe(PRICE);
    expect(after.feePayerUsdc).toBe(before.feePayerUsdc);

    // The same payload again: same claim key, same co-signed bytes and signature; the chain runs it once.
    const again = await scheme.verify(payload, requirements, ctxOf(intent, route));
    expect(again.ok && again.claimKey).toBe(verdict.claimKey);
    const resent = await scheme.broadcast(payload, requirements, ctxOf(intent, route));
    expect(resent).toEqual({ ok: true, transaction: sent.transaction });
    expect(await balances()).toEqual(after);
  });

  test('not final by the deadline → pending; the same transaction is verified once final', async () => {
    chain.setCommitmentMode('confirmed');
    try {
      const { intent, route } = intentAndRoute();
      const requirements = await requirementsFor(intent, route);
      const payload = await stockPayload(requirements);
      const sent = await scheme.broadcast(payload, requirements, ctxOf(intent, route));
      if (!sent.ok) throw new Error('not sent');
      expect(await scheme.awaitFinal(sent.transaction, ctxOf(intent, route, Date.now() + 300))).toMatchObject({ status: 'pending', txRef: sent.transaction });
      chain.finalize(sent.transaction);
      expect(await scheme.awaitFinal(sent.transaction, ctxOf(intent, route))).toMatchObject({ status: 'verified', txRef: sent.transaction, amountAtomic: PRICE });
    } finally {
      chain.setCommitmentMode('finalized');
    }
  });

  test('a transaction the node never saw → not_found at the deadline', async () => {
    const { intent, route } = intentAndRoute();
    const unknown = '5'.repeat(64) + 'abc';
    expect(await scheme.awaitFinal(unknown, ctxOf(intent, route, Date.now() + 200))).toEqual({ status: 'not_found' });
  });
});

describe("the settling side's trouble is not the buyer's", () => {
  function schemeWith(secret: string, rpcUrl = chain.rpcUrl): X402Scheme {
    const c = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([{ ...routeConfig(chain.network), rpc_url: rpcUrl }]), CROCHET_X402_SOLANA_FEE_PAYER: secret } });
    return createSolanaSchemeFactory(c)(c.payment_routes[0]!)!;
  }

  test('a fee payer without SOL: verify answers a retryable 503 (not a refusal blaming the payment); broadcast refuses, nothing sent', async () => {
    const empty = await newFeePayerSecret();
    const s = schemeWith(empty.secret);
    const { intent, route } = intentAndRoute();
    const requirements = { ...(await requirementsFor(intent, route)), extra: await s.offerExtra(route, intent) };
    const payload = await stockPayload(requirements);
    const before = await balances();
    const error = await s.verify(payload, requirements, ctxOf(intent, route)).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'PAYMENT_RPC_UNAVAILABLE' });
    const sent = await s.broadcast(payload, requirements, ctxOf(intent, route));
    expect(sent).toMatchObject({ ok: false, refusal: { code: 'PAYMENT_RPC_UNAVAILABLE' } });
    expect('maybeSent' in sent && sent.maybeSent).toBeFalsy();
    expect(await balances()).toEqual(before);
  });

  test('an unreachable RPC: verify answers a retryable 503; a send that got no answer may have left (maybeSent, recorded first)', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await stockPayload(requirements);
    const dead = schemeWith(feePayer.secret, 'http://127.0.0.1:9');
    const error = await dead.verify(payload, requirements, ctxOf(intent, route)).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'PAYMENT_RPC_UNAVAILABLE' });
    const recorded: string[] = [];
    const sent = await dead.broadcast(payload, requirements, { ...ctxOf(intent, route), onSigned: (t) => recorded.push(t) });
    expect(recorded).toHaveLength(1);
    expect(sent).toMatchObject({ ok: false, refusal: { code: 'PAYMENT_RPC_UNAVAILABLE' }, maybeSent: recorded[0] });
    // The same bytes through a live node later: the same signature, settled once.
    const live = await scheme.broadcast(payload, requirements, ctxOf(intent, route));
    expect(live).toEqual({ ok: true, transaction: recorded[0]! });
  });
});

describe('refused payments move nothing', () => {
  async function expectRefused(payload: PaymentPayload, requirements: PaymentRequirements, intent: PaymentIntent, route: OfferedRoute, reason: string, code: string) {
    const before = await balances();
    const verdict = await scheme.verify(payload, requirements, ctxOf(intent, route));
    expect(verdict).toMatchObject({ ok: false, refusal: { reason, code } });
    // The last gate: broadcast inspects again and co-signs nothing it would refuse.
    const sent = await scheme.broadcast(payload, requirements, ctxOf(intent, route));
    expect(sent.ok).toBe(false);
    expect(await balances()).toEqual(before);
  }

  test('tampered amount (the client paid less than the intent\'s price)', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await stockPayload({ ...requirements, amount: (PRICE - 1n).toString() });
    await expectRefused(payload, requirements, intent, route, 'invalid_exact_svm_payload_amount_mismatch', 'PAYMENT_INSUFFICIENT');
  });

  test('tampered payTo (paid to another wallet)', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const other = await generateKeyPairSigner();
    await chain.mintTo(other.address, 0n);
    const payload = await stockPayload({ ...requirements, payTo: other.address });
    await expectRefused(payload, requirements, intent, route, 'invalid_exact_svm_payload_recipient_mismatch', 'PAYMENT_WRONG_RECIPIENT');
  });

  test('memo of another intent (a payment made for someone else\'s relay id)', async () => {
    const a = intentAndRoute();
    const b = intentAndRoute();
    const payload = await stockPayload(await requirementsFor(a.intent, a.route));
    await expectRefused(payload, await requirementsFor(b.intent, b.route), b.intent, b.route, 'invalid_exact_svm_payload_memo_mismatch', 'PAYMENT_REFERENCE_MISSING');
  });

  test('fee payer as the transfer authority (draining the fee payer\'s own tokens)', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await handBuiltPayment(
      { chain, feePayer: feePayer.address, authority: createNoopSigner(feePayer.address), payTo: seller.address, amount: PRICE, memo: intent.id },
      requirements,
    );
    await expectRefused(payload, requirements, intent, route, 'invalid_exact_svm_payload_transaction_fee_payer_transferring_funds', 'PAYMENT_REQUEST_MISMATCH');
  });

  test("the fee payer's token account as the source (another wallet as authority)", async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await handBuiltPayment(
      { chain, feePayer: feePayer.address, authority: buyer, sourceOwner: feePayer.address, payTo: seller.address, amount: PRICE, memo: intent.id },
      requirements,
    );
    await expectRefused(payload, requirements, intent, route, 'invalid_exact_svm_payload_transaction_fee_payer_transferring_funds', 'PAYMENT_REQUEST_MISMATCH');
  });

  test('an extra instruction riding along (a SOL transfer out of the fee payer)', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const drain = getTransferSolInstruction({ source: createNoopSigner(feePayer.address), destination: buyer.address, amount: 1_000_000n });
    const payload = await handBuiltPayment({ chain, feePayer: feePayer.address, authority: buyer, payTo: seller.address, amount: PRICE, memo: intent.id, extra: [drain] }, requirements);
    await expectRefused(payload, requirements, intent, route, 'invalid_exact_svm_payload_transaction_instructions_length', 'PAYMENT_REQUEST_MISMATCH');
  });

  test('no memo', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await handBuiltPayment({ chain, feePayer: feePayer.address, authority: buyer, payTo: seller.address, amount: PRICE, memo: '', withoutMemo: true }, requirements);
    await expectRefused(payload, requirements, intent, route, 'invalid_exact_svm_payload_transaction_instructions_length', 'PAYMENT_REQUEST_MISMATCH');
  });

  test('a priority fee above the ceiling (the fee payer would pay it)', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await handBuiltPayment({ chain, feePayer: feePayer.address, authority: buyer, payTo: seller.address, amount: PRICE, memo: intent.id, microLamports: 10_000_000n }, requirements);
    await expectRefused(payload, requirements, intent, route, 'invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high', 'PAYMENT_REQUEST_MISMATCH');
  });

  test('a forged buyer signature', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const payload = await stockPayload(requirements);
    const wire = Buffer.from(payload.payload['transaction'] as string, 'base64');
    // Wire: a count (2), the fee payer's empty slot, then the buyer's 64-byte signature.
    expect(wire[0]).toBe(2);
    wire[1 + 64 + 10] = wire[1 + 64 + 10]! ^ 0x01;
    const tampered = { ...payload, payload: { transaction: wire.toString('base64') } };
    await expectRefused(tampered, requirements, intent, route, 'invalid_exact_svm_payload_signature_invalid', 'PAYMENT_REQUEST_MISMATCH');
  });

  test('a buyer without the funds: simulation fails before anything is co-signed', async () => {
    const { intent, route } = intentAndRoute();
    const requirements = await requirementsFor(intent, route);
    const poor = await chain.createFundedWallet(PRICE - 1n);
    const payload = await stockPayload(requirements, poor);
    const verdict = await scheme.verify(payload, requirements, ctxOf(intent, route));
    expect(verdict).toMatchObject({ ok: false, refusal: { reason: 'invalid_exact_svm_transaction_simulation_failed', code: 'PAYMENT_TX_FAILED' } });
  });
});
