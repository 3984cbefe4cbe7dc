import { z } from 'zod';
import { errorSchema } from '../../shared/http/envelope.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { errorOf, errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op, requires } from '../../shared/http/openapi/operation.ts';
import { IdentityErrors } from '../identity/errors.ts';
import { PaymentErrors } from '../payments/errors.ts';
import { invalidPaymentTx, PAYMENT_REJECT_CODES, paymentRpcUnavailable } from '../payments/verification-result.ts';
import { GatewayErrors } from './errors.ts';
import { X402_REFUSAL_CODES, X402Errors } from '../x402/errors.ts';

// The gateway route takes no `body` schema: it forwards the exact bytes, so Elysia must not parse
// them. Everything here is documentation only (the `detail` of the route).

const paymentRouteSchema = z
  .object({
    network: z.string().describe('CAIP-2 network, e.g. eip155:8453 or solana:<genesis hash>.'),
    asset: z.string().describe('Token to pay with: ERC-20 contract address or SPL mint.'),
    decimals: z.number().int().describe('Decimals of the asset (6 for USDC).'),
    pay_to: z.string().describe('Wallet to pay (EVM address or Solana owner; pay its associated token account).'),
    amount_atomic: z.string().describe('Exact amount to transfer, in atomic units of the asset.'),
    min_amount: z.string().describe('Smallest price this route accepts, decimal USD.'),
    reference: z.string().optional().describe('Solana only: append as a read-only account to the transfer.'),
  })
  .meta({ id: 'PaymentRoute', description: 'One way to pay for the call.' });

export const paymentSchema = z
  .object({
    relay_request_id: z.string().describe('rly_… id of this payment intent: send it back in X-Crochet-Relay-Request-Id.'),
    listing_id: z.string(),
    amount: z.string().describe('Price of the call, decimal USD.'),
    amount_atomic: z.string().describe('Price in micro-USD.'),
    currency: z.literal('USD'),
    expires_at: z.string().describe('Pay and retry before this time.'),
    body_sha256: z.string().describe('sha256 of the body bytes: the retry must send exactly these bytes.'),
    routes: z.array(paymentRouteSchema).describe('Pay exactly one of these.'),
  })
  .meta({ id: 'Payment', description: 'What a paid call costs and how to pay for it (the 402 `payment` object).' });

export const paymentRequiredSchema = errorSchema
  .extend({ payment: paymentSchema })
  .meta({ id: 'PaymentRequired', description: 'The error envelope of a 402, with the `payment` object to pay.' });

export const paymentPendingSchema = z
  .object({
    success: z.literal(true),
    data: z.object({
      status: z.literal('pending'),
      relay_request_id: z.string(),
      retryable: z.literal(true),
      retry_after_seconds: z.number().int().describe('Wait this long, then retry the same request.'),
    }),
  })
  .meta({ id: 'PaymentPending', description: 'The payment is on chain but not final yet: retry after retry_after_seconds.' });

const sellerReply = z.unknown().describe("The seller's JSON reply, unchanged.");
const requestIdHeader = { 'X-Crochet-Request-Id': { description: 'gw_req_… id of this call: look it up in GET /api/v1/gateway-requests/{id}.', schema: { type: 'string' } } };
const paymentResponseHeader = {
  'PAYMENT-RESPONSE': { description: 'x402 v2 only (a call paid with PAYMENT-SIGNATURE): standard base64 of the JSON SettleResponse { success, transaction, network, payer } — or on a 504 { success: false, errorReason: "settlement_pending", transaction }.', schema: { type: 'string' } },
};
const paymentRequiredHeaders = {
  ...requestIdHeader,
  'PAYMENT-REQUIRED': { description: 'x402 v2: standard base64 of the JSON PaymentRequired { x402Version: 2, resource, accepts[] (scheme "exact", one per route that settles x402, in the routes\' order), error? (the x402 reason of a refused payment), extensions }. Absent when no route settles x402.', schema: { type: 'string' } },
  'Cache-Control': { description: 'no-store when PAYMENT-REQUIRED is present.', schema: { type: 'string' } },
};
const json = (schema: z.ZodType, example?: unknown) => ({ 'application/json': { schema, ...(example === undefined ? {} : { example }) } });
const header = (name: string, description: string, example: string) => ({ name, in: 'header', required: false, description, schema: { type: 'string' }, example });

