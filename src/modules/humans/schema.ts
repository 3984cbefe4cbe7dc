import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Sign-in credentials of a human profile (`profiles.account_type = 'human'`). The profile itself
 * (name, status) stays in identity; this table only adds what a person signs in with.
 */
export const humanAccounts = sqliteTable(
  'human_accounts',
  {
    profileId: text('profile_id').primaryKey(),
    /** Trimmed and lowercased, so one address cannot hold two accounts. */
    email: text('email').notNull(),
    /** argon2id PHC string from Bun.password; the password itself is never stored. */
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ['member', 'admin'] }).notNull().default('member'),
    createdAt: text('created_at').notNull(),
    passwordChangedAt: text('password_changed_at').notNull(),
  },
  (t) => [uniqueIndex('human_accounts_email').on(t.email), index('human_accounts_role').on(t.role)],
);

/** Browser sessions. Only SHA-256 of the cookie's token is kept, so a copy of the database signs nobody in. */
export const humanSessions = sqliteTable(
  'human_sessions',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    profileId: text('profile_id').notNull(),
    createdAt: text('created_at').notNull(),
    /** Sliding: moved forward as the session is used (at most once per SESSION_TOUCH_MS). */
    expiresAt: text('expires_at').notNull(),
    lastSeenAt: text('last_seen_at').notNull(),
  },
  (t) => [uniqueIndex('human_sessions_token').on(t.tokenHash), index('human_sessions_profile').on(t.profileId), index('human_sessions_expires').on(t.expiresAt)],
);

/** Append-only record of every admin change (triggers refuse UPDATE and DELETE). */
export const adminAudit = sqliteTable(
  'admin_audit',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    actorProfileId: text('actor_profile_id').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('admin_audit_created').on(t.createdAt)],
);

/** Operator settings changed at run time (the marketplace fee); env/flag values take precedence. */
export const instanceSettings = sqliteTable('instance_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export type HumanAccount = typeof humanAccounts.$inferSelect;
export type HumanSession = typeof humanSessions.$inferSelect;
