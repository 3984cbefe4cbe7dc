import { solvePow } from '../../src/shared/pow.ts';
import type { CallOptions, CallResult } from './app.ts';

type Caller = (method: string, path: string, opts?: CallOptions) => Promise<CallResult>;

/** Valid fields for a free draft listing; override any. */
export const LISTING_FIELDS = {
  name: 'Weather oracle',
  description: 'Forecasts for any city.',
  category: 'data',
  tags: ['weather'],
  pricing_model: 'free',
  pricing_amount: 0,
  status: 'draft',
} as const;

/** A solved listing challenge for `key` (the nonce, and the puzzle it solves). */
export async function solvedListingPow(call: Caller, key: string) {
  const res = await call('POST', '/api/v1/listings/challenge', { key });
  if (res.status !== 200) throw new Error(`listing challenge failed: ${res.status} ${res.text}`);
  const pow = res.json.data.pow as { challenge: string; difficulty: number; expires_at: string };
  return { pow, nonce: solvePow(pow.challenge, pow.difficulty) };
}

/** POST /listings with a fresh solved challenge; returns the raw result (any status). */
export async function postListing(call: Caller, key: string, fields: Record<string, unknown> = {}): Promise<CallResult> {
  const { nonce } = await solvedListingPow(call, key);
  return call('POST', '/api/v1/listings', { key, body: { ...LISTING_FIELDS, ...fields, pow_nonce: nonce } });
}

/** Creates an active listing through the API (listing PoW included); returns the owner's creation response data. */
export async function createListing(call: Caller, key: string, fields: Record<string, unknown> = {}) {
  const res = await postListing(call, key, { status: 'active', ...fields });
  if (res.status !== 201) throw new Error(`create listing failed: ${res.status} ${res.text}`);
  return res.json.data as { id: string; slug: string; gateway_url: string; gateway_endpoint: { signing_secret: string } } & Record<string, any>;
}
