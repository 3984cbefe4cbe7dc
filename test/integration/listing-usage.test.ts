// Listing usage stats come from one pass over a seller's history (there is no listing index).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import * as Gateway from '../../src/modules/gateway/service.ts';
import { createTestApp, type TestContext } from '../support/app.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const SINCE = '2026-11-01T00:00:00.000Z';
let n = 0;
function row(sellerId: string, listingId: string, status: string, latencyMs: number | null, createdAt = '2026-11-20T00:00:00.000Z') {
  t.deps.db.sqlite
    .query(
      `INSERT INTO gateway_requests (id, buyer_id, seller_id, listing_id, status, http_status, upstream_latency_ms, total_latency_ms, request_bytes, response_bytes, created_at)
       VALUES (?, 'buyer', ?, ?, ?, 200, ?, 1, 2, 2, ?)`,
    )
    .run(`gw_req_usage_${n++}`, sellerId, listingId, status, latencyMs, createdAt);
}

test('counts, success and the lower median latency per listing, in one read per seller', () => {
  for (const ms of [40, 10, 30, 20]) row('seller-1', 'listing-a', 'completed', ms);
  row('seller-1', 'listing-a', 'seller_failed', 900);
  row('seller-1', 'listing-a', 'rejected', null); // never reached the seller: not a call of it
  row('seller-1', 'listing-a', 'completed', 1, '2026-10-01T00:00:00.000Z'); // counted, too old for the latency window
  for (const ms of [9, 5, 7]) row('seller-1', 'listing-b', 'completed', ms);
  row('seller-1', 'listing-d', 'payment_required', null);
  row('seller-2', 'listing-c', 'completed', 3);

  const usage = Gateway.sellerListingsUsage(t.deps, 'seller-1', SINCE);
  expect(Object.fromEntries(usage)).toEqual({
    'listing-a': { callsTotal: 6, callsSucceeded: 5, p50LatencyMs: 20 },
    'listing-b': { callsTotal: 3, callsSucceeded: 3, p50LatencyMs: 7 },
  });
  expect(Object.fromEntries(Gateway.sellerListingsUsage(t.deps, 'seller-2', SINCE))).toEqual({
    'listing-c': { callsTotal: 1, callsSucceeded: 1, p50LatencyMs: 3 },
  });
  expect(Gateway.sellerListingsUsage(t.deps, 'seller-3', SINCE).size).toBe(0);
});
