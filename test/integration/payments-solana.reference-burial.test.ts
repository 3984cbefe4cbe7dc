// Threat: anyone who sees a payment's public reference on chain buries the paying transaction under transactions that also name it, so the buyer's paid call never settles.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { address, generateKeyPairSigner, type Address, type KeyPairSigner, type Signature } from '@solana/kit';
import { newSolanaReference } from '../../src/modules/payments/reference.ts';
import { createSolanaVerifier } from '../../src/modules/payments/solana-verifier.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { payUsdcSolana } from '../support/solana-pay.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let m: PaidMarket;
let buyer: KeyPairSigner;
let attacker: KeyPairSigner;
beforeAll(async () => {
  m = await startPaidMarket();
  buyer = await m.sol.createFundedWallet(100_000_000n);
  attacker = await m.sol.createFundedWallet(100_000_000n);
});
afterAll(() => m?.stop());

const pay = (payer: KeyPairSigner, payToOwner: Address, amountAtomic: bigint, reference: Address, extra: { skipPreflight?: boolean } = {}) =>
  payUsdcSolana({ rpc: m.sol.rpc, payer, mint: address(m.sol.mint), payToOwner, amountAtomic, decimals: 6, reference, ...extra });

/** `count` transactions naming `reference`, as a spammer sends them: dust to pay_to, transfers to itself, failures. */
async function spam(reference: Address, payTo: Address, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (i % 10 === 9) await pay(attacker, payTo, 10n ** 15n, reference, { skipPreflight: true }); // lands failed
    else if (i % 3 === 0) await pay(attacker, attacker.address, 1_000_000n, reference);
    else await pay(attacker, payTo, 1n, reference);
  }
}

/**
 * A verifier on the test chain whose RPC traffic passes through a counter of getSignaturesForAddress
 * calls; `failTransactions` are signatures whose getTransaction answers 429, as a busy RPC does.
 */
function countingVerifier(options: { signaturesPageLimit?: number } = {}, failTransactions: ReadonlySet<string> = new Set()) {
  const pages: { before?: string; limit?: number }[] = [];
  const proxy = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const call = JSON.parse(body) as { method: string; params: [string, { before?: string; limit?: number }?] };
      if (call.method === 'getSignaturesForAddress') pages.push(call.params[1] ?? {});
      if (call.method === 'getTransaction' && failTransactions.has(call.params[0])) return new Response('Too Many Requests', { status: 429 });
      return fetch(m.sol.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    },
  });
  const route = { network: m.sol.network, rpcUrl: `http://127.0.0.1:${proxy.port}`, mint: m.sol.mint, decimals: 6, commitment: 'finalized' as const };
  return { verifier: createSolanaVerifier(route, options), pages, stop: () => proxy.stop(true) };
}

test('a paying transaction behind 30 newer transactions naming its reference is found and settles (gateway, real HTTP)', async () => {
  const raw = '{"buried":true}';
  const offer = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'SOL' });
  expect(offer.status).toBe(402);
  const route = offer.json.payment.routes[0];
  const relay = offer.json.payment.relay_request_id as string;
  const real = await pay(buyer, address(route.pay_to), BigInt(route.amount_atomic), address(route.reference));
  await spam(address(route.reference), address(route.pay_to), 30);
  const listed = await m.sol.rpc.getSignaturesForAddress(address(route.reference), { commitment: 'confirmed' }).send();
  expect(listed).toHaveLength(31);
  expect(listed.at(-1)?.signature).toBe(real);

  const before = m.stub.calls.length;
  const res = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({ answer: 42 });
  expect(m.stub.calls.length).toBe(before + 1);
  const settled = m.t.deps.db.sqlite.query('SELECT tx_ref, amount_atomic FROM payment_settlements WHERE intent_id = ?').all(relay);
  expect(settled).toEqual([{ tx_ref: real, amount_atomic: route.amount_atomic }]);
});

