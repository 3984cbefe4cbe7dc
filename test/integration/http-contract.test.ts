import { afterAll, beforeAll, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { createTestApp, proveWallet, type TestContext } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

// The error contract: every bad input is a 4xx envelope with a recovery hint, never a 500.
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

function expectEnvelope(res: { status: number; json: any; text: string; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json).toMatchObject({ success: false, error: { code, message: expect.any(String) } });
  expect(res.json.error.recovery).toMatchObject({ retryable: expect.any(Boolean), next_action: expect.stringMatching(/^[a-z_]+$/) });
  expect(res.json.error.recovery.docs_url).toStartWith('http://localhost:8787/');
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.headers.get('x-request-id')).toBeTruthy();
}

test.each([
  ['0x123', 'too short'],
  ['0xZZ08400098527886E0F7030069857D2E4169EE7', 'not hex'],
  ['0x52908400098527886e0F7030069857D2E4169EE7', 'bad EIP-55 checksum'],
  ['not-a-wallet', 'garbage'],
  ['1111111111111111111111111111111O', 'base58 with a forbidden letter'],
  ['3yZe7d', 'base58 that is not 32 bytes'],
])('malformed address %s (%s) → 400 INVALID_WALLET_ADDRESS', async (address) => {
  const res = await t.call('POST', '/api/v1/auth/challenge', { body: { wallet_address: address, purpose: 'register' } });
  expectEnvelope(res, 400, 'INVALID_WALLET_ADDRESS');
});

test('malformed JSON → 400 INVALID_JSON', async () => {
  const res = await t.call('POST', '/api/v1/auth/challenge', { rawBody: '{"wallet_address": ', headers: { 'content-type': 'application/json' } });
  expectEnvelope(res, 400, 'INVALID_JSON');
});

