// Ledger write throughput: one BEGIN IMMEDIATE per paid call writing its settlement and its
// release (with a fee), as the gateway will. Run directly: `bun test/bench/ledger-settlement.ts [N]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/open.ts';
import { immediate } from '../../src/db/tx.ts';
import { postLedgerTransaction, releaseEntries, settlementEntries, verifyLedger } from '../../src/modules/ledger/service.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { newId } from '../../src/shared/ids.ts';

export type LedgerSettlementBenchResult = {
  iterations: number;
  settlementsPerSecond: number;
  entriesPerSecond: number;
  verifyEntriesPerSecond: number;
  verified: boolean;
};

/** Writes `iterations` settlement + release pairs to a fresh temp database, then verifies the whole chain. */
export function runLedgerSettlementBench(iterations = 5000, log: (line: string) => void = console.log): LedgerSettlementBenchResult {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-bench-ledger-'));
  const db = openDatabase(join(dir, 'crochet.db'));
  const deps = { db, clock: systemClock };
  try {
    const buyers = Array.from({ length: 50 }, () => newId());
    const sellers = Array.from({ length: 20 }, () => newId());
    const started = Bun.nanoseconds();
    for (let i = 0; i < iterations; i++) {
      const amountMicroUsd = 10_000 + (i % 1000) * 250;
      const relayRequestId = `rly_bench${i}`;
      immediate(db.sqlite, () => {
        postLedgerTransaction(deps, {
          kind: 'settlement',
          entries: settlementEntries({ buyerId: buyers[i % buyers.length] as string, amountMicroUsd }),
          network: 'eip155:8453',
          txRef: `0x${i.toString(16).padStart(64, '0')}`,
          relayRequestId,
        });
        postLedgerTransaction(deps, {
          kind: 'release',
          entries: releaseEntries({ sellerId: sellers[i % sellers.length] as string, amountMicroUsd, feeBps: 250 }),
          relayRequestId,
          gatewayRequestId: `gw_req_bench${i}`,
        });
      });
    }
    const writeSeconds = (Bun.nanoseconds() - started) / 1e9;
    const verifyStarted = Bun.nanoseconds();
    const verification = verifyLedger(db.sqlite);
    const verifySeconds = (Bun.nanoseconds() - verifyStarted) / 1e9;
    const result: LedgerSettlementBenchResult = {
      iterations,
      settlementsPerSecond: iterations / writeSeconds,
      entriesPerSecond: verification.entriesChecked / writeSeconds,
      verifyEntriesPerSecond: verification.entriesChecked / verifySeconds,
      verified: verification.ok,
    };
    log(`ledger settlement: ${iterations} paid calls (settlement + release, ${verification.entriesChecked} entries) in ${writeSeconds.toFixed(2)} s`);
    log(`  ${result.settlementsPerSecond.toFixed(0)} settlements/s, ${result.entriesPerSecond.toFixed(0)} entries/s`);
    log(`  verify: ${verification.ok ? 'OK' : `FAILED at seq ${verification.firstBad?.seq}: ${verification.firstBad?.reason}`} — ${result.verifyEntriesPerSecond.toFixed(0)} entries/s, ${(result.verifyEntriesPerSecond / result.entriesPerSecond).toFixed(1)}× write speed`);
    return result;
  } finally {
    db.sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const n = Number(Bun.argv[2] ?? 5000);
  const result = runLedgerSettlementBench(Number.isSafeInteger(n) && n > 0 ? n : 5000);
  if (!result.verified) process.exit(1);
}
