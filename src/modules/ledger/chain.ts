// Posting to and verifying the hash-chained ledger. Every entry carries the hash of the entry
// before it, so rewriting any past row (with the append-only triggers dropped) breaks the chain
// from that row on, and `verifyLedger` names it.
import type { Database } from 'bun:sqlite';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { newId } from '../../shared/ids.ts';
import { entryProblem, isTransactionKind, parseAccount, type LedgerEntryInput } from './entries.ts';
import type { LedgerTransactionKind } from './schema.ts';

export type LedgerDeps = Pick<CoreDeps, 'db' | 'clock'>;

export type PostLedgerTransactionInput = {
  kind: LedgerTransactionKind;
  entries: LedgerEntryInput[];
  /** CAIP-2 network of the on-chain transfer this transaction records, if any. */
  network?: string | null;
  /** On-chain transaction hash / signature. */
  txRef?: string | null;
  gatewayRequestId?: string | null;
  relayRequestId?: string | null;
  memo?: string | null;
};

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);
/** Bumped if the hashed fields ever change, so old and new chains cannot be confused. */
const HASH_DOMAIN = 'crochet-ledger-entry-v1';
const MAX_REF_LENGTH = 200;
const MAX_MEMO_LENGTH = 1000;

/** Every stored field of an entry plus its transaction's kind and memo: all of it is covered by `hash`. */
export type HashedEntry = {
  prev_hash: string;
  seq: number;
  id: string;
  transaction_id: string;
  transaction_kind: string;
  transaction_memo: string | null;
  account: string;
  entry_type: string;
  amount_micro_usd: number;
  network: string | null;
  tx_ref: string | null;
  gateway_request_id: string | null;
  relay_request_id: string | null;
  created_at: string;
  profile_id: string | null;
};

/**
 * SHA-256 hex over a JSON array of the fields in a fixed order. A JSON array is unambiguous
 * (strings are quoted and escaped, null differs from "null"), unlike joining with separators.
 */
export function entryHash(e: HashedEntry): string {
  const canonical = JSON.stringify([
    HASH_DOMAIN,
    e.prev_hash,
    e.seq,
    e.id,
    e.transaction_id,
    e.transaction_kind,
    e.transaction_memo,
    e.account,
    e.entry_type,
    e.amount_micro_usd,
    e.network,
    e.tx_ref,
    e.gateway_request_id,
    e.relay_request_id,
    e.created_at,
    e.profile_id,
  ]);
  return new Bun.CryptoHasher('sha256').update(canonical).digest('hex');
}

function optionalRef(name: string, value: string | null | undefined, max = MAX_REF_LENGTH): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new Error(`ledger: ${name} must be a non-empty string of at most ${max} characters`);
  return value;
}

/**
 * Writes one balanced ledger transaction and returns its id. Synchronous: call it inside the
 * caller's `immediate()` transaction so the ledger row commits (or rolls back) with the state
 * change it records; outside one it opens its own. Throws a plain Error — a programming error,
 * not user input — unless there are ≥ 2 well-formed entries of non-zero safe-integer amounts
 * summing exactly to zero; nothing is written then.
 *
 * @example
 * immediate(deps.db.sqlite, () => {
 *   markIntentSettled(...);
 *   postLedgerTransaction(deps, { kind: 'settlement', entries: settlementEntries({ buyerId, amountMicroUsd }), network, txRef, relayRequestId });
 * });
 */
