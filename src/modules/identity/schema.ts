import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const profiles = sqliteTable('profiles', {
  id: text('id').primaryKey(),
  displayName: text('display_name').notNull(),
  accountType: text('account_type', { enum: ['agent', 'human', 'human_claimed_agent'] }).notNull(),
  claimedBy: text('claimed_by'),
  status: text('status', { enum: ['active', 'suspended'] }).notNull().default('active'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export const wallets = sqliteTable(
  'wallets',
  {
    id: text('id').primaryKey(),
    profileId: text('profile_id').notNull().references(() => profiles.id),
    chain: text('chain', { enum: ['evm', 'solana'] }).notNull(),
    /** EVM: EIP-55 checksum form; Solana: base58 as given (already canonical). */
    address: text('address').notNull(),
    /** Lowercased for EVM so one wallet cannot be registered twice under two spellings. */
    addressKey: text('address_key').notNull(),
    roles: text('roles', { mode: 'json' }).$type<WalletRole[]>().notNull(),
    status: text('status', { enum: ['active', 'disabled'] }).notNull().default('active'),
    defaultPayout: integer('default_payout', { mode: 'boolean' }).notNull().default(false),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('wallets_chain_address_key').on(t.chain, t.addressKey),
    index('wallets_profile').on(t.profileId),
    // At most one default payout wallet per profile and chain family.
    uniqueIndex('wallets_default_payout').on(t.profileId, t.chain).where(sql`default_payout = 1`),
  ],
);

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    profileId: text('profile_id').notNull().references(() => profiles.id),
    name: text('name').notNull(),
    keyPrefix: text('key_prefix').notNull(),
    /** SHA-256 of the whole key; the key itself is never stored. */
    keyHash: text('key_hash').notNull(),
    createdAt: text('created_at').notNull(),
    lastUsedAt: text('last_used_at'),
    revokedAt: text('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_hash').on(t.keyHash), index('api_keys_profile').on(t.profileId)],
);

export const authChallenges = sqliteTable(
  'auth_challenges',
  {
    id: text('id').primaryKey(),
    nonce: text('nonce').notNull(),
    purpose: text('purpose', { enum: ['register', 'recover', 'link_wallet', 'claim_agent'] }).notNull(),
    chain: text('chain', { enum: ['evm', 'solana'] }).notNull(),
    addressKey: text('address_key').notNull(),
    profileId: text('profile_id'),
    /** claim_agent: the signed-in person who asked, the only one who may use the proof. */
    requestedBy: text('requested_by'),
    message: text('message').notNull(),
    powChallenge: text('pow_challenge').notNull(),
    powDifficulty: integer('pow_difficulty').notNull(),
    expiresAt: text('expires_at').notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    consumedAt: text('consumed_at'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('auth_challenges_nonce').on(t.nonce), index('auth_challenges_expires').on(t.expiresAt)],
);

export type WalletRole = 'auth' | 'recovery' | 'payment' | 'payout';
export type Profile = typeof profiles.$inferSelect;
export type Wallet = typeof wallets.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type AuthChallenge = typeof authChallenges.$inferSelect;
