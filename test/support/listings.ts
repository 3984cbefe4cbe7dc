import { solvePow } from '../../src/shared/pow.ts';
import type { CallOptions, CallResult } from './app.ts';

type Caller = (method: string, path: string, opts?: CallOptions) => Promise<CallResult>;

/** Creates a listing through the API (listing PoW included); returns the owner's creation response data. */
export async function createListing(call: Caller, key: string, fields: Record<string, unknown> = {}) {
  const challenge = await call('POST', '/api/v1/listings/challenge', { key });
  if (challenge.status !== 200) throw new Error(`listing challenge failed: ${challenge.status} ${challenge.text}`);
  const pow = challenge.json.data.pow;
  const res = await call('POST', '/api/v1/listings', {
    key,
    body: {
      name: 'Weather oracle',
      description: 'Forecasts for any city.',
      category: 'data',
      tags: ['weather'],
      pricing_model: 'free',
      pricing_amount: 0,
      status: 'active',
      ...fields,
      pow_nonce: solvePow(pow.challenge, pow.difficulty),
    },
  });
  if (res.status !== 201) throw new Error(`create listing failed: ${res.status} ${res.text}`);
  return res.json.data as { id: string; slug: string; gateway_url: string; gateway_endpoint: { signing_secret: string } } & Record<string, any>;
}
