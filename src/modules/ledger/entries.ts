// Pure shapes of ledger entries: account names, what may be posted where, and the builders for the
// transactions of a paid call (SPEC §5 "Ledger"). No database here.
import { LEDGER_ENTRY_TYPES, LEDGER_TRANSACTION_KINDS, type LedgerEntryType, type LedgerTransactionKind } from './schema.ts';

/** `buyer:<profile>`, `seller:<profile>`, `refunds:<profile>`, or the shared `held` and `fees`. */
export type LedgerAccount = `buyer:${string}` | `seller:${string}` | `refunds:${string}` | 'held' | 'fees';
export type AccountKind = 'buyer' | 'seller' | 'refunds' | 'held' | 'fees';

/** One line of a ledger transaction before it is posted. `profileId` defaults to the account's profile. */
export type LedgerEntryInput = {
  account: string;
  profileId?: string | null;
  entryType: LedgerEntryType;
  /** Signed safe integer micro-USD, never 0: negative leaves the account, positive arrives. */
  amountMicroUsd: number;
};

/** Profile ids are UUIDv7 today; anything id-like without `:` or whitespace keeps accounts unambiguous. */
const PROFILE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PROFILE_ACCOUNT_KINDS = ['buyer', 'seller', 'refunds'] as const;

/** Which account kinds each entry type may be posted to, so a builder mistake cannot, e.g., credit `held` as a fee. */
const ALLOWED_ACCOUNTS: Record<LedgerEntryType, readonly AccountKind[]> = {
  buyer_payment: ['buyer'],
  payment_held: ['held'],
  hold_released: ['held'],
  seller_credit: ['seller'],
  marketplace_fee: ['fees'],
  refund_due: ['held', 'refunds'],
  refund: ['refunds', 'buyer'],
  adjustment: ['buyer', 'seller', 'refunds', 'held', 'fees'],
};

/** Splits an account name into its kind and profile, or null when it is not a well-formed account. */
export function parseAccount(account: string): { kind: AccountKind; profileId: string | null } | null {
  if (account === 'held' || account === 'fees') return { kind: account, profileId: null };
  const colon = account.indexOf(':');
  if (colon < 0) return null;
  const kind = account.slice(0, colon);
  const profileId = account.slice(colon + 1);
  if (!(PROFILE_ACCOUNT_KINDS as readonly string[]).includes(kind) || !PROFILE_ID.test(profileId)) return null;
  return { kind: kind as AccountKind, profileId };
}

/** `account('seller', id)` → `seller:<id>`. */
export function accountOf(kind: 'buyer' | 'seller' | 'refunds', profileId: string): LedgerAccount {
  if (!PROFILE_ID.test(profileId)) throw new Error(`ledger: malformed profile id for a ${kind} account`);
  return `${kind}:${profileId}`;
}

export const isTransactionKind = (v: string): v is LedgerTransactionKind => (LEDGER_TRANSACTION_KINDS as readonly string[]).includes(v);
export const isEntryType = (v: string): v is LedgerEntryType => (LEDGER_ENTRY_TYPES as readonly string[]).includes(v);

/**
 * Why this entry is malformed, or null when it is fine: a known entry type on an allowed,
 * well-formed account, a profile matching the account, a non-zero safe integer amount.
 */
export function entryProblem(e: { account: string; profileId: string | null; entryType: string; amountMicroUsd: unknown }): string | null {
  const parsed = parseAccount(e.account);
  if (!parsed) return `malformed account "${e.account}"`;
  if (!isEntryType(e.entryType)) return `unknown entry type "${e.entryType}"`;
  if (!ALLOWED_ACCOUNTS[e.entryType].includes(parsed.kind)) return `entry type ${e.entryType} cannot be posted to a ${parsed.kind} account`;
  if (e.profileId !== parsed.profileId) return `profile_id does not match account ${e.account}`;
  if (typeof e.amountMicroUsd !== 'number' || !Number.isSafeInteger(e.amountMicroUsd)) return 'amount is not a safe integer of micro-USD';
  if (e.amountMicroUsd === 0) return 'amount is zero';
  return null;
}

