import { httpCaller, registerAgent, type CallResult } from './app.ts';
import { startServerProcess, type ServerProcess } from './browser-server.ts';
import { createListing } from './listings.ts';
import { evmWallet, solanaWallet } from './wallets.ts';

/**
 * A marketplace seeded through its HTTP API only, for the browser tests: three sellers, eight
 * buyers, 24 active listings over six categories (free and paid, distinct paid prices), a paused
 * and a draft listing that must never show, completed and failed calls, reviews on free listings
 * (paid ones would need a chain), and scores recomputed through the cron route. Expected orders
 * are computed by the tests from SEED_LISTINGS, never read back from the API.
 */

type Stars = [accuracy: number, reliability: number, value: number];
export type SeedReview = { buyer: number; stars: Stars; title: string; comment: string };
export type SeedListingSpec = {
  seller: number;
  name: string;
  category: string;
  price: string; // decimal USD, '0' for free
  tags: string[];
  description: string;
  okCalls?: number[]; // buyer index per completed call
  failedCalls?: number[]; // buyer index per call the seller answered with a 500
  reviews?: SeedReview[];
  status?: 'paused' | 'draft';
};

export const SELLER_NAMES = ['Aurora Labs', 'Basalt Works', 'Cobalt Studio'] as const;
export const BUYER_NAMES = ['Ada Agent', 'Bo Agent', 'Cy Agent', 'Di Agent', 'Ed Agent', 'Flo Agent', 'Gus Agent', 'Hal Agent'] as const;

const r = (buyer: number, stars: Stars, title: string, comment: string): SeedReview => ({ buyer, stars, title, comment });

