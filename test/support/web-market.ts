import { expect } from 'bun:test';
import { createTestApp, registerAgent, startOfUtcDay, type TestContext } from './app.ts';
import { createListing, postListing } from './listings.ts';
import { startSellerStub } from './seller-stub.ts';
import { evmWallet, solanaWallet } from './wallets.ts';

/** A small marketplace for the page tests (in-process app, seeded through its HTTP API). */
export const CRON_SECRET = 'cron-secret-for-web-tests-0123456789';
/** One network the pages know by name, one they must show by its CAIP-2 id. */
export const ROUTES = [
  { network: 'eip155:84532', rpc_url: 'http://127.0.0.1:9/', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', treasury: '0x1111111111111111111111111111111111111111' },
  { network: 'eip155:990099', rpc_url: 'http://127.0.0.1:9/', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', treasury: '0x1111111111111111111111111111111111111111' },
];

type Agent = Awaited<ReturnType<typeof registerAgent>>;
type Listing = Awaited<ReturnType<typeof createListing>>;

export type WebMarket = {
  t: TestContext;
  stub: ReturnType<typeof startSellerStub>;
  aurora: Agent;
  basalt: Agent;
  buyers: Agent[];
  /** weather (free, data, reviewed), quotes (paid 1.5, finance), translator (paid 0.25, ai, Basalt), draft. */
  listings: { weather: Listing; quotes: Listing; translator: Listing; draft: { id: string; slug: string } };
  /** GET as a browser (Accept: text/html). */
  page(path: string): Promise<{ status: number; headers: Headers; text: string }>;
  close(): Promise<void>;
};

export async function startWebMarket(env: Record<string, string> = {}): Promise<WebMarket> {
  const t = await createTestApp(
    {
      CROCHET_CRON_SECRET: CRON_SECRET,
      CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
      CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0',
      CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0',
      CROCHET_PAYMENT_ROUTES: JSON.stringify(ROUTES),
      ...env,
    },
    { clockStart: startOfUtcDay() },
  );
  t.listen();
  const stub = startSellerStub({ now: () => t.clock.now(), routes: { '/private-weather': () => Response.json({ ok: true }) } });
  const aurora = await registerAgent(t.call, evmWallet(), 'Aurora Labs');
  const basalt = await registerAgent(t.call, evmWallet(), 'Basalt Works');
  const weather = await createListing(t.call, aurora.key, {
    name: 'Weather now',
    description: 'Current weather for any city.',
    category: 'data',
    tags: ['weather', 'forecast'],
    connection_instructions: 'Send {"city": "Oslo"}.',
    private_endpoint_url: stub.url('/private-weather'),
  });
  t.clock.advance(1000);
  const quotes = await createListing(t.call, aurora.key, {
    name: 'Stock quotes',
    description: 'Quotes for listed companies.',
    category: 'finance',
    tags: ['stocks'],
    pricing_model: 'per_call',
    pricing_amount: '1.5',
    private_endpoint_url: stub.url('/private-quotes'),
  });
  t.clock.advance(1000);
  const translator = await createListing(t.call, basalt.key, {
    name: 'Translator',
    description: 'Translates text between languages.',
    category: 'ai',
    tags: ['language'],
    pricing_model: 'per_call',
    pricing_amount: '0.25',
    private_endpoint_url: stub.url('/private-translator'),
  });
  t.clock.advance(1000);
  const draftRes = await postListing(t.call, aurora.key, { name: 'Hidden draft', description: 'Not public yet.' });
  expect(draftRes.status).toBe(201);
  stub.setSecrets([weather.gateway_endpoint.signing_secret]);

  // Two buyers call the free listing and review it; then scores and usage are recomputed.
  const buyers = [await registerAgent(t.call, solanaWallet(), 'Buyer Ada'), await registerAgent(t.call, solanaWallet(), 'Buyer Bo')];
  for (const [i, b] of buyers.entries()) {
    const call = await t.call('POST', `/api/v1/gateway/${weather.id}`, { rawBody: '{"city":"Oslo"}', key: b.key, headers: { 'content-type': 'application/json' } });
    expect(call.status).toBe(200);
    const review = await t.call('POST', `/api/v1/reviews/${weather.id}`, {
      key: b.key,
      body: { accuracy_rating: 5, reliability_rating: 4 + i, value_rating: 4, title: `Useful forecasts ${i + 1}`, comment: `Comment from buyer ${i + 1}.` },
    });
    expect(review.status).toBe(201);
    t.clock.advance(1000);
  }
  // Three weeks of tenure (inside the 30-day latency window), so every profile's score has a non-zero part (these buyers are each captive
  // to one seller, so their calls and reviews add nothing: see docs/crochet-score.md).
  t.clock.advance(21 * 86_400_000);
  const recompute = await t.call('POST', '/api/v1/internal/recompute-scores', { headers: { authorization: `Bearer ${CRON_SECRET}` } });
  expect(recompute.status).toBe(200);

  return {
    t,
    stub,
    aurora,
    basalt,
    buyers,
    listings: { weather, quotes, translator, draft: { id: draftRes.json.data.id, slug: draftRes.json.data.slug } },
    page: (path) => t.call('GET', path, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } }),
    async close() {
      stub.stop();
      await t.close();
    },
  };
}

/** Text of the HTML with tags removed and entities of plain text decoded, spaces collapsed. */
export function visibleText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Names of the listing cards, in page order. */
export const cardNames = (html: string) =>
  [...html.matchAll(/<li class="card" data-testid="listing-card">\s*<div class="card-head"><h[23]><a href="[^"]+">([^<]*)<\/a>/g)].map((m) => m[1]);
