// Threat: two `crochet serve` processes on one data folder forward one paid call twice, answer a
// buyer with a 5xx, or — when the process forwarding a call dies — forward it again at once or
// credit it twice (SPEC §5 item 9: the forwarding claim is a lease in the database).
import { Database } from 'bun:sqlite';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import type { Hex } from 'viem';
import { generateMasterKey, masterKeyToBase64 } from '../../src/modules/vault/envelope.ts';
import { startAnvil, type AnvilChain, type AnvilAccount } from '../support/anvil.ts';
import { httpCaller, registerAgent } from '../support/app.ts';
import { freePort } from '../support/binary.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { deployTestToken, type TestToken } from '../support/usdc.ts';
import { evmWallet } from '../support/wallets.ts';

allowSlowSetup();

const ROOT = join(import.meta.dir, '../..');
/** The slow listing's endpoint timeout; its lease lasts this plus FORWARD_LEASE_MARGIN_MS (10 s). */
const SLOW_TIMEOUT_MS = 3_000;

type Serve = { proc: Subprocess<'ignore', 'ignore', 'pipe'>; base: string };

let chain: AnvilChain;
let usdc: TestToken;
let buyerAccount: AnvilAccount;
let dir: string;
let env: Record<string, string>;
let a: Serve;
let b: Serve;
let stub: ReturnType<typeof startSellerStub>;
let buyerKey: string;
let listingId: string;
let slowListingId: string;
/** Calls on the slow route that never answer (the forward in flight when its process is killed). */
const hanging = new Set<string>();
/** While set, every call on the slow route takes this long (calls in flight under load). */
let lagMs = 0;

async function serve(): Promise<Serve> {
  const port = freePort();
  const proc = Bun.spawn(['bun', 'src/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1'], { cwd: ROOT, env: { ...process.env, ...env }, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`serve exited: ${await new Response(proc.stderr).text()}`);
    if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) return { proc, base };
    if (i > 600) throw new Error('serve did not become healthy');
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  chain = await startAnvil();
  const [deployer, buyer, , , , , , , , treasury] = chain.accounts as [AnvilAccount, ...AnvilAccount[]];
  buyerAccount = buyer!;
  usdc = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer });
  await usdc.mint(buyerAccount.address, 1_000_000_000n);
  dir = mkdtempSync(join(tmpdir(), 'crochet-two-'));
  env = {
    CROCHET_DATA_DIR: dir,
    CROCHET_MASTER_KEY: masterKeyToBase64(generateMasterKey()),
    CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
    CROCHET_POW_DIFFICULTY: '1',
    CROCHET_LOG_LEVEL: 'warn',
    CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '0',
    CROCHET_RATE_LIMIT_READ_PER_MIN: '0',
    CROCHET_RATE_LIMIT_WRITE_PER_MIN: '0',
    CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0',
    CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0',
    CROCHET_PAYMENT_ROUTES: JSON.stringify([{ network: `eip155:${chain.chainId}`, rpc_url: chain.rpcUrl, asset: usdc.address, decimals: 6, confirmations: 1, min_amount: '0.01', treasury: treasury!.address }]),
  };
  stub = startSellerStub({
    routes: {
      '/paid': () => Response.json({ answer: 42 }),
      '/slow': async (call) => {
        const relay = call.headers['x-crochet-relay-request-id'] ?? '';
        if (hanging.has(relay)) {
          hanging.delete(relay);
          await Bun.sleep(60_000);
        }
        if (lagMs > 0) await Bun.sleep(lagMs);
        return Response.json({ answer: 'slow' });
      },
    },
  });
  a = await serve();
  const call = httpCaller(a.base);
  const seller = await registerAgent(call, evmWallet(), 'Seller');
  buyerKey = (await registerAgent(call, evmWallet(buyerAccount.privateKey), 'Buyer')).key;
  const listing = await createListing(call, seller.key, { pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: stub.url('/paid') });
  const slow = await createListing(call, seller.key, { name: 'Slow oracle', pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: stub.url('/slow') });
  expect((await call('PUT', `/api/v1/listings/${slow.id}/endpoint`, { key: seller.key, body: { timeout_ms: SLOW_TIMEOUT_MS } })).status).toBe(200);
  listingId = listing.id;
  slowListingId = slow.id;
  // Started once everything above exists: what it caches is already current.
  b = await serve();
});

