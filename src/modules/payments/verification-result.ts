import { AppError, recover } from '../../shared/app-error.ts';

/** Why a transaction that was found does not pay for the intent (SPEC §5 step 4); listed for the OpenAPI document. */
export const PAYMENT_REJECT_CODES = [
  'PAYMENT_INSUFFICIENT',
  'PAYMENT_WRONG_ASSET',
  'PAYMENT_WRONG_RECIPIENT',
  'PAYMENT_REFERENCE_MISSING',
  'PAYMENT_TX_FAILED',
  'PAYMENT_PAYER_NOT_LINKED',
  'PAYMENT_TX_TOO_OLD',
] as const;
export type PaymentRejectCode = (typeof PAYMENT_REJECT_CODES)[number];

/**
 * The outcome of checking one payment on chain. `verified` is final at the route's
 * confirmations/commitment; the caller still has to claim `settlementKey` in the database,
 * which is what stops one transfer paying for two intents.
 */
export type PaymentVerification =
  | {
      status: 'verified';
      /** `${network}:${txRef}:${transferIndex}` — unique per transfer, never per intent. */
      settlementKey: string;
      txRef: string;
      /** EVM: the `from` of the Transfer log. Solana: the transfer's authority (owner wallet). */
      payer: string;
      amountAtomic: bigint;
      /** EVM: index of the log within the receipt. Solana: index of the top-level instruction, or for a transfer made by CPI `1024 × (outer index + 1) + inner index` (see solana-transfer.ts). */
      transferIndex: number;
    }
  | { status: 'pending'; retryAfterSeconds: number; txRef: string }
  | { status: 'not_found' }
  | { status: 'rejected'; code: PaymentRejectCode; message: string; txRef?: string };

/** How long a buyer should wait before retrying a payment that is on chain but not yet final. */
export const PENDING_RETRY_AFTER_SECONDS = 5;

export function settlementKey(network: string, txRef: string, transferIndex: number): string {
  return `${network}:${txRef}:${transferIndex}`;
}

/** Deadline of one chain RPC request, on either chain family. */
export const RPC_TIMEOUT_MS = 10_000;

/**
 * The chain could not be asked (RPC down, timed out, answered nonsense): retryable, not the buyer's
 * fault. The RPC error goes in `cause` for the server log only, since it may name the RPC URL.
 */
export function paymentRpcUnavailable(cause?: unknown): AppError {
  const error = new AppError(503, 'PAYMENT_RPC_UNAVAILABLE', 'The payment network could not be reached; retry shortly.', {
    recovery: recover.retryLater('Retry the same request with the same relay request id.', PENDING_RETRY_AFTER_SECONDS),
  });
  error.cause = cause;
  return error;
}

/** The `X-Crochet-Payment-Tx` value is not even shaped like a transaction id of that chain. */
export function invalidPaymentTx(expected: string): AppError {
  return new AppError(400, 'PAYMENT_TX_INVALID', `X-Crochet-Payment-Tx must be ${expected}.`, {
    recovery: recover.fixRequest(`Send ${expected} in X-Crochet-Payment-Tx.`, { preserve: ['relay_request_id', 'body'] }),
  });
}
