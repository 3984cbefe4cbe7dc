// The payment lifecycle as one table (SPEC §5): for each phase of an intent and each event, the
// next status, the ledger postings and what happens to the forwarding lease — or a refusal with its
// code. Pure: no database, no clock. `apply.ts` performs a cell in one short transaction, and is
// the only writer of intent statuses and payments ledger postings. docs/payment-lifecycle.md is
// generated from this file (scripts/payment-lifecycle-doc.ts); a test keeps them equal.
import type { IntentStatus } from './schema.ts';
import { PaymentCodes } from './errors.ts';

/**
 * An intent's status refined by the clock and the lease: `open_expired` and `settled_expired` are
 * past `expires_at` but not swept yet; `forwarding` is settled with a live forwarding lease (before
 * or after expiry: the sweep waits for it).
 */
export const PHASES = ['open', 'open_expired', 'settled', 'settled_expired', 'forwarding', 'consumed', 'expired', 'refund_due', 'refunded'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Events. A verified transfer is classified against the books first: `pay` (never recorded),
 * `pay_again` (recorded for this very intent), `pay_reclaimed` (recorded as an unrefunded extra
 * payment of another intent of the same buyer costing no more than this one), `pay_used`
 * (recorded for anything else). `claim` takes the forwarding lease, `complete` ends a call the
 * seller handled, `release` drops the lease after a seller failure, `expire` is the sweep,
 * `refund` the operator paying a refund back.
 */
export const EVENTS = ['pay', 'pay_again', 'pay_reclaimed', 'pay_used', 'claim', 'complete', 'release', 'expire', 'refund'] as const;
export type LifecycleEventType = (typeof EVENTS)[number];

/**
 * Ledger transactions a cell posts, in order. `settlement` buyer → held; `refund_due` held →
 * refunds:<buyer>; `release` held → seller + fees; `refund` refunds:<buyer> → buyer (paid back on
 * chain); `cancel_extra` (adjustment) refunds:<buyer> → buyer, for an extra payment that pays
 * another intent after all.
 */
export const POSTINGS = ['settlement', 'refund_due', 'release', 'refund', 'cancel_extra'] as const;
export type PostingKind = (typeof POSTINGS)[number];

/** Refusals that are not buyer-facing codes: the caller decides what to answer. */
export const LifecycleCodes = {
  /** `claim` on an intent not paid yet: answer with the chain's verdict (402 / 202). */
  NOT_PAID: 'LIFECYCLE_NOT_PAID',
  /** `expire` before the intent's time. */
  NOT_DUE: 'LIFECYCLE_NOT_DUE',
} as const;

export type RefusalCode =
  | typeof PaymentCodes.IN_PROGRESS
  | typeof PaymentCodes.INTENT_CONSUMED
  | typeof PaymentCodes.INTENT_EXPIRED
  | typeof PaymentCodes.ALREADY_USED
  | typeof PaymentCodes.REFUND_NOT_FOUND
  | typeof PaymentCodes.REFUND_NOT_YET_PAYABLE
  /** Not a cell: a guard of `refund` (one refund transfer never pays back two buyers). */
  | typeof PaymentCodes.REFUND_TX_REF_USED
  | (typeof LifecycleCodes)[keyof typeof LifecycleCodes];

/** What a transfer presented is recorded as: the intent's payment, an extra one owed back, or moved from another intent. */
export type RecordKind = 'payment' | 'extra' | 'reclaim';

export type Transition =
  | {
      kind: 'move';
      /** New status; null keeps it (an extra payment, a lease taken or dropped). */
      to: IntentStatus | null;
      postings: readonly PostingKind[];
      record?: RecordKind;
      lease?: 'take' | 'drop';
    }
  | { kind: 'ignore' }
  | { kind: 'refuse'; code: RefusalCode };

const move = (to: IntentStatus | null, postings: readonly PostingKind[], extra: { record?: RecordKind; lease?: 'take' | 'drop' } = {}): Transition => ({ kind: 'move', to, postings, ...extra });
const ignore: Transition = { kind: 'ignore' };
const refuse = (code: RefusalCode): Transition => ({ kind: 'refuse', code });

// Shared rows: a transfer other than the paying one, presented for an intent already paid, is owed
// back (recorded as an extra payment, the status unchanged); transfers already on the books change nothing.
const paid = { pay: move(null, ['settlement', 'refund_due'], { record: 'extra' }), pay_again: ignore, pay_reclaimed: ignore, pay_used: ignore } as const;
const expiredClaim = refuse(PaymentCodes.INTENT_EXPIRED);
const noRefund = refuse(PaymentCodes.REFUND_NOT_FOUND);

/** The table. Every (phase, event) pair has exactly one cell. */
export const LIFECYCLE: Readonly<Record<Phase, Readonly<Record<LifecycleEventType, Transition>>>> = {
  open: {
    pay: move('settled', ['settlement'], { record: 'payment' }),
    pay_again: ignore,
    pay_reclaimed: move('settled', ['cancel_extra', 'settlement'], { record: 'reclaim' }),
    pay_used: refuse(PaymentCodes.ALREADY_USED),
    claim: refuse(LifecycleCodes.NOT_PAID),
    complete: refuse(LifecycleCodes.NOT_PAID),
    release: ignore,
    expire: refuse(LifecycleCodes.NOT_DUE),
    refund: noRefund,
  },
  // A transfer that confirmed after its intent expired unpaid: on the books, and owed back at once.
  // An extra payment of another intent is not moved here: it stays owed in full where it is.
  open_expired: {
    pay: move('refund_due', ['settlement', 'refund_due'], { record: 'payment' }),
    pay_again: ignore,
    pay_reclaimed: refuse(PaymentCodes.ALREADY_USED),
    pay_used: refuse(PaymentCodes.ALREADY_USED),
    claim: expiredClaim,
    complete: expiredClaim,
    release: ignore,
    expire: move('expired', []),
    refund: noRefund,
  },
  expired: {
    pay: move('refund_due', ['settlement', 'refund_due'], { record: 'payment' }),
    pay_again: ignore,
    pay_reclaimed: refuse(PaymentCodes.ALREADY_USED),
    pay_used: refuse(PaymentCodes.ALREADY_USED),
    claim: expiredClaim,
    complete: expiredClaim,
    release: ignore,
    expire: ignore,
    refund: noRefund,
  },
  settled: {
    ...paid,
    claim: move(null, [], { lease: 'take' }),
    complete: move('consumed', ['release'], { lease: 'drop' }),
    release: ignore,
    expire: refuse(LifecycleCodes.NOT_DUE),
    refund: noRefund,
  },
  settled_expired: {
    ...paid,
    claim: expiredClaim,
    // A call that began before expiry and whose lease lapsed (never while its process lives).
    complete: move('consumed', ['release'], { lease: 'drop' }),
    release: ignore,
    expire: move('refund_due', ['refund_due']),
    refund: noRefund,
  },
  forwarding: {
    ...paid,
    claim: refuse(PaymentCodes.IN_PROGRESS),
    complete: move('consumed', ['release'], { lease: 'drop' }),
    // Only the claim's own holder drops it (apply checks the lease id).
    release: move(null, [], { lease: 'drop' }),
    expire: refuse(PaymentCodes.IN_PROGRESS),
    refund: noRefund,
  },
  consumed: {
    ...paid,
    claim: refuse(PaymentCodes.INTENT_CONSUMED),
    complete: refuse(PaymentCodes.INTENT_CONSUMED),
    release: ignore,
    expire: ignore,
    refund: noRefund,
  },
  refund_due: {
    ...paid,
    claim: expiredClaim,
    complete: expiredClaim,
    release: ignore,
    expire: ignore,
    refund: move('refunded', ['refund']),
  },
  refunded: {
    ...paid,
    claim: expiredClaim,
    complete: expiredClaim,
    release: ignore,
    expire: ignore,
    refund: noRefund,
  },
};

/** The cell for `phase` and `event`. */
export const transition = (phase: Phase, event: LifecycleEventType): Transition => LIFECYCLE[phase][event];

/** An intent's phase at `nowIso` (ISO-8601 UTC, compared as strings like every stored time). */
export function phaseOf(intent: { status: IntentStatus; expiresAt: string; leaseUntil: string | null }, nowIso: string): Phase {
  const lapsed = intent.expiresAt <= nowIso;
  switch (intent.status) {
    case 'open':
      return lapsed ? 'open_expired' : 'open';
    case 'settled':
      if (intent.leaseUntil !== null && intent.leaseUntil > nowIso) return 'forwarding';
      return lapsed ? 'settled_expired' : 'settled';
    default:
      return intent.status;
  }
}

/** An extra payment (a transfer owed back, not its intent's payment): owed, or refunded. */
export const EXTRA_PHASES = ['extra_not_yet_payable', 'extra_due', 'extra_refunded'] as const;
export type ExtraPhase = (typeof EXTRA_PHASES)[number];

/**
 * The extra payment's own table: the operator may pay it back once no intent of its buyer can
 * claim it any more (`payable_after`); a `pay_reclaimed` on another intent moves it there instead.
 */
export const EXTRA_LIFECYCLE: Readonly<Record<ExtraPhase, { refund: Transition }>> = {
  extra_not_yet_payable: { refund: refuse(PaymentCodes.REFUND_NOT_YET_PAYABLE) },
  extra_due: { refund: move(null, ['refund']) },
  extra_refunded: { refund: noRefund },
};
