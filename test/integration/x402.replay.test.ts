// Threat: one x402 payment authorization pays for two calls, is charged twice, or is forwarded twice —
// replayed, raced 20 times, presented to a second process on the same data folder, or re-presented
// while its settlement is pending — or a payment not made by the buyer, for another amount,
// recipient, window or body, is settled at all.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePaymentResponseHeader, type PaymentRequired } from '@x402/fetch';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import { masterKeyToBase64 } from '../../src/modules/vault/envelope.ts';
import { startServeProcess, type ServeProcess } from '../support/serve-process.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { startX402Market, type X402Market } from '../support/x402-market.ts';

allowSlowSetup();

let m: X402Market;
let other: ServeProcess;
const logFile = join(mkdtempSync(join(tmpdir(), 'crochet-x402-log-')), 'serve.log');
beforeAll(async () => {
  m = await startX402Market();
  // A second `crochet serve` on the same data folder and master key.
  other = await startServeProcess(m.t.dir, logFile, {
    ...m.env,
    CROCHET_LOG_LEVEL: 'info',
    CROCHET_MASTER_KEY: masterKeyToBase64(m.t.masterKey),
    CROCHET_PUBLIC_URL: m.t.config.public_url,
  });
});
afterAll(async () => {
  await other?.stop();
  await m.stop();
});

test('the second process logs its relayer\'s address, never its key', async () => {
  const log = await Bun.file(logFile).text();
  expect(log).toContain(m.relayer.address);
  expect(log).toContain('x402 settling key');
  expect(log.toLowerCase()).not.toContain(m.relayer.privateKey.slice(2).toLowerCase());
  expect((await Bun.file(`${logFile}.err`).text()).toLowerCase()).not.toContain(m.relayer.privateKey.slice(2).toLowerCase());
});

const decode = <T>(header: string | null): T => JSON.parse(Buffer.from(header ?? '', 'base64').toString('utf8')) as T;

/** Buyer's USDC and seller forwards now, to compare after. */
async function snapshot() {
  return { buyer: await m.usdc.balanceOf(m.buyer.account.address), stranger: await m.usdc.balanceOf(m.stranger.account.address), forwards: m.forwards() };
}

async function expectNothingMoved(before: Awaited<ReturnType<typeof snapshot>>) {
  const after = await snapshot();
  expect(after).toEqual(before);
}

/** The payment through the documented route (checked against the OpenAPI document). */
const present = (signature: string, body: unknown, key = m.buyer.key) =>
  m.t.call('POST', `/api/v1/gateway/${m.listing.id}`, { key, rawBody: JSON.stringify(body), headers: { 'content-type': 'application/json', 'PAYMENT-SIGNATURE': signature } });

test('a captured PAYMENT-SIGNATURE replayed after its call completed: 409 PAYMENT_ALREADY_USED, nothing charged or forwarded again', async () => {
  const body = { replay: 1 };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const first = await present(signature, body);
  expect(first.status).toBe(200);
  expect(decodePaymentResponseHeader(first.headers.get('payment-response') ?? '').success).toBe(true);
  const before = await snapshot();
  const again = await present(signature, body);
  expect(again.status).toBe(409);
  expect(again.json.error.code).toBe('PAYMENT_ALREADY_USED');
  expect(again.json.error.details.gateway_request_id).toBe(first.headers.get('x-crochet-request-id'));
  await expectNothingMoved(before);
});

test('20 concurrent presentations of one payload: one transfer, one forward, every other answer a 4xx', async () => {
  const body = { race: 20 };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const before = await snapshot();
  const replies = await Promise.all(Array.from({ length: 20 }, () => m.replay(signature, body, m.buyer.key)));
  const statuses = replies.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  for (const s of statuses.filter((s) => s !== 200)) expect(s).toBe(409);
  const after = await snapshot();
  expect(after.buyer).toBe(before.buyer - 250_000n);
  expect(after.forwards).toBe(before.forwards + 1);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});

test('one payload on two serve processes over the same data folder: one transfer, one forward, 4xx on the other', async () => {
  const body = { processes: 2 };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const before = await snapshot();
  const [here, there] = await Promise.all([m.replay(signature, body, m.buyer.key), m.replay(signature, body, m.buyer.key, other.baseUrl)]);
  expect([here.status, there.status].sort()).toEqual([200, 409]);
  const later = await m.replay(signature, body, m.buyer.key, other.baseUrl);
  expect(later.status).toBe(409);
  expect(((await later.json()) as { error: { code: string } }).error.code).toBe('PAYMENT_ALREADY_USED');
  const after = await snapshot();
  expect(after.buyer).toBe(before.buyer - 250_000n);
  expect(after.forwards).toBe(before.forwards + 1);
});

