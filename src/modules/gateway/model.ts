import { z } from 'zod';
import { isoTimeQuery, paginationQuery } from '../../shared/http/envelope.ts';
import { GATEWAY_STATUSES } from './schema.ts';

// Elysia hands over a path segment it cannot percent-decode as null: refused here with a 400.
export const gatewayParams = z.object({ listingId: z.string().min(1).max(128).describe('Listing id (the last segment of its gateway_url).') });

export const historyQuery = z.object({
  role: z.enum(['buyer', 'seller']).optional().describe('Only calls you made (buyer) or received (seller).'),
  listing_id: z.string().max(80).optional().describe('Only calls to this listing.'),
  status: z.enum(GATEWAY_STATUSES).optional().describe('Only calls with this outcome.'),
  since: isoTimeQuery.optional().describe('inclusive lower bound on created_at'),
  until: isoTimeQuery.optional().describe('exclusive upper bound on created_at'),
  ...paginationQuery,
});

export const gatewayRequestSchema = z.object({
  id: z.string(),
  buyer_id: z.string(),
  seller_id: z.string().nullable(),
  listing_id: z.string(),
  relay_request_id: z.string().nullable(),
  role: z.enum(['buyer', 'seller', 'both']),
  status: z.enum(GATEWAY_STATUSES),
  http_status: z.number().int(),
  seller_status: z.number().int().nullable(),
  amount_micro_usd: z.number().int(),
  total_latency_ms: z.number().int(),
  upstream_latency_ms: z.number().int().nullable(),
  request_bytes: z.number().int(),
  response_bytes: z.number().int(),
  error_code: z.string().nullable(),
  created_at: z.string(),
}).meta({ id: 'GatewayRequest', description: 'One gateway call, as its buyer or seller sees it.' });

export const requestIdParams = z.object({ id: z.string().min(1).max(80).describe('gw_req_… id (X-Crochet-Request-Id of the call).') });

export const paidResponseSchema = z.object({ seller_status: z.number().int(), body: z.unknown(), expires_at: z.string() });
