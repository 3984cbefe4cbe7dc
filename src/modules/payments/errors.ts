import { AppError, type Recovery } from '../../shared/app-error.ts';

/** Payment error codes by name: code compares use these, never string literals. */
export const PaymentCodes = {
  NOT_CONFIGURED: 'PAYMENTS_NOT_CONFIGURED',
  REQUIRED: 'PAYMENT_REQUIRED',
  NOT_FOUND: 'PAYMENT_NOT_FOUND',
  ROUTE_MINIMUM_NOT_MET: 'PAYMENT_ROUTE_MINIMUM_NOT_MET',
  INTENT_NOT_FOUND: 'PAYMENT_INTENT_NOT_FOUND',
  INTENT_EXPIRED: 'PAYMENT_INTENT_EXPIRED',
  REQUEST_MISMATCH: 'PAYMENT_REQUEST_MISMATCH',
  INTENT_CONSUMED: 'PAYMENT_INTENT_CONSUMED',
  ALREADY_USED: 'PAYMENT_ALREADY_USED',
  IN_PROGRESS: 'PAYMENT_IN_PROGRESS',
  TX_REQUIRED: 'PAYMENT_TX_REQUIRED',
  REFUND_NOT_FOUND: 'REFUND_NOT_FOUND',
  REFUND_NOT_YET_PAYABLE: 'REFUND_NOT_YET_PAYABLE',
  REFUND_TX_REF_USED: 'REFUND_TX_REF_USED',
} as const;
export type PaymentCode = (typeof PaymentCodes)[keyof typeof PaymentCodes];

const KEEP = ['relay_request_id', 'body'];

const payAndRetry = (summary: string): Recovery => ({
  retryable: true,
  next_action: 'complete_payment_and_retry',
  summary,
  preserve: KEEP,
});

const newIntent = (summary: string): Recovery => ({
  retryable: true,
  next_action: 'request_new_payment',
  summary,
  discard: ['relay_request_id'],
  preserve: ['body'],
});