/** In creation order: the index is the creation rank (newest sort is the reverse). */
export const SEED_LISTINGS: SeedListingSpec[] = [
  {
    seller: 0, name: 'Weather forecast API', category: 'data', price: '0', tags: ['weather', 'forecast'],
    description: 'Hourly forecasts for any city, from station data.',
    okCalls: [0, 1, 2, 3, 4, 5, 6, 6, 6, 6],
    reviews: [0, 1, 2, 3, 4, 5].map((b) => r(b, [5, 5, 4], `Reliable forecasts ${b + 1}`, 'Answered every city we asked for.')),
  },
  { seller: 0, name: 'Air quality index', category: 'data', price: '0.25', tags: ['air', 'pollution'], description: 'Live air quality readings by postcode.' },
  {
    seller: 0, name: 'Sentiment scorer', category: 'ai', price: '0', tags: ['nlp', 'sentiment'], description: 'Scores the sentiment of short texts.',
    okCalls: [0, 7], reviews: [r(0, [5, 5, 5], 'Perfect once', 'One call, flawless.')],
  },
  { seller: 0, name: 'Document summarizer', category: 'ai', price: '1.50', tags: ['nlp', 'summary'], description: 'Summarizes long documents into short briefs.' },
  { seller: 1, name: 'Invoice parser', category: 'finance', price: '0.05', tags: ['invoices', 'pdf'], description: 'Extracts totals and lines from invoices.' },
  { seller: 1, name: 'FX rates', category: 'finance', price: '2', tags: ['currency', 'forex'], description: 'Foreign exchange rates, refreshed every minute.' },
  {
    seller: 1, name: 'Stock ticker lookup', category: 'finance', price: '0', tags: ['stocks'], description: 'Company name to ticker symbol.',
    okCalls: [0, 1, 2, 3, 3, 3], reviews: [0, 1, 2].map((b) => r(b, [4, 4, 4], `Solid lookups ${b + 1}`, 'Mostly right.')),
  },
  {
    seller: 2, name: 'Code linter', category: 'code', price: '0', tags: ['lint', 'javascript'], description: 'Lints JavaScript snippets.',
    okCalls: [0, 1], failedCalls: [2, 2],
    reviews: [r(0, [3, 3, 3], 'Flaky at times', 'Worked, then failed.'), r(1, [2, 2, 2], 'Often down', 'Two of my calls failed.')],
  },
  { seller: 2, name: 'Dependency auditor', category: 'code', price: '0.75', tags: ['security', 'npm'], description: 'Lists known advisories for a lockfile.' },
  { seller: 2, name: 'Image thumbnailer', category: 'media', price: '0.10', tags: ['images'], description: 'Makes small previews of large pictures.' },
  { seller: 0, name: 'Geocoder', category: 'data', price: '0.02', tags: ['maps', 'geocoding'], description: 'Addresses to coordinates.' },
  { seller: 0, name: 'Paper finder', category: 'research', price: '0', tags: ['papers', 'search'], description: 'Finds academic papers by topic.', okCalls: [4] },
  { seller: 1, name: 'Tax calculator', category: 'finance', price: '0.50', tags: ['tax'], description: 'Sales tax for a basket and an address.' },
  { seller: 2, name: 'Podcast transcriber', category: 'media', price: '0', tags: ['audio', 'transcripts'], description: 'Turns episodes into text.' },
  { seller: 2, name: 'Uptime checker', category: 'ops', price: '0.30', tags: ['monitoring'], description: 'Checks that a URL answers.' },
  { seller: 0, name: 'Holiday calendar', category: 'data', price: '0.01', tags: ['dates'], description: 'Public holidays by country and year.' },
  { seller: 1, name: 'Credit scorer', category: 'finance', price: '5', tags: ['credit'], description: 'Risk grade for a company.' },
  { seller: 2, name: 'Regex explainer', category: 'code', price: '0', tags: ['regex'], description: 'Explains a regular expression in plain words.' },
  { seller: 0, name: 'Translation service', category: 'ai', price: '0.90', tags: ['translate', 'languages'], description: 'Translates text between forty languages.' },
  { seller: 1, name: 'Weather history archive', category: 'data', price: '0', tags: ['weather', 'climate'], description: 'Daily observations since 1950.' },
  { seller: 2, name: 'Quotes & <b>bold</b> "markup"', category: 'other', price: '0.15', tags: ['quotes'], description: 'A name with <i>HTML</i> & quotes, shown as text.' },
  { seller: 0, name: 'Patent search', category: 'research', price: '3.25', tags: ['patents'], description: 'Searches granted patents by claim text.' },
  { seller: 1, name: 'Cron as a service', category: 'ops', price: '0', tags: ['scheduling'], description: 'Calls your URL on a schedule.' },
  { seller: 2, name: 'Agent planner', category: 'ai', price: '12', tags: ['planning', 'weather'], description: 'Plans multi-step tasks for agents.' },
  { seller: 0, name: 'Retired oracle', category: 'data', price: '0', tags: ['retired'], description: 'Paused: must never be listed.', status: 'paused' },
  { seller: 1, name: 'Unfinished draft', category: 'data', price: '0', tags: ['draft'], description: 'A draft: must never be listed.', status: 'draft' },
];

/** Payment routes this instance accepts (RPCs are never contacted: no paid call is made). */
export const SEED_NETWORKS = ['eip155:84532', 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1'] as const;
const PAYMENT_ROUTES = [
  { network: SEED_NETWORKS[0], rpc_url: 'http://127.0.0.1:9/', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6, confirmations: 1, treasury: '0x1111111111111111111111111111111111111111' },
  { network: SEED_NETWORKS[1], rpc_url: 'http://127.0.0.1:9/', asset: '4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU', decimals: 6, commitment: 'confirmed', treasury: '11111111111111111111111111111112' },
];

export type SeededListing = SeedListingSpec & { index: number; id: string; slug: string; gatewayUrl: string; privateUrl: string; sellerId: string };
export type SeededMarket = {
  server: ServerProcess;
  baseUrl: string;
  listings: SeededListing[];
  /** Active listings only, in creation order. */
  active: SeededListing[];
  sellers: { id: string; name: string; score: number; tier: string; verified: boolean; components: Record<string, number> }[];
  buyers: { id: string; name: string }[];
  categories: { slug: string; name: string }[];
  /** When seeding began (reviews and profiles are dated from then on). */
  seededAt: Date;
  stop(): Promise<void>;
};

/** Every stub reply waits this long, so the median latency is measurable (loopback alone rounds to 0 ms). */
export const STUB_DELAY_MS = 25;

/** A loopback seller: 200 JSON for any path, 500 when the body asks to fail. */
function startStub() {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const body = await req.text();
      await Bun.sleep(STUB_DELAY_MS);
      return body.includes('"fail":true') ? Response.json({ error: 'down' }, { status: 500 }) : Response.json({ ok: true });
    },
  });
  return { url: (path: string) => `http://127.0.0.1:${server.port}${path}`, stop: () => server.stop(true) };
}

