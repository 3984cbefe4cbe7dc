// The x402 v2 HTTP transport headers (coinbase/x402 specs/transports-v2/http.md): standard base64
// of UTF-8 JSON. Decoding is strict and bounded: the header comes from anyone.
import { z } from 'zod';
import type { PaymentPayload, PaymentRequired, SettleResponse } from './scheme.ts';

export const X402_VERSION = 2;
export const HEADER_PAYMENT_REQUIRED = 'PAYMENT-REQUIRED';
export const HEADER_PAYMENT_SIGNATURE = 'PAYMENT-SIGNATURE';
export const HEADER_PAYMENT_RESPONSE = 'PAYMENT-RESPONSE';

/** A PAYMENT-SIGNATURE larger than this is refused before decoding (an EIP-6492 signature is a few KB). */
export const MAX_PAYMENT_SIGNATURE_CHARS = 32_768;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const requirementsSchema = z.object({
  scheme: z.string().min(1).max(64),
  network: z.string().min(1).max(128),
  amount: z.string().regex(/^\d{1,78}$/),
  asset: z.string().min(1).max(128),
  payTo: z.string().min(1).max(128),
  maxTimeoutSeconds: z.number().int().nonnegative(),
  extra: z.record(z.string(), z.unknown()).default({}),
});

const payloadSchema = z.object({
  x402Version: z.literal(X402_VERSION),
  resource: z.object({ url: z.string() }).loose().optional(),
  accepted: requirementsSchema,
  payload: z.record(z.string(), z.unknown()),
  extensions: z.record(z.string(), z.unknown()).optional(),
});

/** Standard base64 of the UTF-8 JSON of `value`. */
export function encodeHeader(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

export const encodePaymentRequired = (value: PaymentRequired): string => encodeHeader(value);
export const encodePaymentResponse = (value: SettleResponse): string => encodeHeader(value);

export type DecodeResult = { ok: true; payload: PaymentPayload } | { ok: false; message: string };

/** Decodes a PAYMENT-SIGNATURE header into an x402 v2 PaymentPayload, or says why it cannot. */
export function decodePaymentSignature(header: string): DecodeResult {
  const text = header.trim();
  if (text.length === 0 || text.length > MAX_PAYMENT_SIGNATURE_CHARS) return { ok: false, message: 'PAYMENT-SIGNATURE is empty or too large.' };
  if (!BASE64.test(text)) return { ok: false, message: 'PAYMENT-SIGNATURE must be standard base64.' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    return { ok: false, message: 'PAYMENT-SIGNATURE does not decode to JSON.' };
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, message: `PAYMENT-SIGNATURE is not an x402 v2 payment payload (${first ? `${first.path.join('.') || 'root'}: ${first.message}` : 'invalid'}).` };
  }
  return { ok: true, payload: parsed.data as PaymentPayload };
}

/** Decodes any of the three headers without validation (tests and clients' view). */
export function decodeHeader<T>(header: string): T {
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as T;
}
