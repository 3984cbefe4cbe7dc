import type { CoreDeps } from '../../shared/deps.ts';
import type { IntentStatus, OfferedRoute, PaymentIntent, PaymentSettlement } from './schema.ts';

type IntentRow = {
  id: string; buyer_id: string; seller_id: string; listing_id: string; body_sha256: string; amount_micro_usd: number; fee_bps: number;
  routes: string; status: IntentStatus; created_at: string; expires_at: string; settlement_key: string | null; settled_network: string | null;
  settled_tx_ref: string | null; settled_at: string | null; consumed_at: string | null; gateway_request_id: string | null;
  refund_tx_ref: string | null; refunded_at: string | null; lease_id: string | null; lease_until: string | null;
};

// Raw statements (compiled once per connection by bun:sqlite): these reads run several times per
// paid call, where building a query each time cost more than the read itself.
const INTENT_BY_ID = 'SELECT * FROM payment_intents WHERE id = ?';

/** One payment intent by its relay request id. */
export function getIntent(deps: Pick<CoreDeps, 'db'>, id: string): PaymentIntent | undefined {
  const r = deps.db.sqlite.query<IntentRow, [string]>(INTENT_BY_ID).get(id);
  if (!r) return undefined;
  return {
    id: r.id, buyerId: r.buyer_id, sellerId: r.seller_id, listingId: r.listing_id, bodySha256: r.body_sha256, amountMicroUsd: r.amount_micro_usd,
    feeBps: r.fee_bps, routes: JSON.parse(r.routes) as OfferedRoute[], status: r.status, createdAt: r.created_at, expiresAt: r.expires_at,
    settlementKey: r.settlement_key, settledNetwork: r.settled_network, settledTxRef: r.settled_tx_ref, settledAt: r.settled_at,
    consumedAt: r.consumed_at, gatewayRequestId: r.gateway_request_id, refundTxRef: r.refund_tx_ref, refundedAt: r.refunded_at,
    leaseId: r.lease_id, leaseUntil: r.lease_until,
  };
}

type SettlementRow = {
  settlement_key: string; intent_id: string; network: string; tx_ref: string; transfer_index: number; payer: string; amount_atomic: string;
  created_at: string; surplus: number; refund_tx_ref: string | null; refunded_at: string | null;
};

/** The recorded transfer with this settlement key, if any. */
export function getSettlement(deps: Pick<CoreDeps, 'db'>, settlementKey: string): PaymentSettlement | undefined {
  const r = deps.db.sqlite.query<SettlementRow, [string]>('SELECT * FROM payment_settlements WHERE settlement_key = ?').get(settlementKey);
  if (!r) return undefined;
  return {
    settlementKey: r.settlement_key, intentId: r.intent_id, network: r.network, txRef: r.tx_ref, transferIndex: r.transfer_index, payer: r.payer,
    amountAtomic: r.amount_atomic, createdAt: r.created_at, surplus: r.surplus === 1, refundTxRef: r.refund_tx_ref, refundedAt: r.refunded_at,
  };
}

/** Records a transfer for an intent (its payment, or an extra one owed back). */
export function insertSettlement(deps: Pick<CoreDeps, 'db'>, s: Omit<PaymentSettlement, 'refundTxRef' | 'refundedAt'>): void {
  deps.db.sqlite
    .query(
      `INSERT INTO payment_settlements (settlement_key, intent_id, network, tx_ref, transfer_index, payer, amount_atomic, created_at, surplus)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(s.settlementKey, s.intentId, s.network, s.txRef, s.transferIndex, s.payer, s.amountAtomic, s.createdAt, s.surplus ? 1 : 0);
}