const paymentExample = {
  success: false,
  error: {
    code: 'PAYMENT_REQUIRED',
    message: 'This call must be paid for on chain first.',
    recovery: { retryable: true, next_action: 'complete_payment_and_retry', summary: 'Pay, then retry the same body with X-Crochet-Relay-Request-Id.', preserve: ['relay_request_id', 'body'] },
  },
  payment: {
    relay_request_id: 'rly_01JT3KA2W9XQ7B5C4D3E2F1G0H',
    listing_id: '0196a0c4-5b7e-7cc1-9d2e-3f4a5b6c7d8e',
    amount: '0.25',
    amount_atomic: '250000',
    currency: 'USD',
    expires_at: '2026-05-03T12:10:00.000Z',
    body_sha256: '5d41402abc4b2a76b9719d911017c592ae0b7a1f3a1e8c7d8f3c2b1a09876543',
    routes: [{ network: 'eip155:8453', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6, pay_to: '0x52908400098527886E0F7030069857D2E4169EE7', amount_atomic: '250000', min_amount: '0.1' }],
  },
};

/** The gateway route's `detail`: body, headers, every reply and the codes it can answer with. */
export const gatewayCallDetail = op('callListing', 'Call a listing: the JSON body is forwarded byte for byte to the seller, whose JSON reply comes back', {
  description:
    "Needs an agent key. Free listings answer with the seller's reply at once. Paid listings answer 402 with a `payment` object first: pay one route on chain, then send the same body byte for byte with X-Crochet-Relay-Request-Id (and X-Crochet-Payment-Tx). 202 means the payment is not final yet. The seller's own 2xx and 4xx replies pass through with their status; its failures become 502/504. An x402 v2 client pays instead with the PAYMENT-REQUIRED header of the 402: it retries with PAYMENT-SIGNATURE and gets PAYMENT-RESPONSE; a settlement not final in time answers 504 PAYMENT_SETTLEMENT_PENDING (present the same PAYMENT-SIGNATURE again to resume it).",
  security: requires('agentKey'),
  errors: [
    ...errorsOf(GatewayErrors, { except: ['requestNotFound'] }),
    ...errorsOf(PaymentErrors, {
      except: ['refundNotFound', 'refundNotYetPayable', 'refundTxRefUsed', 'responseNotFound'],
      codes: { rejected: { status: 402, codes: PAYMENT_REJECT_CODES } },
    }),
    errorOf(invalidPaymentTx),
    ...errorsOf(X402Errors, { codes: { refused: { status: 402, codes: X402_REFUSAL_CODES } } }),
    errorOf(paymentRpcUnavailable),
    ...errorsOf(CommonErrors, { only: ['authRequired', 'apiKeyInvalid', 'apiKeyRevoked', 'rateLimited'] }),
    ...errorsOf(IdentityErrors, { only: ['profileSuspended'] }),
  ],
  examples: { request: { city: 'Lisbon', units: 'metric' }, responses: { 402: paymentExample } },
  parameters: [
    header('X-Crochet-Relay-Request-Id', 'Paid retry: the payment.relay_request_id of the 402 (rly_…).', 'rly_01JT3KA2W9XQ7B5C4D3E2F1G0H'),
    header('X-Crochet-Payment-Tx', 'Paid retry: the transaction that paid (EVM hash, required on EVM; Solana signature, optional).', '0x9f3c…'),
    header('PAYMENT-SIGNATURE', 'x402 v2 paid retry (instead of the relay id headers): standard base64 of the JSON PaymentPayload your x402 client built from PAYMENT-REQUIRED. Crochet verifies and settles it itself; the same payload is never charged or forwarded twice.', 'eyJ4NDAyVmVyc2lvbiI6Mi…'),
    header('X-Crochet-Origin-Currency', 'Which payment routes to offer first: SOL prefers Solana, EVM offers EVM routes only.', 'SOL'),
  ],
  requestBody: {
    required: true,
    description: 'Any JSON; the seller receives exactly these bytes.',
    content: json(z.unknown().describe('Any JSON value the seller accepts.')),
  },
  responses: {
    200: { description: "The seller's reply (any 2xx status the seller chose).", headers: { ...requestIdHeader, ...paymentResponseHeader }, content: json(sellerReply, { temperature_c: 19.5, sky: 'clear' }) },
    202: { description: 'Payment seen but not final: retry the same request after retry_after_seconds.', headers: requestIdHeader, content: json(paymentPendingSchema) },
    402: { description: 'Pay first (or the payment presented does not pay for this call).', headers: paymentRequiredHeaders, content: json(paymentRequiredSchema) },
  },
  // The seller's own 4xx replies pass through with any status and body: said here rather than as a
  // `default` response, which would make a generated client's error type `unknown`.
  extra: { 'x-seller-replies': "The seller's own 2xx and 4xx replies pass through with their status and JSON body (not the Error envelope)." },
});
