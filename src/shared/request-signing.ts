/**
 * Gateway side of SPEC §4 step 4 and "Signature v2": the headers that let a seller prove a forwarded call came from
 * this Crochet instance, unchanged. The seller side is `src/seller/verify.ts`; both are checked
 * against the committed vectors in `test/fixtures/signing-vectors.json`.
 *
 * Bun's native hashers rather than WebCrypto or node:crypto: this runs on every gateway call,
 * they are synchronous (no promise hop) and two to three times faster than node:crypto's.
 */

/** Canonical header names, as sent to the seller. */
export const CROCHET_HEADER = {
  requestId: 'X-Crochet-Request-Id',
  listingId: 'X-Crochet-Listing-Id',
  buyerId: 'X-Crochet-Buyer-Id',
  timestamp: 'X-Crochet-Timestamp',
  bodySha256: 'X-Crochet-Body-SHA256',
  signature: 'X-Crochet-Signature',
  signaturePrevious: 'X-Crochet-Signature-Previous',
  signatureV2: 'X-Crochet-Signature-V2',
  signaturePreviousV2: 'X-Crochet-Signature-Previous-V2',
  relayRequestId: 'X-Crochet-Relay-Request-Id',
} as const;

/** Lowercase hex SHA-256 of the exact bytes given. */
export function sha256Hex(bytes: Uint8Array): string {
  return Bun.SHA256.hash(bytes, 'hex');
}

/** The signed string: `timestamp.request_id.listing_id.body_sha256` (SPEC §4). */
export function signingPayload(p: {
  timestamp: string;
  requestId: string;
  listingId: string;
  bodySha256: string;
}): string {
  return `${p.timestamp}.${p.requestId}.${p.listingId}.${p.bodySha256}`;
}

/**
 * The signed string of signature v2 (SPEC §4): `JSON.stringify` of
 * `["crochet-v2", timestamp, request_id, listing_id, buyer_id, relay_request_id or null, body_sha256]`.
 * Unlike v1's dot-joined string it covers the buyer and relay ids, and a JSON array cannot be
 * re-split (every field is quoted and escaped; a free call's null differs from the string "null").
 */
export function signingPayloadV2(p: {
  timestamp: string;
  requestId: string;
  listingId: string;
  buyerId: string;
  relayRequestId: string | null;
  bodySha256: string;
}): string {
  return JSON.stringify(['crochet-v2', p.timestamp, p.requestId, p.listingId, p.buyerId, p.relayRequestId, p.bodySha256]);
}

/** Lowercase hex HMAC-SHA256; both the secret and the payload are taken as UTF-8. */
export function hmacSha256Hex(secret: string, payload: string): string {
  return new Bun.CryptoHasher('sha256', secret).update(payload, 'utf8').digest('hex');
}

export type CrochetHeaderInput = {
  /** The exact bytes that will be forwarded: hashing anything else breaks every seller's check. */
  body: Uint8Array;
  /** SHA-256 hex of `body`, when the caller has computed it already (saves hashing twice). */
  bodySha256?: string;
  requestId: string;
  listingId: string;
  buyerId: string;
  /** ISO-8601 UTC with milliseconds, e.g. `new Date().toISOString()`. */
  timestamp: string;
  secret: string;
  /** Set only while a rotated-out secret is in its grace period (SPEC §3 rotate-secret). */
  previousSecret?: string;
  /** Paid calls only. */
  relayRequestId?: string;
};

/**
 * The Crochet headers for one forwarded call: v1 and v2 signatures (and both previous-secret ones
 * during a grace period). The upstream auth header, if configured, is added
 * by the gateway itself: it is not part of the signature.
 *
 * @example
 * const headers = buildCrochetHeaders({ body, requestId: 'gw_req_…', listingId, buyerId,
 *   timestamp: clock.now().toISOString(), secret });
 */
export function buildCrochetHeaders(p: CrochetHeaderInput): Record<string, string> {
  // An empty key still yields a valid-looking HMAC; refuse it so a vault bug cannot ship
  // signatures anyone can forge.
  if (p.secret.length === 0 || p.previousSecret === '') {
    throw new Error('request signing: signing secret must not be empty');
  }
  const bodySha256 = p.bodySha256 ?? sha256Hex(p.body);
  const payload = signingPayload({
    timestamp: p.timestamp,
    requestId: p.requestId,
    listingId: p.listingId,
    bodySha256,
  });
  const payloadV2 = signingPayloadV2({
    timestamp: p.timestamp,
    requestId: p.requestId,
    listingId: p.listingId,
    buyerId: p.buyerId,
    relayRequestId: p.relayRequestId ?? null,
    bodySha256,
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    [CROCHET_HEADER.requestId]: p.requestId,
    [CROCHET_HEADER.listingId]: p.listingId,
    [CROCHET_HEADER.buyerId]: p.buyerId,
    [CROCHET_HEADER.timestamp]: p.timestamp,
    [CROCHET_HEADER.bodySha256]: bodySha256,
    [CROCHET_HEADER.signature]: hmacSha256Hex(p.secret, payload),
    [CROCHET_HEADER.signatureV2]: hmacSha256Hex(p.secret, payloadV2),
  };
  if (p.previousSecret !== undefined) {
    headers[CROCHET_HEADER.signaturePrevious] = hmacSha256Hex(p.previousSecret, payload);
    headers[CROCHET_HEADER.signaturePreviousV2] = hmacSha256Hex(p.previousSecret, payloadV2);
  }
  if (p.relayRequestId !== undefined) {
    headers[CROCHET_HEADER.relayRequestId] = p.relayRequestId;
  }
  return headers;
}
