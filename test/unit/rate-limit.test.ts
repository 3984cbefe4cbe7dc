import { expect, test } from 'bun:test';
import { createRateLimiter } from '../../src/shared/rate-limit.ts';

test('allows `limit` hits per window per key, then reports seconds to wait', () => {
  const rl = createRateLimiter(2, 60_000);
  expect(rl.hit('a', 0)).toBeNull();
  expect(rl.hit('a', 1_000)).toBeNull();
  expect(rl.hit('a', 2_000)).toBe(58);
  expect(rl.hit('b', 2_000)).toBeNull();
  expect(rl.hit('a', 60_000)).toBeNull();
});

test('a limit of 0 disables the limiter', () => {
  const rl = createRateLimiter(0, 60_000);
  for (let i = 0; i < 1000; i++) expect(rl.hit('a', i)).toBeNull();
});