test('after a seller failure the same payload forwards again at no charge, and completes once', async () => {
  const body = { sellerFails: true };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const before = await snapshot();
  m.setSellerFails(true);
  let failed: Awaited<ReturnType<typeof present>>;
  try {
    failed = await present(signature, body);
  } finally {
    m.setSellerFails(false);
  }
  expect(failed.status).toBe(502);
  expect(decodePaymentResponseHeader(failed.headers.get('payment-response') ?? '').success).toBe(true);
  const retried = await present(signature, body);
  expect(retried.status).toBe(200);
  expect((await present(signature, body)).status).toBe(409);
  const after = await snapshot();
  expect(after.buyer).toBe(before.buyer - 250_000n);
  expect(after.forwards).toBe(before.forwards + 2);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});

test('a relayer without gas answers a retryable 503 and sends nothing; once funded, the same payload settles once', async () => {
  const body = { relayerDry: true };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const before = await snapshot();
  const setBalance = (wei: bigint) =>
    fetch(m.chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setBalance', params: [m.relayer.address, `0x${wei.toString(16)}`] }) });
  await setBalance(0n);
  let dry: Awaited<ReturnType<typeof present>>;
  try {
    dry = await present(signature, body);
  } finally {
    await setBalance(10n ** 21n);
  }
  expect(dry.status).toBe(503);
  expect(dry.json.error.code).toBe('PAYMENT_RPC_UNAVAILABLE');
  await expectNothingMoved(before);
  const paid = await present(signature, body);
  expect(paid.status).toBe(200);
  const after = await snapshot();
  expect(after.buyer).toBe(before.buyer - 250_000n);
  expect(after.forwards).toBe(before.forwards + 1);
});

test('a payment recorded as sent that never reached the chain (the process died while sending) is sent again once, not lost', async () => {
  const body = { crashedWhileSending: true };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const payload = decode<{ accepted: { network: string; asset: string; extra: { crochet: { relay_request_id: string } } }; payload: { authorization: { from: string; nonce: string } } }>(signature);
  const intentId = payload.accepted.extra.crochet.relay_request_id;
  const { from, nonce } = payload.payload.authorization;
  // What a process leaves behind when it dies between recording the signed transaction and sending it.
  const longAgo = new Date(m.t.clock.now().getTime() - 10 * 60_000).toISOString();
  m.t.deps.db.sqlite
    .query("INSERT INTO x402_claims (claim_key, intent_id, buyer_id, network, payer, payload_sha256, state, \"transaction\", created_at, updated_at) SELECT ?, id, buyer_id, ?, ?, 'x', 'sent', ?, ?, ? FROM payment_intents WHERE id = ?")
    .run(`${payload.accepted.network}:${payload.accepted.asset.toLowerCase()}:${from.toLowerCase()}:${nonce.toLowerCase()}`, payload.accepted.network, from, `0x${'ab'.repeat(32)}`, longAgo, longAgo, intentId);
  const before = await snapshot();
  const lost = await present(signature, body);
  expect(lost.status).toBe(503);
  await expectNothingMoved(before);
  const paid = await present(signature, body);
  expect(paid.status).toBe(200);
  expect((await present(signature, body)).status).toBe(409);
  const after = await snapshot();
  expect(after.buyer).toBe(before.buyer - 250_000n);
  expect(after.forwards).toBe(before.forwards + 1);
});

test('a payment sent before its listing was suspended completes once; new x402 payments are refused before anything is signed', async () => {
  const { signInAdmin } = await import('../support/admin.ts');
  const { as } = await import('../support/humans.ts');
  const admin = await signInAdmin(m.t);
  const body = { suspended: true };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const unsent = await m.signedPayment(m.buyer.account, m.buyer.key, { suspended: 'later' });
  const before = await snapshot();
  await m.chain.setAutomine(false);
  try {
    expect((await present(signature, body)).status).toBe(504);
  } finally {
    await m.chain.setAutomine(true);
  }
  const path = `/api/v1/admin/listings/${m.listing.id}`;
  expect((await m.t.call('PATCH', path, as(admin, { body: { status: 'suspended' } }))).status).toBe(200);
  try {
    // A payment signed but never sent: refused, nothing charged for a suspended listing.
    const refusedUnsent = await present(unsent, { suspended: 'later' });
    expect([refusedUnsent.status, refusedUnsent.json.error.code]).toEqual([409, 'LISTING_SUSPENDED']);
    await m.chain.mine(1);
    const done = await present(signature, body);
    expect(done.status).toBe(200);
    const again = await present(signature, body);
    expect([again.status, again.json.error.code]).toEqual([409, 'LISTING_SUSPENDED']);
  } finally {
    expect((await m.t.call('PATCH', path, as(admin, { body: { status: 'active' } }))).status).toBe(200);
  }
  const after = await snapshot();
  expect(after.buyer).toBe(before.buyer - 250_000n);
  expect(after.forwards).toBe(before.forwards + 1);
});

/** A refusal: 402 with a fresh PAYMENT-REQUIRED naming x402's reason and Crochet's code; nothing moved. */
async function expectRefused(res: Response | { status: number; headers: Headers; json: any }, code: string, before: Awaited<ReturnType<typeof snapshot>>) {
  const json = 'json' in res && typeof res.json !== 'function' ? res.json : await (res as Response).json();
  expect(res.status).toBe(402);
  expect(json.error.code).toBe(code);
  expect(json.payment.relay_request_id).toMatch(/^rly_/);
  const fresh = decode<PaymentRequired>(res.headers.get('payment-required'));
  expect(fresh.error).toBeString();
  expect(fresh.accepts[0]!.extra['crochet']).toMatchObject({ relay_request_id: json.payment.relay_request_id });
  await expectNothingMoved(before);
}

test('an authorization signed by a wallet not linked to the buyer is refused before anything is sent', async () => {
  const before = await snapshot();
  // The buyer's API key, the stranger's wallet in the x402 client.
  const res = await m.payingFetch(m.stranger.account, m.buyer.key)(m.listing.id, { unlinked: true });
  await expectRefused(res, 'PAYMENT_PAYER_NOT_LINKED', before);
});

test('another agent presenting the buyer\'s payload is refused and nothing is sent', async () => {
  const body = { theft: 1 };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const before = await snapshot();
  await expectRefused(await present(signature, body, m.stranger.key), 'PAYMENT_INTENT_NOT_FOUND', before);
});

test('a client that lowers the amount before signing is refused', async () => {
  const before = await snapshot();
  const res = await m.payingFetch(m.buyer.account, m.buyer.key, { rewrite: (r) => void (r.accepts[0]!.amount = '1') })(m.listing.id, { tamper: 'amount' });
  await expectRefused(res, 'PAYMENT_INSUFFICIENT', before);
});

test('a client that redirects the payTo before signing is refused', async () => {
  const before = await snapshot();
  const res = await m.payingFetch(m.buyer.account, m.buyer.key, { rewrite: (r) => void (r.accepts[0]!.payTo = m.stranger.account.address) })(m.listing.id, { tamper: 'payTo' });
  await expectRefused(res, 'PAYMENT_WRONG_RECIPIENT', before);
});

test('an authorization whose validity window has (almost) ended is refused', async () => {
  const before = await snapshot();
  // The stock client signs validBefore = now + maxTimeoutSeconds.
  const res = await m.payingFetch(m.buyer.account, m.buyer.key, { rewrite: (r) => void (r.accepts[0]!.maxTimeoutSeconds = 1) })(m.listing.id, { tamper: 'window' });
  await expectRefused(res, 'PAYMENT_AUTHORIZATION_EXPIRED', before);
});

test('a payment signed for one body presented with another body is refused', async () => {
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, { body: 'original' });
  const before = await snapshot();
  await expectRefused(await present(signature, { body: 'changed' }), 'PAYMENT_REQUEST_MISMATCH', before);
});

