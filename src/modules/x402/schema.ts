import { sql } from 'drizzle-orm';
import { index, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const CLAIM_STATES = ['claimed', 'sent', 'settled', 'failed'] as const;
export type ClaimState = (typeof CLAIM_STATES)[number];

/**
 * One x402 payment authorization, claimed in the database **before** it is broadcast (SPEC §5
 * "x402 interoperability"): the primary key is the SPEC's unique key (EVM
 * `eip155:<chain>:<asset>:<from>:<nonce>`, Solana the transaction message), so one authorization
 * pays one call even when retried concurrently on several processes.
 * claimed (verified, about to be sent) → sent (transaction id known) → settled (final, recorded as
 * the intent's payment); failed: nothing was sent (the claim may be taken again after a fresh verify).
 */
export const x402Claims = sqliteTable(
  'x402_claims',
  {
    claimKey: text('claim_key').primaryKey(),
    intentId: text('intent_id').notNull(),
    buyerId: text('buyer_id').notNull(),
    network: text('network').notNull(),
    payer: text('payer').notNull(),
    /** SHA-256 of the PAYMENT-SIGNATURE's decoded payload (canonical JSON), to recognise it again. */
    payloadSha256: text('payload_sha256').notNull(),
    /** The payment-identifier extension's id, the buyer's idempotency key. */
    paymentId: text('payment_id'),
    state: text('state', { enum: CLAIM_STATES }).notNull(),
    transaction: text('transaction'),
    errorReason: text('error_reason'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    index('x402_claims_payload').on(t.payloadSha256),
    // One live claim per intent: a second authorization for an intent already being paid is never sent.
    uniqueIndex('x402_claims_live_intent').on(t.intentId).where(sql`${t.state} != 'failed'`),
    uniqueIndex('x402_claims_payment_id').on(t.buyerId, t.paymentId).where(sql`${t.paymentId} IS NOT NULL`),
  ],
);

export type X402Claim = typeof x402Claims.$inferSelect;
