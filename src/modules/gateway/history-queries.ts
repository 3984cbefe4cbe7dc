import { and, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import type { CoreDeps } from '../../shared/deps.ts';
import { GatewayErrors } from './errors.ts';
import type { HistoryDeps } from './history.ts';
import { type GatewayRequestRow, type GatewayStatus, gatewayRequests } from './schema.ts';

export type GatewayRequestView = {
  id: string;
  buyer_id: string;
  seller_id: string | null;
  listing_id: string;
  relay_request_id: string | null;
  role: 'buyer' | 'seller' | 'both';
  status: GatewayStatus;
  http_status: number;
  seller_status: number | null;
  amount_micro_usd: number;
  total_latency_ms: number;
  upstream_latency_ms: number | null;
  request_bytes: number;
  response_bytes: number;
  error_code: string | null;
  created_at: string;
};

const view = (r: GatewayRequestRow, me: string): GatewayRequestView => ({
  id: r.id,
  buyer_id: r.buyerId,
  seller_id: r.sellerId,
  listing_id: r.listingId,
  relay_request_id: r.relayRequestId,
  role: r.buyerId === me && r.sellerId === me ? 'both' : r.buyerId === me ? 'buyer' : 'seller',
  status: r.status,
  http_status: r.httpStatus,
  seller_status: r.sellerStatus,
  amount_micro_usd: r.amountMicroUsd,
  total_latency_ms: r.totalLatencyMs,
  upstream_latency_ms: r.upstreamLatencyMs,
  request_bytes: r.requestBytes,
  response_bytes: r.responseBytes,
  error_code: r.errorCode,
  created_at: r.createdAt,
});

/** History of calls where the caller is the buyer or the seller. */
export function listGatewayRequests(
  deps: CoreDeps & HistoryDeps,
  profileId: string,
  q: { role?: 'buyer' | 'seller'; listing_id?: string; status?: GatewayStatus; since?: string; until?: string; page: number; limit: number },
) {
  deps.history.flush();
  const mine = q.role === 'buyer' ? eq(gatewayRequests.buyerId, profileId) : q.role === 'seller' ? eq(gatewayRequests.sellerId, profileId) : or(eq(gatewayRequests.buyerId, profileId), eq(gatewayRequests.sellerId, profileId));
  const filters: (SQL | undefined)[] = [
    mine,
    q.listing_id ? eq(gatewayRequests.listingId, q.listing_id) : undefined,
    q.status ? eq(gatewayRequests.status, q.status) : undefined,
    q.since ? gte(gatewayRequests.createdAt, q.since) : undefined,
    // `until` is exclusive, as on /ledger: consecutive windows never count a row twice.
    q.until ? lt(gatewayRequests.createdAt, q.until) : undefined,
  ];
  const where = and(...filters);
  const { db } = deps.db;
  const total = db.select({ n: sql<number>`count(*)` }).from(gatewayRequests).where(where).get()?.n ?? 0;
  const rows = db.select().from(gatewayRequests).where(where).orderBy(desc(gatewayRequests.createdAt), desc(gatewayRequests.id))
    .limit(q.limit).offset((q.page - 1) * q.limit).all();
  return { rows: rows.map((r) => view(r, profileId)), total };
}

/** One call, visible to its buyer and seller only (404 for anyone else). */
export function getGatewayRequest(deps: CoreDeps & HistoryDeps, profileId: string, id: string): GatewayRequestView {
  deps.history.flush();
  const row = deps.db.db.select().from(gatewayRequests).where(eq(gatewayRequests.id, id)).get();
  if (!row || (row.buyerId !== profileId && row.sellerId !== profileId)) throw GatewayErrors.requestNotFound();
  return view(row, profileId);
}