export function postLedgerTransaction(deps: LedgerDeps, input: PostLedgerTransactionInput): string {
  if (!isTransactionKind(input.kind)) throw new Error(`ledger: unknown transaction kind "${String(input.kind)}"`);
  if (!Array.isArray(input.entries) || input.entries.length < 2) throw new Error('ledger: a transaction needs at least 2 entries');
  let sum = 0n;
  const entries = input.entries.map((e, i) => {
    const profileId = e.profileId ?? parseAccount(e.account)?.profileId ?? null;
    const problem = entryProblem({ ...e, profileId });
    if (problem) throw new Error(`ledger: entry ${i}: ${problem}`);
    sum += BigInt(e.amountMicroUsd);
    return { ...e, profileId };
  });
  if (sum !== 0n) throw new Error(`ledger: entries sum to ${sum}, not 0`);
  const refs = {
    network: optionalRef('network', input.network),
    tx_ref: optionalRef('txRef', input.txRef),
    gateway_request_id: optionalRef('gatewayRequestId', input.gatewayRequestId),
    relay_request_id: optionalRef('relayRequestId', input.relayRequestId),
  };
  const memo = optionalRef('memo', input.memo, MAX_MEMO_LENGTH);
  const { sqlite } = deps.db;

  const write = () => {
    const transactionId = newId();
    const createdAt = iso(deps.clock.now());
    // Read the head inside the write transaction: under BEGIN IMMEDIATE no other writer can
    // append between this read and our inserts, so the chain never forks.
    const head = sqlite.query<{ seq: number; hash: string }, []>('SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1').get();
    let prevHash = head?.hash ?? GENESIS_HASH;
    let seq = head?.seq ?? 0;
    sqlite.query('INSERT INTO ledger_transactions (id, kind, created_at, memo) VALUES (?, ?, ?, ?)').run(transactionId, input.kind, createdAt, memo);
    const insert = sqlite.query(
      `INSERT INTO ledger_entries (id, seq, transaction_id, profile_id, account, entry_type, amount_micro_usd, network, tx_ref,
        gateway_request_id, relay_request_id, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const e of entries) {
      seq += 1;
      const row: HashedEntry = {
        prev_hash: prevHash,
        seq,
        id: newId(),
        transaction_id: transactionId,
        transaction_kind: input.kind,
        transaction_memo: memo,
        account: e.account,
        entry_type: e.entryType,
        amount_micro_usd: e.amountMicroUsd,
        ...refs,
        created_at: createdAt,
        profile_id: e.profileId,
      };
      const hash = entryHash(row);
      insert.run(row.id, row.seq, row.transaction_id, row.profile_id, row.account, row.entry_type, row.amount_micro_usd, row.network,
        row.tx_ref, row.gateway_request_id, row.relay_request_id, row.created_at, row.prev_hash, hash);
      prevHash = hash;
    }
    return transactionId;
  };
  return sqlite.inTransaction ? write() : immediate(sqlite, write);
}

export type LedgerVerification = {
  ok: boolean;
  transactionsChecked: number;
  entriesChecked: number;
  /** The last entry of the chain: record it elsewhere to also detect truncation of the newest entries. */
  head?: { seq: number; hash: string };
  firstBad?: { entryId: string; seq: number; reason: string };
};

type StoredEntry = Omit<HashedEntry, 'transaction_kind' | 'transaction_memo'> & {
  hash: string;
  transaction_kind: string | null;
  transaction_memo: string | null;
};

/**
 * Walks the whole ledger in seq order: seq contiguous from 1, each prev_hash equal to the hash
 * before it, each hash recomputed, each entry well-formed, each transaction contiguous with
 * ≥ 2 entries summing to zero. Stops at the first bad entry. Reads one consistent snapshot, so
 * it can run next to a live server (WAL).
 */
export function verifyLedger(sqlite: Database): LedgerVerification {
  return sqlite.transaction(() => walkLedger(sqlite))();
}

function walkLedger(sqlite: Database): LedgerVerification {
  const rows = sqlite
    .query<StoredEntry, []>(
      `SELECT e.id, e.seq, e.transaction_id, e.profile_id, e.account, e.entry_type, e.amount_micro_usd, e.network, e.tx_ref,
        e.gateway_request_id, e.relay_request_id, e.created_at, e.prev_hash, e.hash, t.kind AS transaction_kind, t.memo AS transaction_memo
       FROM ledger_entries e LEFT JOIN ledger_transactions t ON t.id = e.transaction_id ORDER BY e.seq`,
    )
    .iterate();
  const seenTransactions = new Set<string>();
  let entriesChecked = 0;
  let prev: { seq: number; hash: string } | null = null;
  let open: { id: string; sum: bigint; count: number; last: StoredEntry } | null = null;
  const result = (firstBad?: LedgerVerification['firstBad']): LedgerVerification => ({
    ok: firstBad === undefined,
    transactionsChecked: seenTransactions.size,
    entriesChecked,
    ...(prev ? { head: prev } : {}),
    ...(firstBad ? { firstBad } : {}),
  });
  const bad = (e: StoredEntry, reason: string) => result({ entryId: e.id, seq: e.seq, reason });
  const closeTransaction = () => {
    if (!open) return null;
    if (open.count < 2) return bad(open.last, `transaction ${open.id} has only ${open.count} entry`);
    if (open.sum !== 0n) return bad(open.last, `transaction ${open.id} sums to ${open.sum} micro-USD, not 0`);
    return null;
  };

  for (const e of rows) {
    entriesChecked += 1;
    const expectedSeq: number = (prev?.seq ?? 0) + 1;
    if (e.seq !== expectedSeq) {
      const reason = e.seq > expectedSeq ? `seq ${e.seq} follows seq ${expectedSeq - 1}: ${e.seq - expectedSeq} entr${e.seq - expectedSeq === 1 ? 'y is' : 'ies are'} missing` : `seq ${e.seq} is out of order`;
      return bad(e, reason);
    }
    if (!open || e.transaction_id !== open.id) {
      const unbalanced = closeTransaction();
      if (unbalanced) return unbalanced;
      if (seenTransactions.has(e.transaction_id)) return bad(e, `transaction ${e.transaction_id} continues after other entries`);
      seenTransactions.add(e.transaction_id);
      open = { id: e.transaction_id, sum: 0n, count: 0, last: e };
    }
    if (e.prev_hash !== (prev?.hash ?? GENESIS_HASH)) return bad(e, 'prev_hash does not match the hash of the previous entry');
    if (e.transaction_kind === null) return bad(e, `transaction ${e.transaction_id} does not exist`);
    const hash = entryHash({ ...e, transaction_kind: e.transaction_kind });
    if (hash !== e.hash) return bad(e, 'hash does not match the entry contents (the entry was altered)');
    const problem = entryProblem({ account: e.account, profileId: e.profile_id, entryType: e.entry_type, amountMicroUsd: e.amount_micro_usd });
    if (problem) return bad(e, problem);
    open.sum += BigInt(e.amount_micro_usd);
    open.count += 1;
    open.last = e;
    prev = { seq: e.seq, hash: e.hash };
  }
  return closeTransaction() ?? result();
}
