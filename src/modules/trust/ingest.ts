/**
 * Score events from gateway outcomes. A cursor over the gateway history (its rowid) makes each run
 * read only new rows; `INSERT OR IGNORE` on (source, kind) makes a re-read harmless, so a run that
 * dies half way, two runs at once, or a cursor reset all end with the same events.
 */
import { immediate } from '../../db/tx.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { newId } from '../../shared/ids.ts';
import * as Gateway from '../gateway/service.ts';
import { EVENT_HORIZON_DAYS } from './formula.ts';
import type { ScoreEventKind } from './schema.ts';

const SOURCE = 'gateway_requests';
const BATCH_SIZE = 500;
const DAY_MS = 86_400_000;

const SELLER_KIND: Record<Gateway.SellerOutcomeStatus, ScoreEventKind> = {
  completed: 'seller_completed',
  seller_rejected: 'seller_rejected',
  seller_failed: 'seller_failed',
  timeout: 'seller_timeout',
};

type EventRow = {
  profileId: string;
  kind: ScoreEventKind;
  counterpartyId: string;
  listingId: string;
  valueMicroUsd: number;
  sourceType: 'gateway_request' | 'review';
  sourceId: string;
  occurredAt: string;
};

/** Inserts an event unless one for the same (source, kind) exists; true when inserted. Call inside a transaction. */
export function insertEvent(deps: CoreDeps, e: EventRow, now: string): boolean {
  return (
    deps.db.sqlite
      .query(
        `INSERT OR IGNORE INTO score_events (id, profile_id, kind, counterparty_id, listing_id, value_micro_usd, source_type, source_id, occurred_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(newId(), e.profileId, e.kind, e.counterpartyId, e.listingId, e.valueMicroUsd, e.sourceType, e.sourceId, e.occurredAt, now).changes === 1
  );
}

/** A completed call counts as paid only with an amount and a relay request (SPEC §5). */
const isPaid = (o: { amountMicroUsd: number; relayRequestId: string | null }) => o.amountMicroUsd > 0 && o.relayRequestId !== null;

function eventsOf(o: Gateway.GatewayOutcome): EventRow[] {
  const common = { listingId: o.listingId, sourceType: 'gateway_request' as const, sourceId: o.id, occurredAt: o.createdAt };
  const paid = isPaid(o);
  const events: EventRow[] = [
    { ...common, profileId: o.sellerId, kind: SELLER_KIND[o.status], counterpartyId: o.buyerId, valueMicroUsd: paid ? o.amountMicroUsd : 0 },
  ];
  if (o.status === 'completed' && paid) {
    events.push({ ...common, profileId: o.buyerId, kind: 'buyer_paid', counterpartyId: o.sellerId, valueMicroUsd: o.amountMicroUsd });
  }
  return events;
}

function readCursor(deps: CoreDeps): number {
  const row = deps.db.sqlite
    .query<{ position: number; rowId: string }, [string]>('SELECT position, row_id AS rowId FROM score_ingest_cursors WHERE source = ?')
    .get(SOURCE);
  if (!row) return 0;
  // The saved row must still sit at the saved position; if the history was renumbered, restart
  // from where that row is now (or from the start when it is gone). Re-reading is harmless.
  const current = Gateway.historyPositionOf(deps, row.rowId);
  if (current === row.position) return row.position;
  deps.logger.warn('score ingestion: gateway history was renumbered; re-reading', { from: current ?? 0 });
  return current ?? 0;
}

/**
 * Turns gateway outcomes recorded since the last run into score events. Returns how many events
 * were new and which listings had new outcomes (their usage stats need a refresh).
 */
export function ingestGatewayOutcomes(deps: CoreDeps): { inserted: number; listingIds: Set<string> } {
  const listingIds = new Set<string>();
  let inserted = 0;
  let position = readCursor(deps);
  const now = deps.clock.now();
  const horizon = new Date(now.getTime() - EVENT_HORIZON_DAYS * DAY_MS).toISOString();
  for (;;) {
    const rows = Gateway.outcomesAfter(deps, position, BATCH_SIZE);
    const last = rows.at(-1);
    if (!last) break;
    immediate(deps.db.sqlite, () => {
      for (const row of rows) {
        listingIds.add(row.listingId);
        // Evidence past the horizon would carry no weight: skip it rather than store it.
        if (row.createdAt < horizon) continue;
        for (const event of eventsOf(row)) if (insertEvent(deps, event, now.toISOString())) inserted += 1;
      }
      deps.db.sqlite
        .query(
          `INSERT INTO score_ingest_cursors (source, position, row_id, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (source) DO UPDATE SET position = excluded.position, row_id = excluded.row_id, updated_at = excluded.updated_at`,
        )
        .run(SOURCE, last.seq, last.id, now.toISOString());
    });
    position = last.seq;
    if (rows.length < BATCH_SIZE) break;
  }
  return { inserted, listingIds };
}