describe('paging the reference history', () => {
  test('the verifier pages back with `before` until it reaches the payment', async () => {
    const payTo = (await generateKeyPairSigner()).address;
    const reference = address(newSolanaReference());
    const notBefore = Math.floor(Date.now() / 1000);
    const real = await pay(buyer, payTo, 250_000n, reference);
    await spam(reference, payTo, 30);
    const { verifier, pages, stop } = countingVerifier({ signaturesPageLimit: 10 });
    try {
      expect(await verifier.verify({ reference, payToOwner: payTo, amountAtomic: 250_000n, notBefore })).toMatchObject({ status: 'verified', txRef: real });
      // 31 signatures at 10 a page: four pages, each continuing before the previous page's oldest.
      expect(pages).toHaveLength(4);
      expect(pages[0]?.before).toBeUndefined();
      for (const page of pages) expect(page.limit).toBe(10);
      expect(new Set(pages.slice(1).map((p) => p.before)).size).toBe(3);
    } finally {
      stop();
    }
  });

  test('a spam transaction the RPC fails to return does not discard the payment verified beside it', async () => {
    const payTo = (await generateKeyPairSigner()).address;
    const reference = address(newSolanaReference());
    const notBefore = Math.floor(Date.now() / 1000);
    const real = await pay(buyer, payTo, 250_000n, reference);
    const junk = await pay(attacker, payTo, 1n, reference); // judged in the same batch as the payment
    const { verifier, stop } = countingVerifier({}, new Set([junk]));
    try {
      expect(await verifier.verify({ reference, payToOwner: payTo, amountAtomic: 250_000n, notBefore })).toMatchObject({ status: 'verified', txRef: real });
    } finally {
      stop();
    }
  });

  test('paging stops at the intent creation time: nothing older can carry a reference made for it', async () => {
    const payTo = (await generateKeyPairSigner()).address;
    const reference = address(newSolanaReference());
    await pay(buyer, payTo, 250_000n, reference);
    await spam(reference, payTo, 30);
    const { verifier, pages, stop } = countingVerifier({ signaturesPageLimit: 10 });
    try {
      // An intent created an hour after these transactions: the first page is already older.
      const notBefore = Math.floor(Date.now() / 1000) + 3600;
      expect((await verifier.verify({ reference, payToOwner: payTo, amountAtomic: 250_000n, notBefore })).status).not.toBe('verified');
      expect(pages).toHaveLength(1);
    } finally {
      stop();
    }
  });

  test('past the search bound the payment is not found by reference, and naming its signature still settles it', async () => {
    const payTo = (await generateKeyPairSigner()).address;
    const reference = address(newSolanaReference());
    const real = await pay(buyer, payTo, 250_000n, reference);
    await spam(reference, payTo, 55); // 10 pages of 5 hold the 50 newest
    const { verifier, pages, stop } = countingVerifier({ signaturesPageLimit: 5 });
    try {
      const args = { reference, payToOwner: payTo, amountAtomic: 250_000n, notBefore: Math.floor(Date.now() / 1000) - 60 };
      expect((await verifier.verify(args)).status).not.toBe('verified');
      expect(pages).toHaveLength(10);
      expect(await verifier.verify({ ...args, signature: real })).toMatchObject({ status: 'verified', txRef: real });
    } finally {
      stop();
    }
  });
});

describe('the test RPC pages getSignaturesForAddress like a validator', () => {
  test('newest first, default limit 1000, `before` and `until` exclusive, limits checked', async () => {
    const reference = address(newSolanaReference());
    const payTo = (await generateKeyPairSigner()).address;
    const sent: Signature[] = [];
    for (let i = 0; i < 7; i++) sent.push(await pay(attacker, payTo, 1n, reference));
    const list = (config: Parameters<typeof m.sol.rpc.getSignaturesForAddress>[1] = {}) =>
      m.sol.rpc.getSignaturesForAddress(reference, config).send().then((r) => r.map((e) => e.signature));
    const newestFirst = [...sent].reverse();
    expect(await list()).toEqual(newestFirst);
    expect(await list({ limit: 3 })).toEqual(newestFirst.slice(0, 3));
    expect(await list({ limit: 3, before: newestFirst[2] })).toEqual(newestFirst.slice(3, 6));
    expect(await list({ before: newestFirst[1], until: newestFirst[5] })).toEqual(newestFirst.slice(2, 5));
    // A cursor the node does not know ends the listing instead of restarting it (a pager would loop).
    expect(await list({ before: '1'.repeat(64) as Signature })).toEqual([]);
    for (const limit of [0, 1001]) {
      const error = await list({ limit }).catch((e: unknown) => e);
      expect(String(error)).toContain('Invalid limit; max 1000');
    }
  });
});
