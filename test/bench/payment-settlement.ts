// Settlement throughput of the database path alone (the on-chain verification result is given):
// per paid call, the settlement transaction (unique settlement key, intent settled, buyer → held,
// forwarding lease taken) and the release transaction (held → seller + fee, intent consumed, lease
// dropped, reply sealed) — both through the lifecycle's `apply`, as the gateway makes them.
// Run directly: `bun test/bench/payment-settlement.ts [N]`.
import type { Database } from 'bun:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { immediate } from '../../src/db/tx.ts';
import { verifyLedger } from '../../src/modules/ledger/service.ts';
import { paymentIntents } from '../../src/modules/payments/schema.ts';
import { apply } from '../../src/modules/payments/apply.ts';
import * as Payments from '../../src/modules/payments/service.ts';
import { generateMasterKey } from '../../src/modules/vault/envelope.ts';
import { createVault } from '../../src/modules/vault/service.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { newId } from '../../src/shared/ids.ts';
import { createLogger } from '../../src/shared/logger.ts';

/** WAL pages written since the last call (a checkpoint resets the log; autocheckpoint is off meanwhile). */
function walFramesSince(sqlite: Database): number {
  const r = sqlite.query<{ log: number }, []>('PRAGMA wal_checkpoint(PASSIVE)').get();
  sqlite.run('PRAGMA wal_checkpoint(TRUNCATE)');
  sqlite.run('PRAGMA wal_autocheckpoint = 0');
  return r?.log ?? 0;
}

function bareCommitsPerSecond(sqlite: Database, pairs: number): number {
  sqlite.run('CREATE TABLE IF NOT EXISTS bench_anchor (id TEXT PRIMARY KEY NOT NULL, at TEXT NOT NULL)');
  const insert = sqlite.prepare('INSERT INTO bench_anchor (id, at) VALUES (?, ?)');
  const started = Bun.nanoseconds();
  for (let i = 0; i < pairs; i++) {
    immediate(sqlite, () => insert.run(newId(), new Date().toISOString()));
    immediate(sqlite, () => insert.run(newId(), new Date().toISOString()));
  }
  return pairs / ((Bun.nanoseconds() - started) / 1e9);
}

export function runPaymentSettlementBench(iterations = 5000, log: (line: string) => void = console.log) {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-bench-pay-'));
  const db = openDatabase(join(dir, 'crochet.db'));
  const config = loadConfig({ env: { CROCHET_DATA_DIR: dir, CROCHET_FEE_BPS: '250' } });
  const deps: Payments.PaymentsDeps = {
    config, db, clock: systemClock, logger: createLogger('error'), vault: createVault(generateMasterKey()),
    verifiers: Payments.buildVerifiers([]), verifying: new Map(),
  };
  try {
    const buyers = Array.from({ length: 50 }, () => newId());
    const sellers = Array.from({ length: 20 }, () => newId());
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const intents: Payments.PaymentIntent[] = Array.from({ length: iterations }, (_, i) => ({
      id: `rly_bench${i}`, buyerId: buyers[i % 50] as string, sellerId: sellers[i % 20] as string, listingId: 'bench-listing',
      bodySha256: '0'.repeat(64), amountMicroUsd: 10_000 + (i % 1000) * 250, feeBps: 250,
      routes: [{ network: 'eip155:8453', asset: '0xusdc', decimals: 6, pay_to: '0xseller', amount_atomic: '10000', min_amount: '0' }],
      status: 'open', createdAt: new Date().toISOString(), expiresAt: expires, settlementKey: null, settledNetwork: null, settledTxRef: null,
      settledAt: null, consumedAt: null, gatewayRequestId: null, refundTxRef: null, refundedAt: null, leaseId: null, leaseUntil: null,
    }));
    immediate(db.sqlite, () => {
      for (const intent of intents) db.db.insert(paymentIntents).values(intent).run();
    });
    const reply = new TextEncoder().encode(JSON.stringify({ ok: true, forecast: 'sunny' }));
    walFramesSince(db.sqlite);
    const started = Bun.nanoseconds();
    for (let i = 0; i < iterations; i++) {
      const txRef = `0x${i.toString(16).padStart(64, '0')}`;
      const { intent: settled } = apply(deps, (intents[i] as Payments.PaymentIntent).id, {
        type: 'payment',
        transfer: { status: 'verified', settlementKey: `eip155:8453:${txRef}:0`, txRef, payer: '0xbuyer', amountAtomic: 10_000n, transferIndex: 0, network: 'eip155:8453' },
        thenClaim: { leaseId: `lease${i}`, until: expires },
      });
      immediate(db.sqlite, () => Payments.completePaidCall(deps, settled as Payments.PaymentIntent, { gatewayRequestId: `gw_req_bench${i}`, sellerStatus: 200, body: reply }));
    }
    const seconds = (Bun.nanoseconds() - started) / 1e9;
    const framesPerCall = walFramesSince(db.sqlite) / iterations;
    const check = verifyLedger(db.sqlite);
    const perSecond = iterations / seconds;
    // Anchor, same database file and settings: what two bare commits per call (one small row
    // each, as settle + release are two transactions) cost on this machine right now.
    const anchor = bareCommitsPerSecond(db.sqlite, iterations);
    log(`payment settlement (database path, verification given): ${iterations} paid calls in ${seconds.toFixed(2)} s`);
    log(`  ${perSecond.toFixed(0)} settled+released calls/s (${check.entriesChecked} ledger entries; ledger ${check.ok ? 'balanced and chained: OK' : 'FAILED'}); ${framesPerCall.toFixed(1)} WAL pages written per call`);
    log(`  anchor: ${anchor.toFixed(0)} pairs of bare one-row commits/s   [4] ${perSecond.toFixed(0)} calls/s (target ≥ 5,000) = ${(perSecond / anchor).toFixed(2)} of the anchor`);
    return { iterations, perSecond, anchor, framesPerCall, ledgerOk: check.ok };
  } finally {
    db.sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const result = runPaymentSettlementBench(Number(Bun.argv[2] ?? 5000));
  if (!result.ledgerOk) process.exit(1);
}
