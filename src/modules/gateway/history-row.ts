// One gateway_requests row as SQL parameters: shared by the writer on the main connection and the
// one in its worker (history-worker.ts).
import type { GatewayRequestRow } from './schema.ts';

export const HISTORY_COLUMNS = [
  'id', 'buyer_id', 'seller_id', 'listing_id', 'relay_request_id', 'status', 'http_status', 'seller_status', 'amount_micro_usd',
  'total_latency_ms', 'upstream_latency_ms', 'request_bytes', 'response_bytes', 'error_code', 'created_at',
] as const;

export type HistoryRowValues = [
  string, string, string | null, string, string | null, string, number, number | null, number,
  number, number | null, number, number, string | null, string,
];

// OR REPLACE: a paid attempt's row is first written inside its settlement transaction and
// replaced by its outcome later (a new rowid, so score ingestion reads the final row).
export const historyInsertSql = `INSERT OR REPLACE INTO gateway_requests (${HISTORY_COLUMNS.join(', ')}) VALUES (${HISTORY_COLUMNS.map(() => '?').join(', ')})`;

export const valuesOf = (r: GatewayRequestRow): HistoryRowValues => [
  r.id, r.buyerId, r.sellerId, r.listingId, r.relayRequestId, r.status, r.httpStatus, r.sellerStatus, r.amountMicroUsd,
  r.totalLatencyMs, r.upstreamLatencyMs, r.requestBytes, r.responseBytes, r.errorCode, r.createdAt,
];
