import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const GATEWAY_STATUSES = ['payment_required', 'payment_pending', 'completed', 'seller_rejected', 'seller_failed', 'timeout', 'rejected'] as const;
export type GatewayStatus = (typeof GATEWAY_STATUSES)[number];

/** One row per gateway attempt; `id` is the `gw_req_…` id the buyer saw in X-Crochet-Request-Id. */
export const gatewayRequests = sqliteTable(
  'gateway_requests',
  {
    id: text('id').primaryKey(),
    buyerId: text('buyer_id').notNull(),
    /** Null when the listing did not exist. */
    sellerId: text('seller_id'),
    listingId: text('listing_id').notNull(),
    relayRequestId: text('relay_request_id'),
    status: text('status', { enum: GATEWAY_STATUSES }).notNull(),
    httpStatus: integer('http_status').notNull(),
    sellerStatus: integer('seller_status'),
    amountMicroUsd: integer('amount_micro_usd').notNull().default(0),
    totalLatencyMs: integer('total_latency_ms').notNull(),
    upstreamLatencyMs: integer('upstream_latency_ms'),
    requestBytes: integer('request_bytes').notNull(),
    responseBytes: integer('response_bytes').notNull(),
    errorCode: text('error_code'),
    createdAt: text('created_at').notNull(),
  },
  // No listing index: listing filters go through the buyer or seller index (see listingUsage).
  (t) => [
    index('gateway_requests_buyer').on(t.buyerId, t.createdAt),
    index('gateway_requests_seller').on(t.sellerId, t.createdAt),
  ],
);

export type GatewayRequestRow = typeof gatewayRequests.$inferSelect;