test('a body with form content type is still read as JSON', async () => {
  const res = await t.call('POST', '/api/v1/auth/challenge', {
    rawBody: JSON.stringify({ wallet_address: evmWallet().address, purpose: 'register' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(res.status).toBe(200);
});

test('invalid fields → 400 VALIDATION_FAILED naming the field, without echoing values', async () => {
  const secretish = 'https://private-seller.internal/secret-path?token=hunter2';
  const res = await t.call('POST', '/api/v1/auth/challenge', { body: { wallet_address: secretish, purpose: 'steal' } });
  expectEnvelope(res, 400, 'VALIDATION_FAILED');
  expect(res.json.error.details.issues.map((i: { path: string }) => i.path)).toContain('purpose');
  expect(res.text).not.toContain('hunter2');
  expect(res.text).not.toContain('private-seller');
});

test('body over the limit → 413 PAYLOAD_TOO_LARGE, declared or streamed', async () => {
  const big = JSON.stringify({ wallet_address: 'x'.repeat(2 * 1024 * 1024), purpose: 'register' });
  expectEnvelope(await t.call('POST', '/api/v1/auth/challenge', { rawBody: big, headers: { 'content-length': String(big.length) } }), 413, 'PAYLOAD_TOO_LARGE');
  // Without a Content-Length (chunked), the parser counts the bytes itself.
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(big));
      c.close();
    },
  });
  const res = await t.app.handle(new Request('http://localhost/api/v1/auth/challenge', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' } }));
  expect(res.status).toBe(413);
  expect(((await res.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE');
});

test.each([
  ['missing', undefined, 'AUTH_REQUIRED'],
  ['garbage', 'Bearer nonsense', 'API_KEY_INVALID'],
  ['unknown am_k_ key', 'Bearer am_k_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'API_KEY_INVALID'],
  ['wrong scheme', 'Basic dXNlcjpwYXNz', 'API_KEY_INVALID'],
])('%s API key → 401 %s', async (_n, header, code) => {
  const res = await t.call('GET', '/api/v1/me', { headers: header ? { authorization: header } : {} });
  expectEnvelope(res, 401, code);
});

test('unknown route → 404 ROUTE_NOT_FOUND', async () => {
  expectEnvelope(await t.call('GET', '/api/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
  expectEnvelope(await t.call('DELETE', '/api/v1/me'), 404, 'ROUTE_NOT_FOUND');
});

test('X-Request-Id: a valid incoming id is echoed, anything else is replaced', async () => {
  const kept = await t.call('GET', '/health', { headers: { 'x-request-id': 'agent-trace.42' } });
  expect(kept.headers.get('x-request-id')).toBe('agent-trace.42');
  const replaced = await t.call('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
  expect(replaced.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
});

test('health reports the database and version on both paths', async () => {
  for (const path of ['/health', '/api/v1/health']) {
    const res = await t.call('GET', path);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', database: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  }
});

test('OpenAPI document is generated from the route schemas', async () => {
  const res = await t.call('GET', '/api/openapi.json');
  expect(res.status).toBe(200);
  expect(res.json.openapi).toStartWith('3.');
  expect(res.json.info.title).toBe('Crochet API');
  for (const path of ['/api/v1/auth/challenge', '/api/v1/register', '/api/v1/me', '/api/v1/api-keys', '/api/v1/me/wallets/{id}']) {
    expect(res.json.paths).toHaveProperty([path]);
  }
  const register = res.json.paths['/api/v1/register'].post.requestBody.content['application/json'].schema;
  expect(register.required).toEqual(expect.arrayContaining(['wallet_address', 'signature', 'nonce', 'pow_nonce', 'display_name']));
  expect((await t.call('GET', '/api/docs')).status).toBe(200);
});

test('logs are JSON lines with request ids and never contain keys or signatures', async () => {
  const wallet = evmWallet();
  const { proof } = await proveWallet(t.call, wallet, 'register');
  const reg = await t.call('POST', '/api/v1/register', { body: { ...proof, display_name: 'Logged' } });
  await t.call('GET', '/api/v1/me', { key: reg.json.data.api_key });
  await Bun.sleep(20); // access lines are written after the response
  const lines = t.logger.lines.map((l) => JSON.parse(l));
  expect(lines.some((l) => l.msg === 'request' && l.path === '/api/v1/me' && l.status === 200 && l.request_id)).toBe(true);
  const all = t.logger.lines.join('\n');
  expect(all).not.toContain(reg.json.data.api_key);
  expect(all).not.toContain(proof.signature);
});

test('every migration file is embedded in the build', async () => {
  const { embeddedMigrations } = await import('../../src/db/embedded-migrations.ts');
  const onDisk = readdirSync('migrations').filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();
  expect(embeddedMigrations.map((m) => m.tag)).toEqual(onDisk);
});

test('an unexpected failure is a generic 500 with a recovery hint: no SQL, no stack; the cause is logged with the request id', async () => {
  const broken = await createTestApp();
  try {
    // Break the storage under a route, as a corrupted or half-migrated database would.
    broken.deps.db.sqlite.run('ALTER TABLE categories RENAME TO categories_gone');
    const res = await broken.call('GET', '/api/v1/categories', { headers: { 'x-request-id': 'trace-500' } });
    expect(res.status).toBe(500);
    expect(res.json.error).toMatchObject({ code: 'INTERNAL_ERROR', recovery: { retryable: true, next_action: 'retry_later' } });
    expect(res.json.error.details).toBeUndefined();
    expect(res.text).not.toMatch(/categor|sqlite|no such table|SELECT|stack|\.ts:\d+/i);
    expect(res.headers.get('x-request-id')).toBe('trace-500');
    const logged = broken.logger.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ level: 'error', request_id: 'trace-500', error: expect.stringMatching(/categories/) });
  } finally {
    await broken.close();
  }
});

test('a reply that fails its own response schema is a logged 500, not the caller\'s 400', async () => {
  const { Elysia } = await import('elysia');
  const { z } = await import('zod');
  const { foundationPlugin } = await import('../../src/shared/http/foundation.ts');
  const { createMetrics } = await import('../../src/shared/metrics.ts');
  const { memoryLogger } = await import('../../src/shared/logger.ts');
  const logger = memoryLogger();
  const app = new Elysia()
    .use(foundationPlugin({ logger, metrics: createMetrics(), publicUrl: 'http://localhost:8787', maxBodyBytes: 1024, maxGatewayBodyBytes: 1024, maxJsonDepth: 64 }))
    .get('/broken', () => ({ secret_field: 'x' }) as unknown as { name: string }, { response: z.object({ name: z.string() }) });
  const res = await app.handle(new Request('http://localhost/broken'));
  expect(res.status).toBe(500);
  const body = (await res.json()) as { error: { code: string } };
  expect(body.error.code).toBe('INTERNAL_ERROR');
  expect(JSON.stringify(body)).not.toContain('secret_field');
  expect(logger.lines.some((l) => l.includes('response failed its schema'))).toBe(true);
});