function requireAmount(amountMicroUsd: number): void {
  if (!Number.isSafeInteger(amountMicroUsd) || amountMicroUsd <= 0) throw new Error('ledger: amount must be a positive safe integer of micro-USD');
}

/** The marketplace fee of a paid call: floor(amount × bps / 10000), in integer arithmetic. */
export function marketplaceFee(amountMicroUsd: number, feeBps: number): number {
  requireAmount(amountMicroUsd);
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new Error('ledger: fee bps must be an integer 0–10000');
  return Number((BigInt(amountMicroUsd) * BigInt(feeBps)) / 10_000n);
}

/** Settlement of a verified payment: the buyer paid A on chain, Crochet's books hold it until the call is served. */
export function settlementEntries(input: { buyerId: string; amountMicroUsd: number }): LedgerEntryInput[] {
  requireAmount(input.amountMicroUsd);
  return [
    { account: accountOf('buyer', input.buyerId), entryType: 'buyer_payment', amountMicroUsd: -input.amountMicroUsd },
    { account: 'held', entryType: 'payment_held', amountMicroUsd: input.amountMicroUsd },
  ];
}

/**
 * Release after the seller served the call: held → seller credit (A − fee) + marketplace fee.
 * `releaseEntries({ sellerId, amountMicroUsd: 250000, feeBps: 250 })` → −250000 held,
 * +243750 seller, +6250 fees. A zero fee (or a zero seller share at 10000 bps) is left out.
 */
export function releaseEntries(input: { sellerId: string; amountMicroUsd: number; feeBps: number }): LedgerEntryInput[] {
  const fee = marketplaceFee(input.amountMicroUsd, input.feeBps);
  const credit = input.amountMicroUsd - fee;
  const entries: LedgerEntryInput[] = [{ account: 'held', entryType: 'hold_released', amountMicroUsd: -input.amountMicroUsd }];
  if (credit > 0) entries.push({ account: accountOf('seller', input.sellerId), entryType: 'seller_credit', amountMicroUsd: credit });
  if (fee > 0) entries.push({ account: 'fees', entryType: 'marketplace_fee', amountMicroUsd: fee });
  return entries;
}

/** A settled intent expired unused: what was held is now owed back to the buyer (`held` → `refunds:<buyer>`). */
export function refundDueEntries(input: { buyerId: string; amountMicroUsd: number }): LedgerEntryInput[] {
  requireAmount(input.amountMicroUsd);
  return [
    { account: 'held', entryType: 'refund_due', amountMicroUsd: -input.amountMicroUsd },
    { account: accountOf('refunds', input.buyerId), entryType: 'refund_due', amountMicroUsd: input.amountMicroUsd },
  ];
}

/**
 * The operator paid a due refund back on chain (record its network and tx_ref on the transaction).
 * The money left the books, so the two sides are the debt and the buyer's own account:
 * `refunds:<buyer>` −A settles what was owed, `buyer:<buyer>` +A reverses the original
 * `buyer_payment`. After settlement → refund_due → refund every account of the call is back to
 * zero: the buyer's books show it paid nothing net, and nothing is held or owed.
 */
export function refundEntries(input: { buyerId: string; amountMicroUsd: number }): LedgerEntryInput[] {
  requireAmount(input.amountMicroUsd);
  return [
    { account: accountOf('refunds', input.buyerId), entryType: 'refund', amountMicroUsd: -input.amountMicroUsd },
    { account: accountOf('buyer', input.buyerId), entryType: 'refund', amountMicroUsd: input.amountMicroUsd },
  ];
}

/**
 * A refund due that is cancelled without paying anything back: the transfer it was for paid for a
 * call after all (an extra payment presented with the wrong relay id, then with its own).
 * `refunds:<buyer>` −A and `buyer:<buyer>` +A, as adjustments: the settlement that follows books
 * the payment again for the intent it paid.
 */
export function cancelledRefundEntries(input: { buyerId: string; amountMicroUsd: number }): LedgerEntryInput[] {
  requireAmount(input.amountMicroUsd);
  return [
    { account: accountOf('refunds', input.buyerId), entryType: 'adjustment', amountMicroUsd: -input.amountMicroUsd },
    { account: accountOf('buyer', input.buyerId), entryType: 'adjustment', amountMicroUsd: input.amountMicroUsd },
  ];
}
