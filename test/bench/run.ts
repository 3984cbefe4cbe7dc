// `bun run bench`: the five figures of issue 16, each beside its anchor measured in the same run,
// then a summary. Figures are printed, never asserted: benchmarks do not gate CI. Pass names to run
// a subset: `bun run bench search settlement`. Older diagnostics stay runnable by name:
// `gateway-autocannon` (with the forwarding-only split), `gateway-in-process`, `ledger-settlement`.
import { runGatewayBench } from './gateway.ts';
import { runInProcessBench } from './gateway-in-process.ts';
import { runGatewayTailBench } from './gateway-tail.ts';
import { runLedgerSettlementBench } from './ledger-settlement.ts';
import { runListingsSearchBench } from './listings-search.ts';
import { runPaymentSettlementBench } from './payment-settlement.ts';
import { runStartTimeBench } from './start-time.ts';
import { runX402SettlementBench } from './x402-settlement.ts';
import { runX402SvmSettlementBench } from './x402-svm-settlement.ts';

const summary: string[] = [];
const benches: Record<string, { inDefault: boolean; run: () => Promise<unknown> | unknown }> = {
  gateway: {
    inDefault: true,
    run: async () => {
      const r = await runGatewayTailBench(5, 3);
      summary.push(`[1] gateway p99 at saturation: Crochet ${r.saturation.c.p99.toFixed(1)} ms vs bare proxy ${r.saturation.b.p99.toFixed(1)} ms = ${(r.saturation.c.p99 / r.saturation.b.p99).toFixed(2)}× (target ≤ 3×)`);
      summary.push(`[1] added p99 at 1,000 req/s over direct: Crochet ${(r.fixed.c.p99 - r.fixed.a.p99).toFixed(2)} ms, bare proxy ${(r.fixed.b.p99 - r.fixed.a.p99).toFixed(2)} ms (target ≤ 1.5 ms)`);
      summary.push(`[2] throughput: Crochet ${r.saturation.c.rps.toFixed(0)} vs bare proxy ${r.saturation.b.rps.toFixed(0)} req/s = ${(r.saturation.c.rps / r.saturation.b.rps).toFixed(2)} (target ≥ 0.80)`);
    },
  },
  search: {
    inDefault: true,
    run: async () => {
      const r = await runListingsSearchBench();
      const [base, ...queries] = r;
      const worst = queries.reduce((w, q) => (q.p95Ms > w.p95Ms ? q : w));
      summary.push(`[3] search at 100k: worst p95 ${worst.p95Ms.toFixed(1)} ms (${worst.name}); anchor GET /categories p95 ${base?.p95Ms.toFixed(2)} ms (target every query ≤ 10 ms); ${queries.filter((q) => q.p95Ms <= 10).length}/${queries.length} queries within`);
    },
  },
  settlement: {
    inDefault: true,
    run: () => {
      const r = runPaymentSettlementBench(5000);
      summary.push(`[4] paid-call DB path: ${r.perSecond.toFixed(0)} calls/s, ledger ${r.ledgerOk ? 'OK' : 'FAILED'}; anchor ${r.anchor.toFixed(0)} bare commit pairs/s (target ≥ 5,000)`);
    },
  },
  start: {
    inDefault: true,
    run: async () => {
      const r = await runStartTimeBench(5);
      summary.push(`[5] start: ${r.crochet.medianMs.toFixed(0)} ms exec→healthy (anchor bare Bun.serve ${r.anchor.medianMs.toFixed(0)} ms; target ≤ 200), idle RSS ${r.crochet.idleRssMb.toFixed(0)} MB (anchor ${r.anchor.idleRssMb.toFixed(0)}; target ≤ 80)`);
    },
  },
  'gateway-autocannon': { inDefault: false, run: () => runGatewayBench(3) },
  'gateway-in-process': { inDefault: false, run: () => runInProcessBench() },
  'ledger-settlement': { inDefault: false, run: () => runLedgerSettlementBench(5000) },
  'x402-settlement': { inDefault: false, run: () => runX402SettlementBench(20) },
  'x402-svm-settlement': { inDefault: false, run: () => runX402SvmSettlementBench(20) },
};

const wanted = Bun.argv.slice(2);
for (const [name, bench] of Object.entries(benches)) {
  if (wanted.length > 0 ? !wanted.includes(name) : !bench.inDefault) continue;
  console.log(`\n=== ${name}`);
  await bench.run();
}
if (summary.length > 0) console.log(`\n=== summary (issue 16 targets, each beside its anchor from this run)\n${summary.join('\n')}`);
