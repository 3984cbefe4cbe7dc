import { AppError } from '../../shared/app-error.ts';

/** Codes of refusals only the x402 path has (the rest are payments' codes, SPEC §5). */
export const X402_REFUSAL_CODES = [
  'PAYMENT_INVALID',
  'PAYMENT_SIGNATURE_INVALID',
  'PAYMENT_AUTHORIZATION_EXPIRED',
  'PAYMENT_INSUFFICIENT_FUNDS',
  'PAYMENT_PAYER_NOT_LINKED',
  'PAYMENT_REQUEST_MISMATCH',
  'PAYMENT_INSUFFICIENT',
  'PAYMENT_WRONG_RECIPIENT',
  'PAYMENT_WRONG_ASSET',
  'PAYMENT_INTENT_NOT_FOUND',
  'PAYMENT_INTENT_EXPIRED',
  'PAYMENT_TX_FAILED',
  'PAYMENT_NOT_FOUND',
] as const;

/** x402 errors. A refusal is a 402 whose PAYMENT-REQUIRED header (a fresh offer) the gateway adds. */
export const X402Errors = {
  refused: (code: string, message: string, reason: string) =>
    new AppError(402, code, message, {
      details: { x402_reason: reason },
      recovery: {
        retryable: true,
        next_action: 'complete_payment_and_retry',
        summary: 'Pay the fresh offer in PAYMENT-REQUIRED (or the JSON `payment`) and retry the same body.',
        preserve: ['body'],
      },
    }),
  alreadyUsed: (gatewayRequestId: string | null) =>
    new AppError(409, 'PAYMENT_ALREADY_USED', 'This payment already paid for a completed call; it is never charged or forwarded twice.', {
      details: gatewayRequestId ? { gateway_request_id: gatewayRequestId } : undefined,
      recovery: {
        retryable: false,
        next_action: 'fetch_paid_response',
        summary: 'Read what it paid for with GET /api/v1/gateway-requests/{gateway_request_id}/response, or call again without PAYMENT-SIGNATURE for a new offer.',
      },
    }),
  settlementPending: (transaction: string) =>
    new AppError(504, 'PAYMENT_SETTLEMENT_PENDING', 'The payment was sent but is not final yet; present the same PAYMENT-SIGNATURE again to resume it (it is never charged twice).', {
      details: { transaction },
      recovery: { retryable: true, next_action: 'retry_same_payment', summary: 'Retry the same request with the same PAYMENT-SIGNATURE.', retry_after_seconds: 5, preserve: ['body', 'payment_signature'] },
    }),
  inProgress: () =>
    new AppError(409, 'PAYMENT_IN_PROGRESS', 'This payment is being settled or its call is being forwarded by another request; retry shortly.', {
      recovery: { retryable: true, next_action: 'retry_later', summary: 'Retry the same request with the same PAYMENT-SIGNATURE.', retry_after_seconds: 2, preserve: ['body', 'payment_signature'] },
    }),
};
