// The ledger's public surface for other modules: post (chain.ts), build entries (entries.ts),
// verify, and the caller-scoped reads behind GET /ledger and GET /ledger/balance.
import { and, count, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { microToDecimalString } from '../../shared/money.ts';
import type { LedgerDeps } from './chain.ts';
import { accountOf } from './entries.ts';
import { ledgerEntries, type LedgerEntryRow, type LedgerEntryType } from './schema.ts';

export {
  entryHash,
  GENESIS_HASH,
  postLedgerTransaction,
  verifyLedger,
  type LedgerDeps,
  type LedgerVerification,
  type PostLedgerTransactionInput,
} from './chain.ts';
export { EMPTY_LEDGER_HEAD, expectedHeadProblem, formatLedgerHead, parseLedgerHead, readLedgerHead, type LedgerHead } from './head.ts';
export {
  accountOf,
  cancelledRefundEntries,
  marketplaceFee,
  parseAccount,
  refundDueEntries,
  refundEntries,
  releaseEntries,
  settlementEntries,
  type LedgerAccount,
  type LedgerEntryInput,
} from './entries.ts';
export { LEDGER_ENTRY_TYPES, LEDGER_TRANSACTION_KINDS, type LedgerEntryType, type LedgerTransactionKind } from './schema.ts';

/** An entry as `GET /ledger` shows it (SPEC §5): exactly these fields. */
export type LedgerEntryView = {
  id: string;
  transaction_id: string;
  profile_id: string | null;
  account: string;
  entry_type: LedgerEntryType;
  amount_micro_usd: number;
  amount: string;
  network: string | null;
  tx_ref: string | null;
  gateway_request_id: string | null;
  relay_request_id: string | null;
  created_at: string;
};

export const entryView = (e: LedgerEntryRow): LedgerEntryView => ({
  id: e.id,
  transaction_id: e.transactionId,
  profile_id: e.profileId,
  account: e.account,
  entry_type: e.entryType,
  amount_micro_usd: e.amountMicroUsd,
  amount: microToDecimalString(e.amountMicroUsd),
  network: e.network,
  tx_ref: e.txRef,
  gateway_request_id: e.gatewayRequestId,
  relay_request_id: e.relayRequestId,
  created_at: e.createdAt,
});

export type ListEntriesQuery = {
  /** A full account (`seller:<your id>`) or just its kind (`buyer`, `seller`, `refunds`) for your own. */
  account?: string;
  entry_type?: LedgerEntryType;
  relay_request_id?: string;
  gateway_request_id?: string;
  /** Inclusive lower bound on created_at (any ISO-8601 time). */
  since?: string;
  /** Exclusive upper bound on created_at. */
  until?: string;
  page: number;
  limit: number;
};

/** Normalizes an ISO time to the stored form (UTC, milliseconds) so string comparison is time comparison. */

/**
 * The caller's own entries (accounts `buyer:`, `seller:`, `refunds:` of `profileId`), newest first.
 * The shared `held` and `fees` accounts are never shown: they mix every profile's money.
 */
export function listEntries(deps: LedgerDeps, profileId: string, query: ListEntriesQuery): { entries: LedgerEntryView[]; total: number } {
  const conditions: SQL[] = [eq(ledgerEntries.profileId, profileId)];
  if (query.account !== undefined) {
    const kind = query.account;
    const account = kind === 'buyer' || kind === 'seller' || kind === 'refunds' ? accountOf(kind, profileId) : kind;
    conditions.push(eq(ledgerEntries.account, account));
  }
  if (query.entry_type !== undefined) conditions.push(eq(ledgerEntries.entryType, query.entry_type));
  if (query.relay_request_id !== undefined) conditions.push(eq(ledgerEntries.relayRequestId, query.relay_request_id));
  if (query.gateway_request_id !== undefined) conditions.push(eq(ledgerEntries.gatewayRequestId, query.gateway_request_id));
  if (query.since !== undefined) conditions.push(gte(ledgerEntries.createdAt, query.since));
  if (query.until !== undefined) conditions.push(lt(ledgerEntries.createdAt, query.until));
  const where = and(...conditions);
  const { db } = deps.db;
  const total = db.select({ n: count() }).from(ledgerEntries).where(where).get()?.n ?? 0;
  const rows = db
    .select()
    .from(ledgerEntries)
    .where(where)
    .orderBy(desc(ledgerEntries.seq))
    .limit(query.limit)
    .offset((query.page - 1) * query.limit)
    .all();
  return { entries: rows.map(entryView), total };
}

/** The entries of one ledger transaction in chain order (for payments, admin and tests). */
export function getTransactionEntries(deps: LedgerDeps, transactionId: string): LedgerEntryView[] {
  return deps.db.db.select().from(ledgerEntries).where(eq(ledgerEntries.transactionId, transactionId)).orderBy(ledgerEntries.seq).all().map(entryView);
}

/** A micro-USD amount in both forms the API uses: `<name>_micro_usd` (integer) and `<name>` (decimal string). */
const both = <N extends string>(name: N, micro: number) =>
  ({ [`${name}_micro_usd`]: micro, [name]: microToDecimalString(micro) }) as { [K in `${N}_micro_usd`]: number } & { [K in N]: string };

export type AccountBalance = { account: string; balance_micro_usd: number; balance: string; entry_count: number };

/**
 * Per-account totals of the caller, plus what a buyer and a seller usually want to know:
 * - buyer: `paid` (all buyer_payment), `refunded` (refunds paid back on chain), `refund_due`
 *   (owed back, not yet refunded), `net_paid` (−balance of `buyer:<id>`);
 * - seller: `gross` (what buyers paid for its served calls), `fees` (marketplace fee on those),
 *   `credited` (gross − fees: with pay_to = seller the seller already holds it and owes `fees`;
 *   with the treasury it is what the operator owes the seller), `balance` (incl. adjustments).
 */
export function balances(deps: LedgerDeps, profileId: string) {
  const { sqlite } = deps.db;
  const accounts = sqlite
    .query<{ account: string; balance: number; entries: number }, [string]>(
      'SELECT account, SUM(amount_micro_usd) AS balance, COUNT(*) AS entries FROM ledger_entries WHERE profile_id = ? GROUP BY account ORDER BY account',
    )
    .all(profileId)
    .map((r): AccountBalance => ({ account: r.account, ...both('balance', r.balance), entry_count: r.entries }));
  const sumOf = (account: string, entryType: LedgerEntryType) =>
    sqlite
      .query<{ total: number }, [string, string, string]>(
        'SELECT COALESCE(SUM(amount_micro_usd), 0) AS total FROM ledger_entries WHERE profile_id = ? AND account = ? AND entry_type = ?',
      )
      .get(profileId, account, entryType)?.total ?? 0;
  const balanceOf = (account: string) => accounts.find((a) => a.account === account)?.balance_micro_usd ?? 0;
  const buyer = accountOf('buyer', profileId);
  const seller = accountOf('seller', profileId);
  // Fee entries sit on the shared `fees` account; they belong to this seller through the release
  // transaction that also credits it.
  const fees =
    sqlite
      .query<{ total: number }, [string, string]>(
        `SELECT COALESCE(SUM(f.amount_micro_usd), 0) AS total FROM ledger_entries f WHERE f.entry_type = 'marketplace_fee' AND f.transaction_id IN
          (SELECT transaction_id FROM ledger_entries WHERE profile_id = ? AND account = ? AND entry_type = 'seller_credit')`,
      )
      .get(profileId, seller)?.total ?? 0;
  const credited = sumOf(seller, 'seller_credit');
  // `0 - x`, not `-x`: a zero total must not turn into -0.
  return {
    profile_id: profileId,
    accounts,
    buyer: {
      ...both('paid', 0 - sumOf(buyer, 'buyer_payment')),
      ...both('refunded', sumOf(buyer, 'refund')),
      ...both('refund_due', balanceOf(accountOf('refunds', profileId))),
      ...both('net_paid', 0 - balanceOf(buyer)),
    },
    seller: {
      ...both('gross', credited + fees),
      ...both('fees', fees),
      ...both('credited', credited),
      ...both('balance', balanceOf(seller)),
    },
  };
}

export type LedgerBalances = ReturnType<typeof balances>;
