// Threat: an x402 Solana payment pays for more than one call, moves money it should not (the
// fee payer's, or a tampered amount / recipient), or is bound to another intent or body.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { address, createNoopSigner, lamports, type KeyPairSigner } from '@solana/kit';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse } from '@x402/core/types';
import { SOLANA_DEVNET_CAIP2 } from '@x402/svm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import * as X402 from '../../src/modules/x402/service.ts';
import { LOW_FEE_PAYER_LAMPORTS } from '../../src/modules/x402/svm/scheme.ts';
import { memoryLogger } from '../../src/shared/logger.ts';
import { masterKeyToBase64 } from '../../src/modules/vault/envelope.ts';
import { startServeProcess, type ServeProcess } from '../support/serve-process.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { payUsdcSolana } from '../support/solana-pay.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { handBuiltPayment, newFeePayerSecret, stockSvmClient } from '../support/x402-svm.ts';

allowSlowSetup();

let m: PaidMarket;
let other: ServeProcess | null = null;
let otherLog = '';
let wallet: KeyPairSigner;
let feePayer: Awaited<ReturnType<typeof newFeePayerSecret>>;
const PRICE = 250_000n; // the listing's 0.25 USD in 6-decimal atomic units

const b64json = <T>(header: string | null): T => JSON.parse(Buffer.from(header ?? '', 'base64').toString('utf8')) as T;
const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

beforeAll(async () => {
  feePayer = await newFeePayerSecret();
  m = await startPaidMarket({ env: { CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret, CROCHET_X402_SETTLE_WAIT_SECONDS: '2' } });
  m.sol.ledger.fund(feePayer.address, 1_000_000_000n);
  // The fee payer holding tokens of its own is what makes the authority attack worth trying.
  await m.sol.mintTo(feePayer.address, 5_000_000n);
  await m.sol.mintTo(m.treasury.solana, 0n); // the seller side's token account exists
  wallet = await m.sol.createFundedWallet(100_000_000n);
});
afterAll(async () => {
  await other?.stop();
  await m.stop();
});