afterAll(async () => {
  for (const s of [a, b]) if (s && s.proc.exitCode === null) s.proc.kill('SIGKILL');
  await Promise.all([a?.proc.exited, b?.proc.exited]);
  stub?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const gateway = (s: Serve, id: string, body: string, headers: Record<string, string> = {}) =>
  httpCaller(s.base)('POST', `/api/v1/gateway/${id}`, { rawBody: body, key: buyerKey, headers: { 'content-type': 'application/json', ...headers } });

/** A 402 from `via`, paid on chain: the relay id and the transaction. */
async function paidIntent(via: Serve, id: string, body: string) {
  const res = await gateway(via, id, body);
  expect(res.status).toBe(402);
  const route = res.json.payment.routes[0];
  const tx = await usdc.transfer(buyerAccount, route.pay_to as Hex, BigInt(route.amount_atomic));
  return { relay: res.json.payment.relay_request_id as string, tx };
}

const forwardsOf = (relay: string) => stub.calls.filter((c) => c.headers['x-crochet-relay-request-id'] === relay).length;

function query<T>(sql: string, ...args: string[]): T[] {
  const db = new Database(join(dir, 'crochet.db'), { readonly: true });
  try {
    return db.query(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}
const credits = (relay: string) => query<{ n: number }>("SELECT COUNT(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'seller_credit'", relay)[0]!.n;

async function ledgerVerifies(): Promise<boolean> {
  const proc = Bun.spawn(['bun', 'src/main.ts', 'ledger', 'verify'], { cwd: ROOT, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' });
  return (await proc.exited) === 0;
}

test('60 concurrent retries of one paid relay id, split across both processes: one forward, one 200, no 5xx', async () => {
  const { relay, tx } = await paidIntent(a, listingId, '{"q":"sixty"}');
  const results = await Promise.all(Array.from({ length: 60 }, (_, i) => gateway(i % 2 ? a : b, listingId, '{"q":"sixty"}', { 'x-crochet-relay-request-id': relay, 'x-crochet-payment-tx': tx })));
  const statuses = results.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  expect(statuses.filter((s) => s >= 500)).toEqual([]);
  for (const r of results.filter((x) => x.status !== 200)) {
    expect(r.status).toBe(409);
    expect(['PAYMENT_IN_PROGRESS', 'PAYMENT_INTENT_CONSUMED']).toContain(r.json.error.code);
  }
  expect(forwardsOf(relay)).toBe(1);
  expect(credits(relay)).toBe(1);
});

test('30 paid intents, each retried on both processes at once: each forwarded once, the ledger verifies', async () => {
  const intents: { relay: string; tx: string; body: string }[] = [];
  for (let i = 0; i < 30; i++) {
    const body = JSON.stringify({ q: 'thirty', i });
    intents.push({ ...(await paidIntent(i % 2 ? a : b, listingId, body)), body });
  }
  const results = await Promise.all(
    intents.flatMap(({ relay, tx, body }) => [a, b].map((s) => gateway(s, listingId, body, { 'x-crochet-relay-request-id': relay, 'x-crochet-payment-tx': tx }).then((r) => ({ relay, status: r.status })))),
  );
  expect(results.filter((r) => r.status >= 500)).toEqual([]);
  for (const { relay } of intents) {
    expect(results.filter((r) => r.relay === relay && r.status === 200)).toHaveLength(1);
    expect(forwardsOf(relay)).toBe(1);
    expect(credits(relay)).toBe(1);
  }
  expect(await ledgerVerifies()).toBe(true);
});

test('kill -9 under paid load: every call completes once on the survivor, every transfer booked once, the ledger verifies', async () => {
  const intents: { relay: string; tx: string; body: string }[] = [];
  for (let i = 0; i < 16; i++) {
    const body = JSON.stringify({ q: 'load', i });
    intents.push({ ...(await paidIntent(b, slowListingId, body)), body });
  }
  lagMs = 1_500;
  try {
    for (const { relay, tx, body } of intents) void gateway(a, slowListingId, body, { 'x-crochet-relay-request-id': relay, 'x-crochet-payment-tx': tx }).catch(() => undefined);
    for (let i = 0; intents.filter((x) => forwardsOf(x.relay) > 0).length < 8; i++) {
      if (i > 800) throw new Error('the calls never reached the seller');
      await Bun.sleep(25);
    }
    a.proc.kill('SIGKILL');
    await a.proc.exited;
  } finally {
    lagMs = 0;
  }
  // The buyer retries each on the survivor until it is served (or was served before the kill).
  const deadline = Date.now() + SLOW_TIMEOUT_MS + 30_000;
  for (const { relay, tx, body } of intents) {
    for (;;) {
      const res = await gateway(b, slowListingId, body, { 'x-crochet-relay-request-id': relay, 'x-crochet-payment-tx': tx });
      if (res.status === 200 || res.json?.error?.code === 'PAYMENT_INTENT_CONSUMED') break;
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('PAYMENT_IN_PROGRESS');
      if (Date.now() > deadline) throw new Error(`${relay} was never served`);
      await Bun.sleep(500);
    }
  }
  for (const { relay, tx } of intents) {
    expect(query<{ status: string }>('SELECT status FROM payment_intents WHERE id = ?', relay)).toEqual([{ status: 'consumed' }]);
    expect(credits(relay)).toBe(1);
    expect(query<{ n: number }>("SELECT COUNT(*) AS n FROM ledger_entries WHERE relay_request_id = ? AND entry_type = 'buyer_payment'", relay)[0]!.n).toBe(1);
    expect(query<{ n: number }>('SELECT COUNT(*) AS n FROM payment_settlements WHERE tx_ref = ?', tx.toLowerCase())[0]!.n).toBe(1);
  }
  expect(await ledgerVerifies()).toBe(true);
  a = await serve(); // the next test kills it again
}, 120_000);

test('the process forwarding a paid call is killed (SIGKILL): no second forward until its lease lapses, then one, credited once', async () => {
  const body = '{"q":"killed"}';
  const { relay, tx } = await paidIntent(b, slowListingId, body);
  hanging.add(relay);
  const headers = { 'x-crochet-relay-request-id': relay, 'x-crochet-payment-tx': tx };
  void gateway(a, slowListingId, body, headers).catch(() => undefined); // dies with its process
  for (let i = 0; forwardsOf(relay) === 0; i++) {
    if (i > 400) throw new Error('the call never reached the seller');
    await Bun.sleep(25);
  }
  a.proc.kill('SIGKILL');
  await a.proc.exited;
  const [held] = query<{ status: string; lease_until: string | null }>('SELECT status, lease_until FROM payment_intents WHERE id = ?', relay);
  expect(held?.status).toBe('settled');
  const leaseUntil = Date.parse(held?.lease_until ?? '');
  // The endpoint's timeout plus a margin of at most 30 s, counted from the claim (just now).
  expect(leaseUntil - Date.now()).toBeGreaterThan(SLOW_TIMEOUT_MS);
  expect(leaseUntil - Date.now()).toBeLessThanOrEqual(SLOW_TIMEOUT_MS + 30_000);

  let done: { status: number; sentAt: number } | null = null;
  while (!done) {
    const sentAt = Date.now();
    const res = await gateway(b, slowListingId, body, { 'x-crochet-relay-request-id': relay });
    if (res.status === 200) done = { status: res.status, sentAt };
    else {
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('PAYMENT_IN_PROGRESS');
      // Still only the forward of the dead process.
      expect(forwardsOf(relay)).toBe(1);
      if (Date.now() > leaseUntil + 20_000) throw new Error('the lease never lapsed');
      await Bun.sleep(500);
    }
  }
  // The retry that went through was sent once the lease had lapsed (both processes read one clock).
  expect(done.sentAt).toBeGreaterThanOrEqual(leaseUntil - 5);
  expect(forwardsOf(relay)).toBe(2);
  expect(credits(relay)).toBe(1);
  expect(query<{ status: string; lease_id: string | null }>('SELECT status, lease_id FROM payment_intents WHERE id = ?', relay)).toEqual([{ status: 'consumed', lease_id: null }]);
  expect(await ledgerVerifies()).toBe(true);
}, 90_000);
