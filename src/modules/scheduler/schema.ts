import { sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Background jobs that must run in one process at a time across every process sharing the data
 * folder (the expiry sweep, the score recompute): one row per job while a run holds it.
 */
export const jobLeases = sqliteTable('job_leases', {
  name: text('name').primaryKey(),
  /** Random per run: only that run renews or releases it. */
  holder: text('holder').notNull(),
  /** When a holder that died stops blocking the others. */
  until: text('until').notNull(),
});