function must(res: CallResult, status: number, what: string): CallResult {
  if (res.status !== status) throw new Error(`seed: ${what} → ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

/** Starts a server process and seeds it through the API. */
export async function startSeededMarket(): Promise<SeededMarket> {
  const seededAt = new Date();
  const server = await startServerProcess({ CROCHET_PAYMENT_ROUTES: JSON.stringify(PAYMENT_ROUTES) });
  const stub = startStub();
  try {
    const call = httpCaller(server.baseUrl);
    const sellers = [];
    for (const name of SELLER_NAMES) sellers.push(await registerAgent(call, evmWallet(), name));
    const buyers = [];
    for (const name of BUYER_NAMES) buyers.push(await registerAgent(call, solanaWallet(), name));

    const listings: SeededListing[] = [];
    for (const [index, spec] of SEED_LISTINGS.entries()) {
      const seller = sellers[spec.seller]!;
      const privateUrl = stub.url(`/private/seller-${spec.seller}/listing-${index}/do-not-show`);
      const created = await createListing(call, seller.key, {
        name: spec.name, description: spec.description, category: spec.category, tags: spec.tags,
        pricing_model: spec.price === '0' ? 'free' : 'per_call', pricing_amount: spec.price,
        status: spec.status === 'draft' ? 'draft' : 'active',
        ...(spec.status === 'draft' ? {} : { private_endpoint_url: privateUrl }),
      });
      if (spec.status === 'paused') must(await call('PATCH', `/api/v1/listings/${created.id}`, { key: seller.key, body: { status: 'paused' } }), 200, 'pause');
      listings.push({ ...spec, index, id: created.id, slug: created.slug, gatewayUrl: created.gateway_url, privateUrl, sellerId: seller.profile.id });
    }

    const gateway = (listingId: string, key: string, fail: boolean) =>
      call('POST', `/api/v1/gateway/${listingId}`, { key, rawBody: JSON.stringify({ city: 'Lyon', fail }), headers: { 'content-type': 'application/json' } });
    for (const l of listings) {
      for (const b of l.okCalls ?? []) must(await gateway(l.id, buyers[b]!.key, false), 200, `call ${l.name}`);
      for (const b of l.failedCalls ?? []) await gateway(l.id, buyers[b]!.key, true);
      for (const rv of l.reviews ?? []) {
        const [accuracy_rating, reliability_rating, value_rating] = rv.stars;
        const body = { accuracy_rating, reliability_rating, value_rating, title: rv.title, comment: rv.comment };
        must(await call('POST', `/api/v1/reviews/${l.id}`, { key: buyers[rv.buyer]!.key, body }), 201, `review ${l.name}`);
      }
    }
    must(await call('POST', '/api/v1/internal/recompute-scores', { headers: { authorization: `Bearer ${server.cronSecret}` } }), 200, 'recompute scores');

    const scored = [];
    for (const [i, s] of sellers.entries()) {
      const d = must(await call('GET', `/api/v1/agents/${s.profile.id}/score`), 200, 'score').json.data;
      scored.push({ id: s.profile.id as string, name: SELLER_NAMES[i]!, score: d.score as number, tier: d.tier as string, verified: d.verified as boolean, components: d.components as Record<string, number> });
    }
    const categories = (must(await call('GET', '/api/v1/categories'), 200, 'categories').json.data as { slug: string; name: string }[]).map(({ slug, name }) => ({ slug, name }));
    return {
      server,
      baseUrl: server.baseUrl,
      listings,
      active: listings.filter((l) => !l.status),
      sellers: scored,
      buyers: buyers.map((b, i) => ({ id: b.profile.id as string, name: BUYER_NAMES[i]! })),
      categories,
      seededAt,
      async stop() {
        stub.stop();
        await server.stop();
      },
    };
  } catch (error) {
    stub.stop();
    const log = server.log();
    await server.stop();
    throw new Error(`${(error as Error).message}\n--- server log (tail) ---\n${log.slice(-3000)}`);
  }
}
