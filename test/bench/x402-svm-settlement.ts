// A paid call end to end on LiteSVM (the test JSON-RPC), the buyer's way: the stock @x402/fetch
// client with @x402/svm (402 → build and sign the TransferChecked → retry; Crochet inspects,
// simulates, claims, co-signs as fee payer, sends, reads the final transaction back, forwards)
// against the native flow (402 → the buyer's own Solana Pay transfer → retry with the relay id and
// signature). Same app, chain and seller stub; figures only, never asserted.
// Run directly: `bun test/bench/x402-svm-settlement.ts [N]`.
import { address } from '@solana/kit';
import { wrapFetchWithPayment } from '@x402/fetch';
import { startPaidMarket } from '../support/paid-market.ts';
import { payUsdcSolana } from '../support/solana-pay.ts';
import { newFeePayerSecret, stockSvmClient } from '../support/x402-svm.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function runX402SvmSettlementBench(iterations = 20, log: (line: string) => void = console.log) {
  const feePayer = await newFeePayerSecret();
  const m = await startPaidMarket({ env: { CROCHET_X402_SOLANA_FEE_PAYER: feePayer.secret } });
  try {
    m.sol.ledger.fund(feePayer.address, 1_000_000_000n);
    await m.sol.mintTo(m.treasury.solana, 0n);
    const wallet = await m.sol.createFundedWallet(1_000_000_000n);
    const url = `http://127.0.0.1:${m.t.app.server?.port}/api/v1/gateway/${m.listing.id}`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${m.buyer.key}`, 'x-crochet-origin-currency': 'SOL' };
    const pay = wrapFetchWithPayment(fetch, stockSvmClient(wallet, m.sol));
    const x402 = (i: number) => pay(url, { method: 'POST', headers, body: JSON.stringify({ x402: i }) });
    const native = async (i: number) => {
      const body = JSON.stringify({ native: i });
      const first = (await (await fetch(url, { method: 'POST', headers, body })).json()) as { payment: { relay_request_id: string; routes: { pay_to: string; amount_atomic: string; reference: string }[] } };
      const route = first.payment.routes[0]!;
      const signature = await payUsdcSolana({ rpc: m.sol.rpc, payer: wallet, mint: m.sol.mint, payToOwner: address(route.pay_to), amountAtomic: BigInt(route.amount_atomic), decimals: 6, reference: address(route.reference) });
      return fetch(url, { method: 'POST', headers: { ...headers, 'x-crochet-relay-request-id': first.payment.relay_request_id, 'x-crochet-payment-tx': signature }, body });
    };
    // One of each first: mint metadata, key import, clients and connections warm.
    await (await x402(-1)).arrayBuffer();
    await (await native(-1)).arrayBuffer();
    const x402Ms: number[] = [];
    const nativeMs: number[] = [];
    for (let i = 0; i < iterations; i++) {
      let t0 = performance.now();
      const a = await x402(i);
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
    log(`x402 Solana paid call (stock @x402/fetch + @x402/svm, fee payer settles): median ${x.toFixed(1)} ms over ${iterations}`);
    log(`native Solana paid call (buyer's Solana Pay transfer + relay id retry): median ${n.toFixed(1)} ms over ${iterations}`);
    log(`ratio x402 / native: ${(x / n).toFixed(2)}`);
  } finally {
    await m.stop();
  }
}

if (import.meta.main) await runX402SvmSettlementBench(Number(Bun.argv[2] ?? 20));
