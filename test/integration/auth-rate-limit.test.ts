import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

// Threat: brute force of the sign-in routes and key abuse; limits answer 429 with Retry-After.
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '3', CROCHET_RATE_LIMIT_READ_PER_MIN: '2' });
  t.listen();
});
afterAll(() => t.close());

test('auth routes: the 4th attempt from one IP in 5 minutes gets 429 with Retry-After', async () => {
  const body = { wallet_address: evmWallet().address, purpose: 'register' };
  for (let i = 0; i < 3; i++) expect((await t.call('POST', '/api/v1/auth/challenge', { body })).status).toBe(200);
  const limited = await t.call('POST', '/api/v1/auth/challenge', { body });
  expect(limited.status).toBe(429);
  expect(limited.json.error.code).toBe('RATE_LIMITED');
  const retryAfter = Number(limited.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(300);
  expect(limited.json.error.recovery).toMatchObject({ retryable: true, next_action: 'retry_later', retry_after_seconds: retryAfter });
  // Malformed attempts count as well, and register shares the budget.
  expect((await t.call('POST', '/api/v1/register', { body: {} })).status).toBe(429);
});

test('reads per key: the 3rd read in a minute gets 429', async () => {
  const fresh = await createTestApp({ CROCHET_RATE_LIMIT_READ_PER_MIN: '2' });
  try {
    const agent = await registerAgent(fresh.call, evmWallet());
    expect((await fresh.call('GET', '/api/v1/me', { key: agent.key })).status).toBe(200);
    expect((await fresh.call('GET', '/api/v1/me', { key: agent.key })).status).toBe(200);
    const limited = await fresh.call('GET', '/api/v1/me', { key: agent.key });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  } finally {
    await fresh.close();
  }
});

test('writes per key: the 3rd write in a minute gets 429; reads keep their own budget', async () => {
  const fresh = await createTestApp({ CROCHET_RATE_LIMIT_WRITE_PER_MIN: '2', CROCHET_RATE_LIMIT_READ_PER_MIN: '5' });
  try {
    const agent = await registerAgent(fresh.call, evmWallet());
    for (let i = 0; i < 2; i++) expect((await fresh.call('POST', '/api/v1/api-keys', { key: agent.key, body: { name: `k${i}` } })).status).toBe(201);
    const limited = await fresh.call('POST', '/api/v1/api-keys', { key: agent.key, body: { name: 'k3' } });
    expect(limited.status).toBe(429);
    expect(limited.json.error).toMatchObject({ code: 'RATE_LIMITED', recovery: { retryable: true, next_action: 'retry_later' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fresh.call('GET', '/api/v1/api-keys', { key: agent.key })).json.data).toHaveLength(3);
  } finally {
    await fresh.close();
  }
});
