/**
 * Score events from gateway outcomes and endpoint tests. A cursor over each log (its rowid) makes
 * each run read only new rows; `INSERT OR IGNORE` on (source, kind) makes a re-read harmless, so a
 * run that dies half way, two runs at once, or a cursor reset all end with the same events.
 */
import { immediate } from '../../db/tx.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { newId } from '../../shared/ids.ts';
import * as Gateway from '../gateway/service.ts';
import * as Listings from '../listings/service.ts';
import { EVENT_HORIZON_DAYS } from './formula.ts';
import type { ScoreEvent, ScoreEventKind, ScoreEventSource } from './schema.ts';

/** Cursor names in `score_ingest_cursors`, one per log read. */
const GATEWAY_SOURCE = 'gateway_requests';
const ENDPOINT_TEST_SOURCE = 'endpoint_tests';
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
  sourceType: ScoreEventSource;
  sourceId: string;
  occurredAt: string;
  listingStatus?: ScoreEvent['listingStatus'];
};

/** Inserts an event unless one for the same (source, kind) exists; true when inserted. Call inside a transaction. */
export function insertEvent(deps: CoreDeps, e: EventRow, now: string): boolean {
  return (
    deps.db.sqlite
      .query(
        `INSERT OR IGNORE INTO score_events (id, profile_id, kind, counterparty_id, listing_id, value_micro_usd, source_type, source_id, listing_status, occurred_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(newId(), e.profileId, e.kind, e.counterpartyId, e.listingId, e.valueMicroUsd, e.sourceType, e.sourceId, e.listingStatus ?? null, e.occurredAt, now)
      .changes === 1
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

/** Where the endpoint test is the evidence: the owner, tested as its own buyer (SPEC §3). */
function endpointTestEvent(t: Listings.EndpointTestRecord): EventRow {
  return {
    profileId: t.ownerProfileId,
    kind: t.ok ? 'endpoint_test_passed' : 'endpoint_test_failed',
    counterpartyId: t.ownerProfileId,
    listingId: t.listingId,
    valueMicroUsd: 0,
    sourceType: 'endpoint_test',
    sourceId: t.id,
    listingStatus: t.listingStatus,
    occurredAt: t.testedAt,
  };
}

/** One log as ingestion reads it: rows after a position, and where a row sits now. */
type Log<R> = {
  source: string;
  rowsAfter: (position: number, limit: number) => R[];
  positionOf: (rowId: string) => number | null;
  row: (r: R) => { seq: number; id: string; at: string; listingId: string };
  events: (r: R) => EventRow[];
};

function readCursor<R>(deps: CoreDeps, log: Log<R>): number {
  const row = deps.db.sqlite
    .query<{ position: number; rowId: string }, [string]>('SELECT position, row_id AS rowId FROM score_ingest_cursors WHERE source = ?')
    .get(log.source);
  if (!row) return 0;
  // The saved row must still sit at the saved position. If it moved — a VACUUM renumbered the log
  // (down), or a paid attempt's row was replaced by its outcome (up) — restart from the lower of
  // the two (from the start when it is gone), so nothing in between is skipped. Re-reading is harmless.
  const current = log.positionOf(row.rowId);
  if (current === row.position) return row.position;
  const from = current === null ? 0 : Math.min(current, row.position);
  deps.logger.warn('score ingestion: log was renumbered; re-reading', { source: log.source, from });
  return from;
}

/** Reads one log from its cursor to its end in batches, each batch and its cursor in one transaction. */
function ingestLog<R>(deps: CoreDeps, log: Log<R>): { inserted: number; listingIds: Set<string> } {
  const listingIds = new Set<string>();
  let inserted = 0;
  let position = readCursor(deps, log);
  const now = deps.clock.now();
  const horizon = new Date(now.getTime() - EVENT_HORIZON_DAYS * DAY_MS).toISOString();
  for (;;) {
    const rows = log.rowsAfter(position, BATCH_SIZE);
    const last = rows.at(-1);
    if (!last) break;
    const lastRow = log.row(last);
    immediate(deps.db.sqlite, () => {
      for (const r of rows) {
        const { at, listingId } = log.row(r);
        listingIds.add(listingId);
        // Evidence past the horizon would carry no weight: skip it rather than store it.
        if (at < horizon) continue;
        for (const event of log.events(r)) if (insertEvent(deps, event, now.toISOString())) inserted += 1;
      }
      deps.db.sqlite
        .query(
          `INSERT INTO score_ingest_cursors (source, position, row_id, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (source) DO UPDATE SET position = excluded.position, row_id = excluded.row_id, updated_at = excluded.updated_at`,
        )
        .run(log.source, lastRow.seq, lastRow.id, now.toISOString());
    });
    position = lastRow.seq;
    if (rows.length < BATCH_SIZE) break;
  }
  return { inserted, listingIds };
}

/**
 * Turns gateway outcomes recorded since the last run into score events. Returns how many events
 * were new and which listings had new outcomes (their usage stats need a refresh).
 */
export function ingestGatewayOutcomes(deps: Gateway.HistoryReadDeps): { inserted: number; listingIds: Set<string> } {
  return ingestLog<Gateway.GatewayOutcome>(deps, {
    source: GATEWAY_SOURCE,
    rowsAfter: (position, limit) => Gateway.outcomesAfter(deps, position, limit),
    positionOf: (id) => Gateway.historyPositionOf(deps, id),
    row: (o) => ({ seq: o.seq, id: o.id, at: o.createdAt, listingId: o.listingId }),
    events: eventsOf,
  });
}

/** Turns endpoint tests run since the last run into score events (one each); returns how many were new. */
export function ingestEndpointTests(deps: CoreDeps): number {
  return ingestLog<Listings.EndpointTestRecord>(deps, {
    source: ENDPOINT_TEST_SOURCE,
    rowsAfter: (position, limit) => Listings.endpointTestsAfter(deps, position, limit),
    positionOf: (id) => Listings.endpointTestPositionOf(deps, id),
    row: (t) => ({ seq: t.seq, id: t.id, at: t.testedAt, listingId: t.listingId }),
    events: (t) => [endpointTestEvent(t)],
  }).inserted;
}
