// Binds an x402 offer to its payment intent: `extra.crochet` carries the relay request id and an
// HMAC over listing, amount, network, expiry and relay id, with a key derived from the instance's
// master key. A payload whose `accepted.extra` does not carry a valid binding is not one of our
// offers; the requirements are rebuilt from the intent anyway (never trusted from the client).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The HMAC key's purpose name (vault.deriveKey). */
export const OFFER_KEY_PURPOSE = 'x402-offer-v1';

/** What `extra.crochet` holds in every offer. */
export type OfferBinding = {
  relay_request_id: string;
  /** ISO-8601 expiry of the intent. */
  expires_at: string;
  /** Lowercase hex HMAC-SHA256 over the JSON array ["crochet-x402-v1", listing, amount, network, expires_at, relay id]. */
  mac: string;
};

export type BindingFields = { listingId: string; amountAtomic: string; network: string; expiresAt: string; relayRequestId: string };

function macOf(key: Uint8Array, f: BindingFields): string {
  const message = JSON.stringify(['crochet-x402-v1', f.listingId, f.amountAtomic, f.network, f.expiresAt, f.relayRequestId]);
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

/** The binding of one offer. */
export function bindOffer(key: Uint8Array, f: BindingFields): OfferBinding {
  return { relay_request_id: f.relayRequestId, expires_at: f.expiresAt, mac: macOf(key, f) };
}

/** Reads `extra.crochet` of a payload's `accepted` (null: absent or malformed). */
export function readBinding(extra: Record<string, unknown> | undefined): OfferBinding | null {
  const b = extra?.['crochet'];
  if (typeof b !== 'object' || b === null) return null;
  const { relay_request_id, expires_at, mac } = b as Record<string, unknown>;
  if (typeof relay_request_id !== 'string' || !/^rly_[A-Za-z0-9_-]{1,80}$/.test(relay_request_id)) return null;
  if (typeof expires_at !== 'string' || expires_at.length > 40) return null;
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return null;
  return { relay_request_id, expires_at, mac };
}

/** Constant-time check of a binding against the fields rebuilt from the intent. */
export function bindingMatches(key: Uint8Array, binding: OfferBinding, f: BindingFields): boolean {
  if (binding.relay_request_id !== f.relayRequestId || binding.expires_at !== f.expiresAt) return false;
  const want = Buffer.from(macOf(key, f), 'hex');
  const got = Buffer.from(binding.mac, 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}
