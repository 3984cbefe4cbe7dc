import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const LEDGER_TRANSACTION_KINDS = ['settlement', 'release', 'refund_due', 'refund', 'adjustment'] as const;
export const LEDGER_ENTRY_TYPES = [
  'buyer_payment',
  'payment_held',
  'hold_released',
  'seller_credit',
  'marketplace_fee',
  'refund_due',
  'refund',
  'adjustment',
] as const;

export type LedgerTransactionKind = (typeof LEDGER_TRANSACTION_KINDS)[number];
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number];

// Both tables are append-only: a migration installs triggers that abort any UPDATE or DELETE.

export const ledgerTransactions = sqliteTable('ledger_transactions', {
  id: text('id').primaryKey(),
  kind: text('kind', { enum: LEDGER_TRANSACTION_KINDS }).notNull(),
  createdAt: text('created_at').notNull(),
  memo: text('memo'),
});

export const ledgerEntries = sqliteTable(
  'ledger_entries',
  {
    id: text('id').primaryKey(),
    /** Position in the hash chain: 1, 2, 3 … with no gaps. */
    seq: integer('seq').notNull(),
    transactionId: text('transaction_id').notNull().references(() => ledgerTransactions.id),
    /** The profile the account belongs to; null for the shared `held` and `fees` accounts. */
    profileId: text('profile_id'),
    account: text('account').notNull(),
    entryType: text('entry_type', { enum: LEDGER_ENTRY_TYPES }).notNull(),
    /** Signed micro-USD: negative leaves the account, positive arrives. */
    amountMicroUsd: integer('amount_micro_usd').notNull(),
    network: text('network'),
    txRef: text('tx_ref'),
    gatewayRequestId: text('gateway_request_id'),
    relayRequestId: text('relay_request_id'),
    createdAt: text('created_at').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    uniqueIndex('ledger_entries_seq').on(t.seq),
    index('ledger_entries_transaction').on(t.transactionId),
    index('ledger_entries_profile_seq').on(t.profileId, t.seq),
    index('ledger_entries_relay_request').on(t.relayRequestId),
    index('ledger_entries_gateway_request').on(t.gatewayRequestId),
    check('ledger_entries_amount_nonzero', sql`${t.amountMicroUsd} <> 0`),
  ],
);

export type LedgerTransactionRow = typeof ledgerTransactions.$inferSelect;
export type LedgerEntryRow = typeof ledgerEntries.$inferSelect;
