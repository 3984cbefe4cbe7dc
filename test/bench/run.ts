// `bun run bench`: every benchmark, one after the other. Figures are printed, never asserted:
// benchmarks do not gate CI. Pass names to run a subset: `bun run bench gateway ledger`.
import { runGatewayBench } from './gateway.ts';
import { runInProcessBench } from './gateway-in-process.ts';
import { runLedgerSettlementBench } from './ledger-settlement.ts';
import { runListingsSearchBench } from './listings-search.ts';
import { runPaymentSettlementBench } from './payment-settlement.ts';
import { runX402SettlementBench } from './x402-settlement.ts';
import { runX402SvmSettlementBench } from './x402-svm-settlement.ts';

const benches: Record<string, () => unknown> = {
  'listings-search': () => runListingsSearchBench(),
  gateway: () => runGatewayBench(3),
  'gateway-in-process': () => runInProcessBench(),
  'payment-settlement': () => runPaymentSettlementBench(5000),
  'ledger-settlement': () => runLedgerSettlementBench(5000),
  'x402-settlement': () => runX402SettlementBench(20),
  'x402-svm-settlement': () => runX402SvmSettlementBench(20),
};

const wanted = Bun.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n=== ${name}`);
  await run();
}