/** Payment codes (SPEC §5). `payment` is the 402 requirement object, added where the buyer still has to pay. */
export const PaymentErrors = {
  notConfigured: () =>
    new AppError(503, PaymentCodes.NOT_CONFIGURED, 'This instance has no payment routes, so paid listings cannot be called.', {
      recovery: { retryable: false, next_action: 'contact_operator', summary: 'The operator must configure CROCHET_PAYMENT_ROUTES.' },
    }),
  required: (payment: object) =>
    new AppError(402, PaymentCodes.REQUIRED, 'This call must be paid for on chain first.', {
      recovery: payAndRetry('Pay payment.amount_atomic of a route\'s asset to its pay_to, then retry the same body with X-Crochet-Relay-Request-Id (and X-Crochet-Payment-Tx).'),
      extra: { payment },
    }),
  notFound: (payment: object) =>
    new AppError(402, PaymentCodes.NOT_FOUND, 'No payment for this relay request was found on chain yet.', {
      recovery: { ...payAndRetry('Pay, or wait for the transaction to be seen, then retry with the same relay request id.'), retry_after_seconds: 5 },
      extra: { payment },
    }),
  rejected: (code: string, message: string, payment: object) =>
    new AppError(402, code, message, {
      recovery: payAndRetry('The transaction found does not pay for this call; make a correct payment and retry with the same relay request id.'),
      extra: { payment },
    }),
  routeMinimumNotMet: (hasSolanaWallet: boolean) =>
    new AppError(422, PaymentCodes.ROUTE_MINIMUM_NOT_MET, 'No payment route you can use accepts a payment this small.', {
      recovery: hasSolanaWallet
        ? { retryable: true, next_action: 'use_solana_route', summary: 'Retry without limiting X-Crochet-Origin-Currency to EVM: a Solana route accepts this price.' }
        : { retryable: true, next_action: 'link_solana_wallet', summary: 'Link a Solana wallet (POST /api/v1/me/wallets) and pay on Solana, where small payments are accepted.' },
    }),
  intentNotFound: () =>
    new AppError(404, PaymentCodes.INTENT_NOT_FOUND, 'No payment intent with this relay request id belongs to you.', {
      recovery: newIntent('Call again without X-Crochet-Relay-Request-Id to get a new payment requirement.'),
    }),
  intentExpired: (late: { refundDue: boolean } = { refundDue: false }) =>
    late.refundDue
      ? new AppError(410, PaymentCodes.INTENT_EXPIRED, 'This relay request id expired before its payment was final; the payment is recorded as a refund due to you.', {
          details: { refund_due: true },
          recovery: newIntent('Call again without X-Crochet-Relay-Request-Id for a new payment requirement; the operator refunds the late payment (see GET /api/v1/ledger/balance).'),
        })
      : new AppError(410, PaymentCodes.INTENT_EXPIRED, 'This relay request id has expired.', {
          recovery: newIntent('Call again without X-Crochet-Relay-Request-Id. If you paid for this id, retry it with the same payment once final: a valid late payment is recorded as a refund due to you.'),
        }),
  requestMismatch: () =>
    new AppError(409, PaymentCodes.REQUEST_MISMATCH, 'This relay request id was issued for another listing or another body.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Retry with exactly the body (byte for byte) and listing the relay request id was issued for.', preserve: KEEP },
    }),
  intentConsumed: () =>
    new AppError(409, PaymentCodes.INTENT_CONSUMED, 'This relay request id already paid for a completed call.', {
      recovery: newIntent('Fetch that call\'s reply with GET /api/v1/gateway-requests/:id/response, or start a new paid call.'),
    }),
  alreadyUsed: () =>
    new AppError(409, PaymentCodes.ALREADY_USED, 'This transaction already paid for another call.', {
      recovery: { retryable: false, next_action: 'complete_payment_and_retry', summary: 'Each transfer pays for one call: make a new payment for this relay request id.', preserve: KEEP },
    }),
  inProgress: () =>
    new AppError(409, PaymentCodes.IN_PROGRESS, 'A call paid by this relay request id is being forwarded right now.', {
      recovery: { retryable: true, next_action: 'retry_later', summary: 'Wait for the call in flight; then retry, or find its outcome in GET /api/v1/gateway-requests?listing_id=….', retry_after_seconds: 2, preserve: KEEP },
    }),
  txRequired: () =>
    new AppError(400, PaymentCodes.TX_REQUIRED, 'EVM payments need the transaction hash in X-Crochet-Payment-Tx.', {
      recovery: { retryable: true, next_action: 'fix_request', summary: 'Retry with X-Crochet-Payment-Tx: 0x… (the transfer\'s transaction hash).', preserve: KEEP },
    }),
  refundNotFound: () =>
    new AppError(404, PaymentCodes.REFUND_NOT_FOUND, 'No refund due with this id.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Use a refund_id from `crochet refunds list` (refunds already marked are listed with --all).' },
    }),
  refundNotYetPayable: (payableAfter: string) =>
    new AppError(409, PaymentCodes.REFUND_NOT_YET_PAYABLE, `This extra payment may still pay for another open intent of its buyer until ${payableAfter}; pay it back after that.`, {
      details: { payable_after: payableAfter },
      recovery: { retryable: true, next_action: 'retry_later', summary: 'Wait until payable_after (shown by `crochet refunds list`), then refund and mark it.' },
    }),
  refundTxRefUsed: () =>
    new AppError(409, PaymentCodes.REFUND_TX_REF_USED, 'That transaction reference already records a refund to another buyer.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'One transfer can settle several refunds of one buyer, never refunds of two buyers: check the reference.' },
    }),
  responseNotFound: () =>
    new AppError(404, 'NOT_FOUND', 'No stored reply for this gateway request.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Replies are kept for paid calls only, for a limited time, for their buyer.' },
    }),
};
