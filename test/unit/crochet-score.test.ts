import { describe, expect, test } from 'bun:test';
import { classify, computeScore, recencyWeight, type ScoreInputs } from '../../src/modules/trust/formula.ts';

// The formula of docs/crochet-score.md, on fixed inputs.
const now = new Date('2026-06-01T00:00:00.000Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();

type Call = ScoreInputs['sellerCalls'][number];
const call = (outcome: Call['outcome'], count: number, extra: Partial<Call> = {}): Call => ({ outcome, count, paid: true, discounted: false, at: daysAgo(0), ...extra });
const review = (stars: [number, number, number], reviewerScore: number, extra: Partial<ScoreInputs['reviews'][number]> = {}) => ({
  accuracy: stars[0], reliability: stars[1], value: stars[2], reviewerScore, discounted: false, at: daysAgo(0), ...extra,
});
const inputs = (over: Partial<ScoreInputs> = {}): ScoreInputs => ({
  profileCreatedAt: daysAgo(200), sellerCalls: [], endpointTests: [], purchases: [], reviews: [], ...over,
});
type EndpointTest = ScoreInputs['endpointTests'][number];
const endpointTest = (ok: boolean, listingActive: boolean, count: number, extra: Partial<EndpointTest> = {}): EndpointTest => ({
  ok, listingActive, count, at: daysAgo(0), ...extra,
});
const score = (i: ScoreInputs) => computeScore(i, now).score;

describe('worked example (docs/crochet-score.md)', () => {
  test('gives the documented components, score, tier and checkmark', () => {
    const result = computeScore(
      inputs({
        sellerCalls: [
          call('completed', 400),
          call('completed', 200, { paid: false, at: daysAgo(90) }),
          call('rejected', 20, { paid: false }),
          call('failed', 10, { paid: false }),
          call('timeout', 4),
          call('completed', 300, { discounted: true }),
        ],
        purchases: [{ discounted: false, count: 20, at: daysAgo(0) }, { discounted: true, count: 50, at: daysAgo(0) }],
        reviews: [review([5, 5, 4], 800), review([4, 5, 5], 200), review([5, 5, 5], 1000, { discounted: true })],
      }),
      now,
    );
    expect(result).toEqual({
      score: 688,
      components: { reliability: 934, volume: 666, accuracy: 540, reputation: 555, longevity: 548 },
      tier: 'moderate',
      verified: false,
    });
  });

  test('a profile with no evidence, created now, scores 0 everywhere', () => {
    expect(computeScore(inputs({ profileCreatedAt: now.toISOString() }), now)).toEqual({
      score: 0,
      components: { reliability: 0, accuracy: 0, volume: 0, longevity: 0, reputation: 0 },
      tier: 'low',
      verified: false,
    });
  });

  test('the small anchors quoted in the doc', () => {
    const c = (i: ScoreInputs) => computeScore(i, now).components;
    expect(c(inputs({ sellerCalls: [call('completed', 1)] })).reliability).toBe(167);
    expect(c(inputs({ sellerCalls: [call('completed', 100)] })).reliability).toBe(952);
    expect(c(inputs({ sellerCalls: [call('completed', 100)], endpointTests: [endpointTest(false, true, 1)] })).reliability).toBe(935);
    expect(c(inputs({ reviews: [review([5, 5, 5], 0)] })).accuracy).toBe(333);
    expect(c(inputs({ profileCreatedAt: daysAgo(365) })).longevity).toBe(1000);
    expect(c(inputs({ profileCreatedAt: daysAgo(3650) })).longevity).toBe(1000);
  });
});

describe('tiers and the checkmark', () => {
  test.each([
    [0, 'low', false], [399, 'low', false], [400, 'moderate', false], [699, 'moderate', false],
    [700, 'trusted', false], [799, 'trusted', false], [800, 'elite', true], [899, 'elite', true],
    [900, 'exceptional', true], [1000, 'exceptional', true],
  ] as const)('%i → %s, verified %p', (s, tier, verified) => {
    expect(classify(s)).toEqual({ tier, verified });
  });

  test('computeScore classifies its own score at every step of a growing profile', () => {
    const seen = new Set<string>();
    for (let n = 0; n <= 40; n++) {
      const r = computeScore(
        inputs({ profileCreatedAt: daysAgo(n * 10), sellerCalls: [call('completed', n * n * 10)], reviews: Array.from({ length: n }, () => review([5, 5, 5], 900)) }),
        now,
      );
      expect({ tier: r.tier, verified: r.verified }).toEqual(classify(r.score));
      seen.add(r.tier);
    }
    // The sweep crosses every band, so each boundary above was exercised through computeScore too.
    expect([...seen].sort()).toEqual(['elite', 'exceptional', 'low', 'moderate', 'trusted']);
  });
});

describe('penalties', () => {
  test('at equal volume, a seller with many failures scores below one with none; timeouts cost more', () => {
    const clean = score(inputs({ sellerCalls: [call('completed', 200)] }));
    const failing = score(inputs({ sellerCalls: [call('completed', 200), call('failed', 60)] }));
    const timingOut = score(inputs({ sellerCalls: [call('completed', 200), call('timeout', 60)] }));
    expect(failing).toBeLessThan(clean);
    expect(timingOut).toBeLessThan(failing);
    expect(computeScore(inputs({ sellerCalls: [call('completed', 200), call('failed', 60)] }), now).components.volume)
      .toBe(computeScore(inputs({ sellerCalls: [call('completed', 200)] }), now).components.volume);
  });

  test('no failure, timeout or poor review ever raises a score', () => {
    const bases: ScoreInputs[] = [
      inputs(),
      inputs({ sellerCalls: [call('completed', 50)] }),
      inputs({ sellerCalls: [call('completed', 5), call('failed', 5)], reviews: [review([5, 5, 5], 500)] }),
    ];
    for (const base of bases) {
      const before = score(base);
      expect(score({ ...base, sellerCalls: [...base.sellerCalls, call('failed', 1)] })).toBeLessThanOrEqual(before);
      expect(score({ ...base, sellerCalls: [...base.sellerCalls, call('timeout', 1)] })).toBeLessThanOrEqual(before);
      expect(score({ ...base, reviews: [...base.reviews, review([1, 1, 1], 1000)] })).toBeLessThanOrEqual(before);
    }
  });
});

describe('endpoint tests', () => {
  const base = inputs({ sellerCalls: [call('completed', 100), call('rejected', 10, { paid: false }), call('failed', 3)], reviews: [review([4, 4, 4], 500)] });
  const withTests = (...tests: EndpointTest[]) => ({ ...base, endpointTests: tests });
  const withCalls = (...calls: Call[]) => ({ ...base, sellerCalls: [...base.sellerCalls, ...calls] });

  test('a failure while the listing is active lowers reliability exactly as one seller failure', () => {
    const failedTest = computeScore(withTests(endpointTest(false, true, 1)), now);
    expect(failedTest).toEqual(computeScore(withCalls(call('failed', 1)), now));
    expect(failedTest.components.reliability).toBeLessThan(computeScore(base, now).components.reliability);
    // 110 / (110 + 2×(3+1) + 5) = 894.31 → 894 (without the test: 110 / 121 → 909).
    expect(failedTest.components.reliability).toBe(894);
    expect(computeScore(base, now).components.reliability).toBe(909);
    // Many of them, recency-weighted like a seller failure of the same age.
    expect(computeScore(withTests(endpointTest(false, true, 7, { at: daysAgo(120) })), now))
      .toEqual(computeScore(withCalls(call('failed', 7, { at: daysAgo(120), paid: false })), now));
    expect(computeScore(withTests(endpointTest(false, true, 50, { at: daysAgo(400) })), now)).toEqual(computeScore(base, now));
  });

  test('passes and failures while setting up (draft, paused, archived) change nothing', () => {
    const expected = computeScore(base, now);
    expect(computeScore(withTests(endpointTest(true, true, 10_000)), now)).toEqual(expected);
    expect(computeScore(withTests(endpointTest(true, false, 10_000)), now)).toEqual(expected);
    expect(computeScore(withTests(endpointTest(false, false, 10_000)), now)).toEqual(expected);
    // …and on a profile with no other evidence either.
    const empty = inputs();
    expect(computeScore({ ...empty, endpointTests: [endpointTest(true, true, 500), endpointTest(false, false, 500)] }, now)).toEqual(computeScore(empty, now));
  });

  test('no endpoint test ever raises a score', () => {
    for (const t of [endpointTest(true, true, 1), endpointTest(true, false, 1), endpointTest(false, true, 1), endpointTest(false, false, 1)]) {
      expect(score(withTests(t))).toBeLessThanOrEqual(score(base));
      expect(score({ ...inputs(), endpointTests: [t] })).toBeLessThanOrEqual(score(inputs()));
    }
  });
});

describe('diminishing returns and weighting', () => {
  const volume = (n: number) => computeScore(inputs({ sellerCalls: [call('completed', n)] }), now).components.volume;

  test('each extra call adds less than the one before, and volume stops at 1000', () => {
    const gains = [0, 10, 100, 1000].map((n) => volume(n + 10) - volume(n));
    for (let i = 1; i < gains.length; i++) expect(gains[i]!).toBeLessThan(gains[i - 1]!);
    expect(volume(10_000)).toBe(1000);
    expect(volume(1_000_000)).toBe(1000);
  });

  test('a free call counts half a paid one; a 4xx counts as reliable but adds no volume', () => {
    const freeOnes = computeScore(inputs({ sellerCalls: [call('completed', 200, { paid: false })] }), now).components;
    expect(freeOnes.volume).toBe(volume(100));
    const rejected = computeScore(inputs({ sellerCalls: [call('rejected', 100)] }), now).components;
    expect(rejected.volume).toBe(0);
    expect(rejected.reliability).toBe(952);
  });

  test('reviews weigh more from reviewers with higher scores', () => {
    const acc = (reviewerScore: number, stars: number) =>
      computeScore(inputs({ reviews: [review([5, 5, 5], 900), review([stars, stars, stars], reviewerScore)] }), now).components.accuracy;
    expect(acc(1000, 5)).toBeGreaterThan(acc(0, 5));
    expect(acc(1000, 1)).toBeLessThan(acc(0, 1));
  });

  test('evidence halves in weight every 90 days and is gone after a year', () => {
    expect(recencyWeight(daysAgo(0), now)).toBe(1);
    expect(recencyWeight(daysAgo(90), now)).toBeCloseTo(0.5, 12);
    expect(recencyWeight(daysAgo(180), now)).toBeCloseTo(0.25, 12);
    expect(recencyWeight(daysAgo(366), now)).toBe(0);
    expect(volume(100)).toBe(computeScore(inputs({ sellerCalls: [call('completed', 200, { at: daysAgo(90) })] }), now).components.volume);
  });
});

describe('self-dealing', () => {
  const honest = inputs({
    sellerCalls: [call('completed', 80), call('failed', 2)],
    purchases: [{ discounted: false, count: 10, at: daysAgo(0) }],
    reviews: [review([4, 4, 4], 300)],
  });

  test('discounted calls, purchases and reviews do not raise a score', () => {
    const padded: ScoreInputs = {
      ...honest,
      sellerCalls: [...honest.sellerCalls, call('completed', 5000, { discounted: true }), call('rejected', 500, { discounted: true })],
      purchases: [...honest.purchases, { discounted: true, count: 5000, at: daysAgo(0) }],
      reviews: [...honest.reviews, ...Array.from({ length: 20 }, () => review([5, 5, 5], 1000, { discounted: true }))],
    };
    expect(computeScore(padded, now)).toEqual(computeScore(honest, now));
    // The same evidence, not discounted, would have raised it: the discount is what holds it back.
    const undiscounted = { ...padded, sellerCalls: padded.sellerCalls.map((c) => ({ ...c, discounted: false })) };
    expect(score(undiscounted)).toBeGreaterThan(score(honest));
  });

  test("a discounted buyer's failures still count against the seller", () => {
    const withFailures = { ...honest, sellerCalls: [...honest.sellerCalls, call('failed', 20, { discounted: true })] };
    expect(score(withFailures)).toBeLessThan(score(honest));
  });
});
