// A paid call end to end on anvil (automine), the buyer's way: the stock @x402/fetch client (402 →
// sign EIP-3009 → retry; Crochet verifies, claims, sends with its relayer, waits for the receipt,
// forwards) against the native flow (402 → the buyer's own ERC-20 transfer, mined → retry with
// the relay id). Same app, chain and seller stub; figures only, never asserted.
// Run directly: `bun test/bench/x402-settlement.ts [N]`.
import { startX402Market } from '../support/x402-market.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function runX402SettlementBench(iterations = 20, log: (line: string) => void = console.log) {
  const m = await startX402Market();
  try {
    const pay = m.payingFetch(m.buyer.account, m.buyer.key);
    const url = `${m.base}/api/v1/gateway/${m.listing.id}`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${m.buyer.key}` };
    const native = async (i: number) => {
      const body = JSON.stringify({ native: i });
      const first = (await (await fetch(url, { method: 'POST', headers, body })).json()) as { payment: { relay_request_id: string; routes: { pay_to: `0x${string}`; amount_atomic: string }[] } };
      const route = first.payment.routes[0]!;
      const tx = await m.usdc.transfer(m.buyer.account, route.pay_to, BigInt(route.amount_atomic));
      return fetch(url, { method: 'POST', headers: { ...headers, 'x-crochet-relay-request-id': first.payment.relay_request_id, 'x-crochet-payment-tx': tx }, body });
    };
    // One of each first: token domain read, clients and connections warm.
    await (await pay(m.listing.id, { warm: 1 })).arrayBuffer();
    await (await native(-1)).arrayBuffer();
    const x402Ms: number[] = [];
    const nativeMs: number[] = [];
    for (let i = 0; i < iterations; i++) {
      let t0 = performance.now();
      const a = await pay(m.listing.id, { x402: i });
      await a.arrayBuffer();
      x402Ms.push(performance.now() - t0);
      t0 = performance.now();
      const b = await native(i);
      await b.arrayBuffer();
      nativeMs.push(performance.now() - t0);
      if (a.status !== 200 || b.status !== 200) throw new Error(`paid call failed: x402 ${a.status}, native ${b.status}`);
    }
    const x = median(x402Ms);
    const n = median(nativeMs);
    log(`x402 paid call (stock @x402/fetch, relayer settles): median ${x.toFixed(1)} ms over ${iterations}`);
    log(`native paid call (buyer's transfer + relay id retry): median ${n.toFixed(1)} ms over ${iterations}`);
    log(`ratio x402 / native: ${(x / n).toFixed(2)}`);
  } finally {
    await m.stop();
  }
}

if (import.meta.main) await runX402SettlementBench(Number(Bun.argv[2] ?? 20));
