import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, type TestContext } from '../support/app.ts';

// The machine-readable surfaces carry this instance's own base URL and list the real routes.
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({
    CROCHET_PUBLIC_URL: 'https://market.example.test',
    CROCHET_PAYMENT_ROUTES: JSON.stringify([{ network: 'eip155:8453', rpc_url: 'http://127.0.0.1:1', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6, confirmations: 1, treasury: '0x52908400098527886E0F7030069857D2E4169EE7' }]),
  });
});
afterAll(() => t.close());

test.each(['/agent-skill', '/SKILL.md', '/seller-onboarding'])('%s is Markdown with this instance\'s URL', async (path) => {
  const res = await t.call('GET', path);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toStartWith('text/markdown');
  expect(res.text).toContain('https://market.example.test/api/v1');
  expect(res.text).not.toContain('{{BASE_URL}}');
});

test('llms.txt links every document with absolute URLs', async () => {
  const res = await t.call('GET', '/llms.txt');
  for (const doc of ['/SKILL.md', '/seller-onboarding', '/docs/api-reference.txt', '/api/openapi.json', '/.well-known/agent-protocol.json']) {
    expect(res.text).toContain(`https://market.example.test${doc}`);
  }
});

test('the API reference and the discovery document list the routes of the OpenAPI document', async () => {
  const spec = (await t.call('GET', '/api/openapi.json')).json;
  const ref = await t.call('GET', '/docs/api-reference.txt');
  expect(ref.headers.get('content-type')).toStartWith('text/plain');
  for (const path of ['/api/v1/register', '/api/v1/listings', '/api/v1/gateway/{listingId}', '/api/v1/ledger', '/api/v1/reviews/{listingId}']) {
    expect(spec.paths).toHaveProperty([path]);
    expect(ref.text).toContain(`https://market.example.test${path}`);
  }
  const disco = await t.call('GET', '/.well-known/agent-protocol.json');
  expect(disco.json).toMatchObject({
    name: 'Crochet',
    api_base: 'https://market.example.test/api/v1',
    documents: { openapi: 'https://market.example.test/api/openapi.json' },
    payments: { currency: 'USDC', routes: [{ network: 'eip155:8453', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6 }] },
  });
  const gateway = disco.json.endpoints.find((e: { url: string }) => e.url.endsWith('/api/v1/gateway/{listingId}'));
  expect(gateway.method).toBe('POST');
  // The discovery document shows no RPC URLs or treasuries.
  expect(disco.text).not.toContain('127.0.0.1:1');
  expect(disco.text).not.toContain('0x52908400098527886E0F7030069857D2E4169EE7');
});
