/**
 * Listing search under load: 100,000 listings seeded in one transaction into a temporary
 * database, then representative searches through `app.handle`, each timed ~200 times.
 * Prints p50/p95 per query and its ratio to a trivial route measured in the same run.
 *
 *   bun test/bench/listings-search.ts [--listings 100000] [--iterations 200]
 */
import { parseArgs } from '../../src/cli/args.ts';
import { immediate } from '../../src/db/tx.ts';
import { newId } from '../../src/shared/ids.ts';
import { createTestApp, registerAgent } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

const WORDS = (
  'weather forecast translate translation language summary document image audio video search index data ' +
  'market stock price crypto wallet ledger invoice email calendar schedule route map geocode address ' +
  'sentiment classify extract entity vision speech text code review lint test deploy monitor alert ' +
  'agent planner memory vector embedding retrieval research paper citation patent legal contract ' +
  'news feed social trend score rank recommend product catalog inventory shipping tax currency rate'
).split(' ');
const CATEGORIES = ['ai', 'data', 'research', 'code', 'finance', 'media', 'ops', 'other'];

/** Small deterministic PRNG so every run seeds the same marketplace. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type QueryTiming = { name: string; path: string; p50Ms: number; p95Ms: number; total: number };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/** Seeds, measures, prints (unless `print: false`) and returns the timings. */
export async function runListingsSearchBench(opts: { listings?: number; iterations?: number; print?: boolean } = {}): Promise<QueryTiming[]> {
  const count = opts.listings ?? 100_000;
  const iterations = opts.iterations ?? 200;
  const t = await createTestApp({ CROCHET_LOG_LEVEL: 'error' });
  try {
    const owners: string[] = [];
    for (let i = 0; i < 20; i++) owners.push((await registerAgent(t.call, evmWallet(), `Provider ${i}`)).profile.id);
    const { sqlite } = t.deps.db;
    const categoryIds = new Map(sqlite.query<{ slug: string; id: string }, []>('SELECT slug, id FROM categories').all().map((c) => [c.slug, c.id]));
    const rand = prng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
    const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');

    const seedStarted = performance.now();
    const insert = sqlite.prepare(
      `INSERT INTO listings (id, slug, owner_profile_id, name, description, category_id, tags, formats, pricing_model, price_micro_usd,
        status, calls_total, calls_succeeded, rating_average, rating_count, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, '["json"]', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    immediate(sqlite, () => {
      for (let i = 0; i < count; i++) {
        const free = rand() < 0.3;
        const calls = Math.floor(rand() * 10_000);
        const created = new Date(base + i * 60_000).toISOString();
        insert.run(
          newId(),
          `listing-${i}`,
          pick(owners),
          `${words(3)} api`,
          `${words(25)}.`,
          categoryIds.get(pick(CATEGORIES)) ?? '',
          JSON.stringify([pick(WORDS), pick(WORDS), pick(WORDS)]),
          free ? 'free' : 'per_call',
          free ? 0 : 1_000 + Math.floor(rand() * 5_000_000),
          rand() < 0.9 ? 'active' : 'paused',
          calls,
          Math.floor(calls * rand()),
          Math.round(rand() * 50) / 10,
          Math.floor(rand() * 200),
          created,
          created,
        );
      }
    });
    // No ANALYZE: the app never runs it, so the plans measured are the ones a real instance gets.
    const seedMs = performance.now() - seedStarted;

    const queries: [string, string][] = [
      ['baseline: GET /categories', '/api/v1/categories'],
      ['q=weather', '/api/v1/listings?q=weather'],
      ['category=data&sort=price_low', '/api/v1/listings?category=data&sort=price_low'],
      ['q=translate&pricing_model=per_call&sort=rating', '/api/v1/listings?q=translate&pricing_model=per_call&sort=rating'],
      ['sort=popular&page=50', '/api/v1/listings?sort=popular&page=50'],
      ['sort=rating', '/api/v1/listings?sort=rating'],
      ['pricing_model=free&sort=price_high', '/api/v1/listings?pricing_model=free&sort=price_high'],
      ['verified=false', '/api/v1/listings?verified=false'],
    ];
    const results: QueryTiming[] = [];
    for (const [name, path] of queries) {
      let total = 0;
      for (let i = 0; i < 20; i++) await t.app.handle(new Request(`http://localhost${path}`));
      const samples: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const started = performance.now();
        const res = await t.app.handle(new Request(`http://localhost${path}`));
        const body = (await res.json()) as { pagination?: { total: number } };
        samples.push(performance.now() - started);
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
        total = body.pagination?.total ?? 0;
      }
      samples.sort((a, b) => a - b);
      results.push({ name, path, p50Ms: percentile(samples, 0.5), p95Ms: percentile(samples, 0.95), total });
    }

    if (opts.print !== false) {
      const baseline = results[0]?.p50Ms ?? 1;
      console.log(`listings search: ${count} listings seeded in ${(seedMs / 1000).toFixed(1)} s; ${iterations} runs per query`);
      console.log(`${'query'.padEnd(50)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'× base'.padStart(7)} ${'matches'.padStart(8)}`);
      for (const r of results) {
        console.log(`${r.name.padEnd(50)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p95Ms.toFixed(2).padStart(8)} ${(r.p50Ms / baseline).toFixed(1).padStart(7)} ${String(r.total).padStart(8)}`);
      }
    }
    return results;
  } finally {
    await t.close();
  }
}

if (import.meta.main) {
  const { flags } = parseArgs(Bun.argv.slice(2));
  await runListingsSearchBench({
    listings: flags['listings'] ? Number(flags['listings']) : undefined,
    iterations: flags['iterations'] ? Number(flags['iterations']) : undefined,
  });
}
