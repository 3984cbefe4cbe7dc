import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import * as Payments from '../modules/payments/service.ts';
import { bootstrap, DATABASE_FILE } from '../server.ts';
import { createLogger } from '../shared/logger.ts';

export const REFUNDS_HELP = `crochet refunds — payments the operator owes back to buyers

Usage:
  crochet refunds list [--all]                  payments owed back: intents settled but never used or paid after expiry,
                                                and extra payments for an intent already paid (--all: also those refunded)
  crochet refunds mark <refund_id> --tx-ref REF record that the refund was paid on chain (REF: its transaction hash/signature;
                                                refund_id from the list: the relay id, or an extra payment's settlement key)

Takes the same --data-dir / CROCHET_* options as serve; works while the server runs.
`;

/** `crochet refunds list|mark`: prints JSON lines so scripts can read them. */
export function runRefunds(config: Config, args: { sub: string | undefined; refundId: string | undefined; txRef: string | undefined; all: boolean }): number {
  const path = join(config.data_dir, DATABASE_FILE);
  // A mistyped --data-dir must not quietly create a new, empty instance.
  if (!existsSync(path)) {
    console.error(`no database at ${path} (is --data-dir right?)`);
    return 1;
  }
  const { deps } = bootstrap(config, createLogger('error'));
  try {
    if (args.sub === 'list') {
      const refunds = Payments.listRefunds(deps, args.all);
      for (const r of refunds) console.log(JSON.stringify(r));
      console.error(`${refunds.length} refund(s)${args.all ? '' : ' due'}`);
      return 0;
    }
    if (args.sub === 'mark') {
      if (!args.refundId || !args.txRef) {
        console.error('usage: crochet refunds mark <refund_id> --tx-ref REF');
        return 2;
      }
      console.log(JSON.stringify(Payments.markRefunded(deps, args.refundId, args.txRef)));
      return 0;
    }
    console.error(REFUNDS_HELP);
    return 2;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    deps.db.sqlite.close();
  }
}