test('a settlement not final by the deadline answers 504 settlement_pending; the same payload then completes once', async () => {
  const body = { pending: true };
  const signature = await m.signedPayment(m.buyer.account, m.buyer.key, body);
  const before = await snapshot();
  await m.chain.setAutomine(false);
  let pending: Awaited<ReturnType<typeof present>>;
  try {
    pending = await present(signature, body);
  } finally {
    await m.chain.setAutomine(true);
  }
  expect(pending.status).toBe(504);
  expect(pending.json.error.code).toBe('PAYMENT_SETTLEMENT_PENDING');
  const response = decodePaymentResponseHeader(pending.headers.get('payment-response') ?? '');
  expect(response).toMatchObject({ success: false, errorReason: 'settlement_pending' });
  expect(response.transaction).toMatch(/^0x[0-9a-f]{64}$/);
  expect(m.forwards()).toBe(before.forwards);

  await m.chain.mine(1);
  const resumed = await present(signature, body);
  expect(resumed.status).toBe(200);
  expect(decodePaymentResponseHeader(resumed.headers.get('payment-response') ?? '')).toMatchObject({ success: true, transaction: response.transaction });
  const again = await present(signature, body);
  expect(again.status).toBe(409);
  const after = await snapshot();
  expect(after.buyer).toBe(before.buyer - 250_000n);
  expect(after.forwards).toBe(before.forwards + 1);
  expect(verifyLedger(m.t.deps.db.sqlite).ok).toBe(true);
});
