import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const INTENT_STATUSES = ['open', 'settled', 'consumed', 'refund_due', 'refunded', 'expired'] as const;
export type IntentStatus = (typeof INTENT_STATUSES)[number];

/** One route offered in a 402, as stored with its intent. */
export type OfferedRoute = {
  network: string;
  asset: string;
  decimals: number;
  pay_to: string;
  amount_atomic: string;
  min_amount: string;
  reference?: string;
  /** EVM: chain head when the intent was made; a payment must be in a later block. */
  after_block?: string;
};

/**
 * A relay request (`rly_…`): the price of one call to one listing with one body, for one buyer.
 * open → settled (payment verified, held) → consumed (seller handled the call, released);
 * settled and unused at expiry → refund_due → refunded; open at expiry → expired. Every move is in
 * `lifecycle.ts` (the table) and made by `apply.ts`.
 */
export const paymentIntents = sqliteTable(
  'payment_intents',
  {
    id: text('id').primaryKey(),
    buyerId: text('buyer_id').notNull(),
    sellerId: text('seller_id').notNull(),
    listingId: text('listing_id').notNull(),
    bodySha256: text('body_sha256').notNull(),
    amountMicroUsd: integer('amount_micro_usd').notNull(),
    feeBps: integer('fee_bps').notNull(),
    routes: text('routes', { mode: 'json' }).$type<OfferedRoute[]>().notNull(),
    status: text('status', { enum: INTENT_STATUSES }).notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    settlementKey: text('settlement_key'),
    settledNetwork: text('settled_network'),
    settledTxRef: text('settled_tx_ref'),
    settledAt: text('settled_at'),
    consumedAt: text('consumed_at'),
    gatewayRequestId: text('gateway_request_id'),
    refundTxRef: text('refund_tx_ref'),
    refundedAt: text('refunded_at'),
    /**
     * The forwarding claim (SPEC §5 item 9): a random id per claim and when it lapses (the endpoint's
     * timeout plus a margin). In the database, so every process sharing the data folder sees it.
     */
    leaseId: text('lease_id'),
    leaseUntil: text('lease_until'),
  },
  (t) => [
    index('payment_intents_buyer').on(t.buyerId, t.createdAt),
    index('payment_intents_status_expiry').on(t.status, t.expiresAt),
  ],
);

/**
 * One row per on-chain transfer recorded for an intent; the primary key makes reuse impossible.
 * The transfer that paid for the intent is the intent's `settlement_key`; any other one for the
 * same intent (a buyer paying twice) is `surplus` and owed back, refunded on its own.
 */
export const paymentSettlements = sqliteTable(
  'payment_settlements',
  {
    settlementKey: text('settlement_key').primaryKey(),
    intentId: text('intent_id').notNull().references(() => paymentIntents.id),
    network: text('network').notNull(),
    txRef: text('tx_ref').notNull(),
    transferIndex: integer('transfer_index').notNull(),
    payer: text('payer').notNull(),
    amountAtomic: text('amount_atomic').notNull(),
    createdAt: text('created_at').notNull(),
    surplus: integer('surplus', { mode: 'boolean' }).notNull().default(false),
    refundTxRef: text('refund_tx_ref'),
    refundedAt: text('refunded_at'),
  },
  (t) => [
    index('payment_settlements_intent').on(t.intentId),
    index('payment_settlements_surplus').on(t.surplus, t.createdAt).where(sql`${t.surplus} = 1`),
  ],
);

/** A paid call's reply, sealed in the vault, so its buyer can fetch what it paid for. */
export const paidResponses = sqliteTable(
  'paid_responses',
  {
    gatewayRequestId: text('gateway_request_id').primaryKey(),
    intentId: text('intent_id').notNull(),
    buyerId: text('buyer_id').notNull(),
    sellerStatus: integer('seller_status').notNull(),
    bodySealed: text('body_sealed').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at').notNull(),
  },
  (t) => [index('paid_responses_expiry').on(t.expiresAt)],
);

export type PaymentIntent = typeof paymentIntents.$inferSelect;
export type PaymentSettlement = typeof paymentSettlements.$inferSelect;