const url = () => `http://127.0.0.1:${m.t.app.server?.port}/api/v1/gateway/${m.listing.id}`;
const headers = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${m.buyer.key}`, 'content-type': 'application/json', 'x-crochet-origin-currency': 'SOL', ...extra });

/** The buyer's own fetch, recording what it sends (to capture PAYMENT-SIGNATURE). */
function recordingFetch() {
  const sent: Request[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    sent.push(request.clone());
    return fetch(request);
  }) as typeof fetch;
  return { f, sent };
}

async function balances() {
  return {
    buyer: await m.sol.tokenBalance(wallet.address),
    treasury: await m.sol.tokenBalance(m.treasury.solana),
    feePayerUsdc: await m.sol.tokenBalance(feePayer.address),
  };
}

async function unpaid(body: string) {
  const res = await fetch(url(), { method: 'POST', headers: headers(), body });
  expect(res.status).toBe(402);
  const required = b64json<PaymentRequired>(res.headers.get('PAYMENT-REQUIRED'));
  const json = (await res.json()) as { payment: { relay_request_id: string } };
  return { res, required, json, offer: required.accepts[0]! };
}

/** Through the documented route: every reply is checked against the OpenAPI document. */
function present(body: string, payload: PaymentPayload) {
  return m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, { key: m.buyer.key, rawBody: body, headers: { 'content-type': 'application/json', 'x-crochet-origin-currency': 'SOL', 'PAYMENT-SIGNATURE': encode(payload) } });
}

let captured: { header: string; body: string } | null = null;

describe('a stock x402 client pays a listing on Solana', () => {
  test('unpaid → 402 with Crochet\'s body and PAYMENT-REQUIRED holding a Solana exact offer', async () => {
    const { res, required, json, offer } = await unpaid(JSON.stringify({ q: 'offer' }));
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(json.payment.relay_request_id).toMatch(/^rly_/);
    expect(required.x402Version).toBe(2);
    expect(offer).toMatchObject({
      scheme: 'exact',
      network: SOLANA_DEVNET_CAIP2,
      amount: PRICE.toString(),
      asset: m.sol.mint,
      payTo: m.treasury.solana,
      extra: { feePayer: feePayer.address, memo: json.payment.relay_request_id },
    });
    expect(offer.maxTimeoutSeconds).toBeGreaterThanOrEqual(30);
  });

  test('the wrapped fetch gets the seller\'s JSON and PAYMENT-RESPONSE; the price moved once; one forward; ledger verifies', async () => {
    const before = await balances();
    const forwards = m.stub.calls.length;
    const { f, sent } = recordingFetch();
    const pay = wrapFetchWithPayment(f, stockSvmClient(wallet, m.sol));
    const body = JSON.stringify({ q: 'paid' });

    const res = await pay(url(), { method: 'POST', headers: headers(), body });

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ answer: 42, echo: body, verified: true });
    const settled = b64json<SettleResponse>(res.headers.get('PAYMENT-RESPONSE'));
    expect(settled).toMatchObject({ success: true, network: SOLANA_DEVNET_CAIP2, payer: wallet.address });
    expect(m.sol.ledger.find(settled.transaction)?.err).toBeNull();
    const after = await balances();
    expect(before.buyer - after.buyer).toBe(PRICE);
    expect(after.treasury - before.treasury).toBe(PRICE);
    expect(after.feePayerUsdc).toBe(before.feePayerUsdc);
    expect(m.stub.calls.length).toBe(forwards + 1);
    expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
    // Booked like a native payment: settled (buyer → held), then released (seller + 2.5 % fee), on this transaction.
    const relay = m.t.deps.db.sqlite.query('SELECT id FROM payment_intents WHERE settled_tx_ref = ?').get(settled.transaction) as { id: string } | null;
    expect(relay).not.toBeNull();
    const entries = m.t.deps.db.sqlite
      .query('SELECT account, entry_type, amount_micro_usd, network, tx_ref FROM ledger_entries WHERE relay_request_id = ? ORDER BY seq')
      .all(relay!.id) as { account: string; entry_type: string; amount_micro_usd: number; network: string; tx_ref: string }[];
    expect(entries.map((e) => [e.account.split(':')[0], e.entry_type, e.amount_micro_usd])).toEqual([
      ['buyer', 'buyer_payment', -250000],
      ['held', 'payment_held', 250000],
      ['held', 'hold_released', -250000],
      ['seller', 'seller_credit', 243750],
      ['fees', 'marketplace_fee', 6250],
    ]);
    expect(entries.every((e) => e.network === SOLANA_DEVNET_CAIP2 && e.tx_ref === settled.transaction)).toBe(true);
    const header = sent.at(-1)?.headers.get('PAYMENT-SIGNATURE');
    expect(header).toBeTruthy();
    captured = { header: header!, body };
  });
});

describe('never twice', () => {
  const replay = () => fetch(url(), { method: 'POST', headers: headers({ 'PAYMENT-SIGNATURE': captured!.header }), body: captured!.body });

  test('the captured PAYMENT-SIGNATURE replayed once → 4xx, no transfer, no forward', async () => {
    const before = await balances();
    const forwards = m.stub.calls.length;
    const res = await replay();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await balances()).toEqual(before);
    expect(m.stub.calls.length).toBe(forwards);
  });

  test('replayed 20 times concurrently → every answer 4xx, no transfer, no forward', async () => {
    const before = await balances();
    const forwards = m.stub.calls.length;
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => replay()))).map((r) => r.status);
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    expect(await balances()).toEqual(before);
    expect(m.stub.calls.length).toBe(forwards);
  });

  test('a fresh payload presented 20 times concurrently → one transfer, one forward', async () => {
    const body = JSON.stringify({ q: 'race' });
    const { offer, required } = await unpaid(body);
    const payload = await stockSvmClient(wallet, m.sol).createPaymentPayload({ ...required, accepts: [offer] });
    const before = await balances();
    const forwards = m.stub.calls.length;
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => present(body, payload)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || (s >= 400 && s < 500))).toBe(true);
    expect(before.buyer - (await balances()).buyer).toBe(PRICE);
    expect(m.stub.calls.length).toBe(forwards + 1);
  });
});

test('one payload on two serve processes over the same data folder: one transfer, one forward, 4xx on the other', async () => {
  otherLog = join(mkdtempSync(join(tmpdir(), 'crochet-x402-svm-log-')), 'serve.log');
  other = await startServeProcess(m.t.dir, otherLog, {
    CROCHET_LOG_LEVEL: 'info',
    CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
    CROCHET_PAYMENT_ROUTES: JSON.stringify(m.t.config.payment_routes),
    CROCHET_FEE_BPS: '250',
    CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0',
    CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0',
    CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret,
    CROCHET_X402_SETTLE_WAIT_SECONDS: '2',
    CROCHET_MASTER_KEY: masterKeyToBase64(m.t.masterKey),
    CROCHET_PUBLIC_URL: m.t.config.public_url ?? '',
  });
  const body = JSON.stringify({ q: 'two processes' });
  const { offer, required } = await unpaid(body);
  const payload = await stockSvmClient(wallet, m.sol).createPaymentPayload({ ...required, accepts: [offer] });
  const before = await balances();
  const forwards = m.stub.calls.length;
  const elsewhere = (base: string) => fetch(`${base}/api/v1/gateway/${m.listing.id}`, { method: 'POST', headers: headers({ 'PAYMENT-SIGNATURE': encode(payload) }), body });
  const [here, there] = await Promise.all([present(body, payload), elsewhere(other.baseUrl)]);
  expect([here.status, there.status].sort()).toEqual([200, 409]);
  const later = await elsewhere(other.baseUrl);
  expect(later.status).toBe(409);
  expect(((await later.json()) as { error: { code: string } }).error.code).toBe('PAYMENT_ALREADY_USED');
  expect(before.buyer - (await balances()).buyer).toBe(PRICE);
  expect(m.stub.calls.length).toBe(forwards + 1);
});

test('the fee payer: its address in the start log (never its secret), a low balance warned, its SOL balance in /metrics', async () => {
  // The second serve process above started with this fee payer.
  expect(otherLog).not.toBe('');
  const startLog = await Bun.file(otherLog).text();
  expect(startLog).toContain('x402 settling key');
  expect(startLog).toContain(feePayer.address);
  expect(startLog).not.toContain(feePayer.secret);
  expect(startLog).not.toMatch(/low on gas/);

  const poor = await newFeePayerSecret();
  m.sol.ledger.fund(poor.address, LOW_FEE_PAYER_LAMPORTS - 1n);
  const config = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify(m.t.config.payment_routes), CROCHET_X402_SOLANA_FEE_PAYER: poor.secret, CROCHET_DATA_DIR: m.t.dir } });
  const logger = memoryLogger('info');
  await X402.refreshSettlerBalances(X402.buildSchemes(config), new Map(), logger, true);
  const log = logger.lines.join('\n');
  expect(log).toContain(poor.address);
  expect(log).toMatch(/low on gas/);
  expect(log).not.toContain(poor.secret);

  await X402.refreshSettlerBalances(m.t.runtime.x402, m.t.runtime.x402Balances, m.t.logger);
  const metrics = await m.t.call('GET', '/metrics');
  const line = metrics.text.split('\n').find((l) => l.startsWith('crochet_x402_settler_balance{') && l.includes('family="solana"'));
  expect(line).toContain(`address="${feePayer.address}"`);
  const sol = Number(line!.split(' ').at(-1));
  expect(sol).toBeGreaterThan(0.99);
  expect(sol).toBeLessThanOrEqual(1);
  expect(m.t.logger.lines.join('\n')).not.toContain(feePayer.secret);
});

describe('one intent, one payment', () => {
  test('a second, different payload for an intent already paid is refused before broadcast', async () => {
    const body = JSON.stringify({ q: 'twice' });
    const { offer, required } = await unpaid(body);
    const client = stockSvmClient(wallet, m.sol);
    const first = await client.createPaymentPayload({ ...required, accepts: [offer] });
    expect((await present(body, first)).status).toBe(200);
    // What a client that lost the answer would do: sign a new transaction for the same offer.
    m.sol.ledger.svm.expireBlockhash();
    const second = await client.createPaymentPayload({ ...required, accepts: [offer] });
    expect(second.payload['transaction']).not.toBe(first.payload['transaction']);
    const before = await balances();
    const forwards = m.stub.calls.length;
    const res = await present(body, second);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await balances()).toEqual(before);
    expect(m.stub.calls.length).toBe(forwards);
  });
});

describe('refused, with nothing transferred', () => {
  async function expectRefused(body: string, payload: PaymentPayload, code: string) {
    const before = await balances();
    const forwards = m.stub.calls.length;
    const res = await present(body, payload);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.json.error.code).toBe(code);
    if (res.status === 402) expect(b64json<PaymentRequired>(res.headers.get('PAYMENT-REQUIRED')).error).toBeTruthy();
    expect(await balances()).toEqual(before);
    expect(m.stub.calls.length).toBe(forwards);
  }

  /** A stock client's payload for `pays` presented under the offer `shown` (the tamper keeps `accepted` honest). */
  async function tampered(offer: PaymentRequirements, required: PaymentRequired, pays: Partial<PaymentRequirements>) {
    const payload = await stockSvmClient(wallet, m.sol).createPaymentPayload({ ...required, accepts: [{ ...offer, ...pays }] });
    return { ...payload, accepted: offer };
  }

  test('tampered amount (less than the price)', async () => {
    const body = JSON.stringify({ q: 'amount' });
    const { offer, required } = await unpaid(body);
    await expectRefused(body, await tampered(offer, required, { amount: (PRICE - 1n).toString() }), 'PAYMENT_INSUFFICIENT');
  });

  test('tampered payTo (paid to the buyer\'s own other wallet)', async () => {
    const body = JSON.stringify({ q: 'payto' });
    const { offer, required } = await unpaid(body);
    const mine = await m.sol.createFundedWallet(0n);
    await expectRefused(body, await tampered(offer, required, { payTo: mine.address }), 'PAYMENT_WRONG_RECIPIENT');
  });

  test('tampered memo (a payment made for another intent)', async () => {
    const body = JSON.stringify({ q: 'memo' });
    const { offer, required } = await unpaid(body);
    await expectRefused(body, await tampered(offer, required, { extra: { ...offer.extra, memo: 'rly_someoneelse' } }), 'PAYMENT_REFERENCE_MISSING');
  });

  test('a changed body (the payment was offered for another one)', async () => {
    const body = JSON.stringify({ q: 'body' });
    const { offer, required } = await unpaid(body);
    const payload = await stockSvmClient(wallet, m.sol).createPaymentPayload({ ...required, accepts: [offer] });
    const before = await balances();
    const res = await present(JSON.stringify({ q: 'another body' }), payload);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await balances()).toEqual(before);
  });

  test('the fee payer as transfer authority (its own tokens) is refused', async () => {
    const body = JSON.stringify({ q: 'feepayer' });
    const { offer, json } = await unpaid(body);
    const payload = await handBuiltPayment(
      { chain: m.sol, feePayer: feePayer.address, authority: createNoopSigner(feePayer.address), payTo: address(offer.payTo), amount: PRICE, memo: json.payment.relay_request_id },
      offer,
    );
    await expectRefused(body, payload, 'PAYMENT_REQUEST_MISMATCH');
  });
});

describe('settlement not final by the deadline', () => {
  test('504 settlement_pending with the transaction; the same payload completes once when final', async () => {
    const body = JSON.stringify({ q: 'pending' });
    const { offer, required } = await unpaid(body);
    const payload = await stockSvmClient(wallet, m.sol).createPaymentPayload({ ...required, accepts: [offer] });
    const before = await balances();
    const forwards = m.stub.calls.length;
    m.sol.setCommitmentMode('confirmed');
    let transaction: string;
    try {
      const res = await present(body, payload);
      expect(res.status).toBe(504);
      const pending = b64json<SettleResponse>(res.headers.get('PAYMENT-RESPONSE'));
      expect(pending).toMatchObject({ success: false, errorReason: 'settlement_pending' });
      transaction = pending.transaction;
      expect(m.sol.ledger.find(transaction)).toBeTruthy();
      expect(m.stub.calls.length).toBe(forwards);
    } finally {
      m.sol.setCommitmentMode('finalized');
    }
    m.sol.finalize(transaction);
    const done = await present(body, payload);
    expect(done.status).toBe(200);
    expect(b64json<SettleResponse>(done.headers.get('PAYMENT-RESPONSE'))).toMatchObject({ success: true, transaction });
    expect(before.buyer - (await balances()).buyer).toBe(PRICE);
    expect(m.stub.calls.length).toBe(forwards + 1);
    const again = await present(body, payload);
    expect(again.status).toBe(409);
    expect(m.stub.calls.length).toBe(forwards + 1);
  });
});

test('payment-identifier: a client that starts over (new 402, new transaction, same id) resumes the first payment, never pays twice', async () => {
  const { appendPaymentIdentifierToExtensions, generatePaymentId } = await import('@x402/extensions/payment-identifier');
  const id = generatePaymentId();
  const body = JSON.stringify({ q: 'idempotent' });
  const client = stockSvmClient(wallet, m.sol);
  const signWithId = async () => {
    const { offer, required } = await unpaid(body);
    required.extensions ??= {};
    appendPaymentIdentifierToExtensions(required.extensions, id);
    return client.createPaymentPayload({ ...required, accepts: [offer] });
  };
  const before = await balances();
  const forwards = m.stub.calls.length;
  const first = await signWithId();
  m.sol.setCommitmentMode('confirmed');
  let transaction: string;
  try {
    const pending = await present(body, first);
    expect(pending.status).toBe(504);
    transaction = b64json<SettleResponse>(pending.headers.get('PAYMENT-RESPONSE')).transaction;
  } finally {
    m.sol.setCommitmentMode('finalized');
  }
  m.sol.finalize(transaction);
  m.sol.ledger.svm.expireBlockhash();
  const retry = await signWithId();
  expect(retry.payload['transaction']).not.toBe(first.payload['transaction']);
  const done = await present(body, retry);
  expect(done.status).toBe(200);
  expect(b64json<SettleResponse>(done.headers.get('PAYMENT-RESPONSE'))).toMatchObject({ success: true, transaction });
  expect(before.buyer - (await balances()).buyer).toBe(PRICE);
  expect(m.stub.calls.length).toBe(forwards + 1);
});

test('a fee payer out of SOL: 503 retryable, nothing moved; once funded, the same payload pays once', async () => {
  const body = JSON.stringify({ q: 'unfunded' });
  const { offer, required } = await unpaid(body);
  const payload = await stockSvmClient(wallet, m.sol).createPaymentPayload({ ...required, accepts: [offer] });
  const lamports = m.sol.ledger.svm.getBalance(feePayer.address) ?? 0n;
  setLamports(feePayer.address, 0n);
  const before = await balances();
  const forwards = m.stub.calls.length;
  try {
    const res = await present(body, payload);
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('PAYMENT_RPC_UNAVAILABLE');
    expect(res.json.error.recovery.retryable).toBe(true);
    expect(await balances()).toEqual(before);
    expect(m.stub.calls.length).toBe(forwards);
  } finally {
    setLamports(feePayer.address, lamports);
  }
  const done = await present(body, payload);
  expect(done.status).toBe(200);
  expect(before.buyer - (await balances()).buyer).toBe(PRICE);
  expect(m.stub.calls.length).toBe(forwards + 1);
});

/** Sets an account's lamports directly (0 deletes it, as the runtime does). */
function setLamports(owner: string, amount: bigint) {
  const account = m.sol.ledger.svm.getAccount(address(owner));
  if (!account.exists) {
    m.sol.ledger.fund(address(owner), amount);
    return;
  }
  m.sol.ledger.svm.setAccount({ ...account, address: address(owner), lamports: lamports(amount) });
}

test('x402 discovery lists the listing with its Solana exact requirement', async () => {
  const res = await m.t.call('GET', '/discovery/resources?limit=100');
  expect(res.status).toBe(200);
  const item = res.json.items.find((i: { metadata: { listing_id: string } }) => i.metadata.listing_id === m.listing.id);
  expect(item.accepts).toContainEqual(expect.objectContaining({ scheme: 'exact', network: SOLANA_DEVNET_CAIP2, asset: m.sol.mint, amount: PRICE.toString(), payTo: m.treasury.solana }));
});

test('the native relay-id Solana flow still works on the same instance', async () => {
  const raw = JSON.stringify({ q: 'native' });
  const res = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'SOL' });
  expect(res.status).toBe(402);
  const route = res.json.payment.routes[0];
  await payUsdcSolana({ rpc: m.sol.rpc, payer: wallet, mint: m.sol.mint, payToOwner: address(route.pay_to), amountAtomic: PRICE, decimals: 6, reference: address(route.reference) });
  const done = await m.call(m.listing.id, raw, m.buyer.key, { relay: res.json.payment.relay_request_id });
  expect(done.status).toBe(200);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});
