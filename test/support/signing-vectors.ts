/** Typed access to the committed request-signing vectors (test/fixtures/signing-vectors.json). */
import vectorsFile from '../fixtures/signing-vectors.json';

export type SigningVector = {
  name: string;
  secret: string;
  previous_secret?: string;
  timestamp: string;
  request_id: string;
  listing_id: string;
  buyer_id: string;
  relay_request_id?: string;
  /** UTF-8 text of the exact body bytes. */
  body: string;
  body_sha256: string;
  signature: string;
  signature_previous?: string;
  /** The exact v2 signed string (SPEC §4 "Signature v2"), as Python's json.dumps wrote it. */
  payload_v2: string;
  signature_v2: string;
  signature_previous_v2?: string;
};

export const signingVectors: readonly SigningVector[] = vectorsFile.vectors;

/**
 * The headers a seller receives for a vector, written out from the fixture by hand (not through
 * the signer), so the verifier is checked against the independent values. `v1Only` leaves out the
 * v2 headers, as an older gateway would.
 */
export function fixtureHeaders(v: SigningVector, opts: { v1Only?: boolean } = {}): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Crochet-Request-Id': v.request_id,
    'X-Crochet-Listing-Id': v.listing_id,
    'X-Crochet-Buyer-Id': v.buyer_id,
    'X-Crochet-Timestamp': v.timestamp,
    'X-Crochet-Body-SHA256': v.body_sha256,
    'X-Crochet-Signature': v.signature,
  };
  if (v.signature_previous !== undefined) headers['X-Crochet-Signature-Previous'] = v.signature_previous;
  if (v.relay_request_id !== undefined) headers['X-Crochet-Relay-Request-Id'] = v.relay_request_id;
  if (opts.v1Only) return headers;
  headers['X-Crochet-Signature-V2'] = v.signature_v2;
  if (v.signature_previous_v2 !== undefined) headers['X-Crochet-Signature-Previous-V2'] = v.signature_previous_v2;
  return headers;
}
