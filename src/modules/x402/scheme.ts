// The contract one chain family implements to settle x402 `exact` payments (SPEC §5 "x402
// interoperability"). The shared orchestration (settle.ts) owns everything else: decoding, the
// offer HMAC, comparing `accepted` with the requirements rebuilt from the intent, the claim in the
// database, deadlines, and handing a final transfer to the payments lifecycle. A scheme never
// touches the database; it only talks to its chain.
//
// Order of calls for one PAYMENT-SIGNATURE (each at most once per claim):
//   verify → (orchestration claims `claimKey` in the database) → broadcast → awaitFinal (again on
//   every later presentation of the same payload, never broadcast again).
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import type { PaymentRouteConfig } from '../../config.ts';
import type { OfferedRoute, PaymentIntent } from '../payments/schema.ts';
import type { PaymentVerification } from '../payments/verification-result.ts';

export type { PaymentPayload, PaymentRequirements, PaymentRequired, SettleResponse } from '@x402/core/types';

export type X402Family = 'evm' | 'solana';

/**
 * Why a payment is refused: `reason` in x402's terms (the `error` of the fresh PAYMENT-REQUIRED, or
 * `errorReason` of PAYMENT-RESPONSE, e.g. "invalid_exact_evm_payload_signature"), `code` Crochet's
 * own error code for the JSON envelope (PAYMENT_PAYER_NOT_LINKED, PAYMENT_INSUFFICIENT, …).
 */
export type X402Refusal = { reason: string; code: string; message: string };

/** What a scheme may look at when checking a payload. */
export type VerifyContext = {
  intent: PaymentIntent;
  /** The intent's route this payment is for (as stored with the intent). */
  route: OfferedRoute;
  /** The buyer's active payment wallets of this family (EVM: `from` must be one of them). */
  buyerWallets: readonly string[];
  /** The server's clock (tests move it). */
  now: Date;
};

export type SchemeVerdict =
  /** `claimKey`: the SPEC's unique key (EVM `eip155:<chain>:<asset>:<from>:<nonce>`, Solana the message). */
  | { ok: true; payer: string; claimKey: string }
  | { ok: false; refusal: X402Refusal };

export type BroadcastContext = VerifyContext & {
  /** Epoch ms after which the scheme must stop waiting for anything (the call's deadline). */
  deadlineMs: number;
  /**
   * Optional: called with the transaction id once it is signed and before it is sent, so the claim
   * records it even if the process dies while sending (a scheme that cannot know it early skips it).
   */
  onSigned?: (transaction: string) => void;
};

/**
 * Sent: the transaction id (EVM hash, Solana signature). Refused: nothing was sent. `maybeSent`:
 * sending failed in a way that leaves it unknown whether the transaction reached the chain (a
 * timeout after `onSigned`): the claim keeps the transaction and later presentations check it.
 */
export type BroadcastResult = { ok: true; transaction: string } | { ok: false; refusal: X402Refusal; maybeSent?: string };

export type FinalContext = VerifyContext & { deadlineMs: number };

/** The settling key's funds for gas / fees. `low` when under the family's warning threshold. */
export type GasBalance = { family: X402Family; network: string; address: string; balance: bigint; decimals: number; symbol: string; low: boolean };

/**
 * One route's x402 settlement (one instance per configured route that can settle).
 * Example (the orchestration, simplified):
 * ```ts
 * const v = await scheme.verify(payload, requirements, ctx);           // no side effect
 * if (v.ok && claim(v.claimKey)) {
 *   const sent = await scheme.broadcast(payload, requirements, { ...ctx, deadlineMs });
 *   if (sent.ok) recordTx(sent.transaction);
 *   const final = await scheme.awaitFinal(sent.transaction, { ...ctx, deadlineMs });
 * }
 * ```
 */
export interface X402Scheme {
  readonly family: X402Family;
  /** The route's CAIP-2 network and asset (the key of `X402Schemes`, like payments' verifierKey). */
  readonly network: string;
  readonly asset: string;
  /** Offered `maxTimeoutSeconds` (≥ 30). */
  readonly maxTimeoutSeconds: number;
  /** The settling key's public address (relayer / fee payer). */
  readonly settlerAddress: string;
  /** False when stock clients cannot pay this route (e.g. a Solana cluster they do not know). */
  canOffer(): boolean;
  /** The family's entries of the offer's `extra` (EVM: EIP-712 `name`, `version`; Solana: `feePayer`, `memo`). */
  offerExtra(route: OfferedRoute, intent: PaymentIntent): Promise<Record<string, unknown>>;
  /**
   * Checks the payload against the requirements (rebuilt by the orchestration from the intent):
   * signature, amount exact, recipient, asset, validity window, payer binding, simulation. No side
   * effect. Returns the payer and the claim key, or a refusal.
   */
  verify(payload: PaymentPayload, requirements: PaymentRequirements, ctx: VerifyContext): Promise<SchemeVerdict>;
  /** Submits the payment with the settling key; resolves as soon as the transaction is sent. */
  broadcast(payload: PaymentPayload, requirements: PaymentRequirements, ctx: BroadcastContext): Promise<BroadcastResult>;
  /**
   * Waits, until `deadlineMs` at the latest, for the transaction to be final at the route's
   * confirmations / commitment, then checks it from canonical chain data like the native verifier:
   * `verified` (with the settlement key the lifecycle records), `pending` (not final yet — the
   * caller answers 504 settlement_pending), `rejected` (reverted or wrong), `not_found`.
   */
  awaitFinal(transaction: string, ctx: FinalContext): Promise<PaymentVerification>;
  /** The settling key's native balance. */
  gasBalance(): Promise<GasBalance>;
}

/** Builds the scheme of one route, given its settling key (called at start, once per route). */
export type X402SchemeFactory = (route: PaymentRouteConfig) => X402Scheme | null;

/** Every route's scheme, keyed by payments' `verifierKey(route)` (network|asset). */
export type X402Schemes = Map<string, X402Scheme>;
