import SwaggerParser from '@apidevtools/swagger-parser';
import { validate as readmeValidate } from '@readme/openapi-parser';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

// The document a client generator and a new agent live on: valid, complete, and saying what each route needs.
type Json = Record<string, any>;
let t: TestContext;
let doc: Json;
const ops: { method: string; path: string; op: Json }[] = [];

beforeAll(async () => {
  t = await createTestApp({ CROCHET_PUBLIC_URL: 'https://market.example.test', CROCHET_CRON_SECRET: 'cron-secret-for-tests-0123456789' });
  doc = (await t.call('GET', '/api/openapi.json')).json;
  for (const [path, item] of Object.entries(doc.paths as Json)) for (const [method, op] of Object.entries(item as Json)) ops.push({ method, path, op });
});
afterAll(() => t.close());

const resolve = (schema: Json | undefined): Json | undefined =>
  schema?.$ref ? doc.components.schemas[String(schema.$ref).replace('#/components/schemas/', '')] : schema;

test('two standard validators accept the document', async () => {
  // Both dereference in place: give each its own copy.
  await SwaggerParser.validate(structuredClone(doc) as never);
  const result = await readmeValidate(structuredClone(doc) as never);
  expect(result.valid ? [] : result.errors).toEqual([]);
  expect(result.warnings).toEqual([]);
});

test('named component schemas, referenced by the routes', () => {
  for (const name of ['Listing', 'Profile', 'Wallet', 'ApiKey', 'GatewayRequest', 'LedgerEntry', 'Review', 'Score', 'Payment', 'Error', 'Pagination']) {
    expect(doc.components.schemas).toHaveProperty([name]);
  }
  const text = JSON.stringify(doc.paths);
  for (const name of ['Listing', 'Wallet', 'ApiKey', 'GatewayRequest', 'LedgerEntry', 'Review', 'Score', 'Error', 'Pagination', 'PaymentRequired']) {
    expect(text).toContain(`"#/components/schemas/${name}"`);
  }
  const error = doc.components.schemas.Error;
  expect(Object.keys(error.properties.error.properties).sort()).toEqual(['code', 'details', 'message', 'recovery']);
  expect(Object.keys(doc.components.schemas.Recovery.properties)).toEqual(
    expect.arrayContaining(['retryable', 'next_action', 'summary', 'preserve', 'discard', 'retry_after_seconds', 'docs_url', 'reference_url']),
  );
});

test('tags are declared and described; operation ids are unique camelCase method names; every operation is described', () => {
  const declared = new Map((doc.tags as { name: string; description: string }[]).map((tag) => [tag.name, tag.description]));
  const ids = new Set<string>();
  for (const { method, path, op } of ops) {
    const where = `${method} ${path}`;
    expect(op.tags?.length, where).toBeGreaterThan(0);
    for (const tag of op.tags) expect(declared.get(tag), `${where} tag ${tag}`).toBeTruthy();
    expect(op.operationId, where).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    expect(ids.has(op.operationId), `${where} duplicate id`).toBe(false);
    ids.add(op.operationId);
    expect(op.summary, where).toBeTruthy();
    expect(op.description, where).toBeTruthy();
  }
  expect([...ids]).toEqual(expect.arrayContaining(['register', 'createListing', 'searchListings', 'callListing', 'listLedgerEntries', 'createReview']));
});

test('every parameter and every body property a client fills in is described', () => {
  const missing: string[] = [];
  for (const { method, path, op } of ops) {
    for (const p of op.parameters ?? []) if (!p.description) missing.push(`${method} ${path} parameter ${p.name}`);
    const body = resolve(op.requestBody?.content?.['application/json']?.schema);
    const walk = (schema: Json | undefined, at: string, depth: number) => {
      for (const [name, prop] of Object.entries((resolve(schema)?.properties ?? {}) as Json)) {
        if (!prop.description) missing.push(`${method} ${path} body ${at}${name}`);
        if (depth < 1) walk(prop, `${at}${name}.`, depth + 1);
      }
    };
    walk(body, '', 0);
  }
  expect(missing).toEqual([]);
});

test('every operation documents its errors with the Error envelope and lists their codes', () => {
  for (const { method, path, op } of ops) {
    const where = `${method} ${path}`;
    const codes = op['x-error-codes'] as Record<string, string[]>;
    expect(codes['500'], where).toEqual(['INTERNAL_ERROR']);
    for (const [status, list] of Object.entries(codes)) {
      expect(list.length, where).toBeGreaterThan(0);
      for (const code of list) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      const schema = op.responses[status].content['application/json'].schema;
      expect(['#/components/schemas/Error', '#/components/schemas/PaymentRequired'], `${where} ${status}`).toContain(schema.$ref);
      for (const code of list) expect(op.responses[status].description, `${where} ${status}`).toContain(code);
    }
  }
  const codesOf = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)!.op['x-error-codes'];
  expect(codesOf('post', '/api/v1/register')['400']).toEqual(expect.arrayContaining(['CHALLENGE_EXPIRED', 'POW_INVALID', 'VALIDATION_FAILED', 'INVALID_JSON']));
  expect(codesOf('post', '/api/v1/listings')['422']).toEqual(['UNSAFE_ENDPOINT_URL']);
  expect(codesOf('get', '/api/v1/me')['401']).toEqual(['API_KEY_INVALID', 'API_KEY_REVOKED', 'AUTH_REQUIRED']);
  expect(codesOf('post', '/api/v1/auth/challenge')['429']).toEqual(['RATE_LIMITED']);
  expect(ops.find((o) => o.path === '/api/v1/me')!.op.responses['429'].headers).toHaveProperty(['Retry-After']);
});

test('security: declared on every route that needs a credential, public routes say so, and a call without one agrees', async () => {
  const { key } = await registerAgent(t.call, evmWallet());
  expect(key).toMatch(/^am_k_/);
  const wrong: string[] = [];
  for (const { method, path, op } of ops) {
    expect(Array.isArray(op.security), `${method} ${path}`).toBe(true);
    const required = op.security.length > 0 && op.security.every((r: Json) => Object.keys(r).length > 0);
    const url = path.replace(/\{[^}]+\}/g, 'x');
    const res = await t.app.handle(new Request(`http://localhost${url}`, { method: method.toUpperCase(), body: method === 'get' ? undefined : '{}' }));
    if (res.status === 401 && !required) wrong.push(`${method} ${path}: 401 without a credential, but security says it needs none`);
    if (required && res.status < 400) wrong.push(`${method} ${path}: declares a credential, answered ${res.status} without one`);
  }
  expect(wrong).toEqual([]);
  const security = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)!.op.security;
  expect(security('get', '/api/v1/me')).toEqual([{ agentKey: [] }]);
  expect(security('post', '/api/v1/gateway/{listingId}')).toEqual([{ agentKey: [] }]);
  expect(security('post', '/api/v1/internal/recompute-scores')).toEqual([{ cronSecret: [] }]);
  expect(security('get', '/api/v1/listings')).toEqual([]);
  expect(security('get', '/api/v1/listings/{id}')).toEqual([{}, { agentKey: [] }]);
  expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['agentKey', 'cronSecret', 'humanSession']);
  expect(ops.filter((o) => JSON.stringify(o.op.security).includes('agentKey')).length).toBeGreaterThanOrEqual(22);
});

test('the gateway is fully described', () => {
  const op = ops.find((o) => o.path === '/api/v1/gateway/{listingId}' && o.method === 'post')!.op;
  expect(op.operationId).toBe('callListing');
  expect(op.requestBody.required).toBe(true);
  expect(op.requestBody.content).toHaveProperty(['application/json', 'schema']);
  expect(op.requestBody.content['application/json'].example).toEqual({ city: 'Lisbon', units: 'metric' });
  const headers = op.parameters.filter((p: Json) => p.in === 'header').map((p: Json) => p.name);
  expect(headers).toEqual(['X-Crochet-Relay-Request-Id', 'X-Crochet-Payment-Tx', 'PAYMENT-SIGNATURE', 'X-Crochet-Origin-Currency']);
  expect(op.responses['200'].content).toHaveProperty(['application/json']);
  expect(op.responses['202'].content['application/json'].schema.$ref).toBe('#/components/schemas/PaymentPending');
  expect(op.responses['402'].content['application/json'].schema.$ref).toBe('#/components/schemas/PaymentRequired');
  expect(op.responses['402'].content['application/json'].example.payment.relay_request_id).toMatch(/^rly_/);
  expect(JSON.stringify(doc.components.schemas.PaymentRequired)).toContain('#/components/schemas/Payment"');
  for (const status of ['200', '202', '402']) expect(op.responses[status].headers).toHaveProperty(['X-Crochet-Request-Id']);
  expect(op['x-seller-replies']).toContain('pass through');
  const codes = op['x-error-codes'];
  expect(codes['402']).toEqual(expect.arrayContaining(['PAYMENT_REQUIRED', 'PAYMENT_NOT_FOUND', 'PAYMENT_INSUFFICIENT', 'PAYMENT_TX_TOO_OLD']));
  expect(codes['409']).toEqual(expect.arrayContaining(['LISTING_NOT_ACTIVE', 'ENDPOINT_DISABLED', 'PAYMENT_IN_PROGRESS', 'PAYMENT_REQUEST_MISMATCH']));
  expect(codes['410']).toEqual(['PAYMENT_INTENT_EXPIRED']);
  expect(codes['413']).toEqual(['PAYLOAD_TOO_LARGE']);
  expect(codes['422']).toEqual(['PAYMENT_ROUTE_MINIMUM_NOT_MET']);
  expect(codes['429']).toEqual(['RATE_LIMITED']);
  expect(codes['502']).toEqual(expect.arrayContaining(['UPSTREAM_ERROR', 'UPSTREAM_UNREACHABLE', 'UPSTREAM_INVALID_RESPONSE']));
  expect(codes['504']).toEqual(['PAYMENT_SETTLEMENT_PENDING', 'UPSTREAM_TIMEOUT']);
  // Documentation only: the route itself declares no body schema, so Elysia never parses the bytes it forwards.
  const route = t.app.routes.find((r) => r.method === 'POST' && r.path === '/api/v1/gateway/:listingId')!;
  expect((route.hooks as Json).body).toBeUndefined();
});

test('examples: registration, listing creation, a gateway call, a 402 and an error', () => {
  const op = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)!.op;
  expect(op('post', '/api/v1/register').requestBody.content['application/json'].example).toMatchObject({ wallet_address: expect.any(String), pow_nonce: expect.any(String), display_name: expect.any(String) });
  expect(op('post', '/api/v1/register').responses['400'].content['application/json'].example.error.recovery.next_action).toBe('restart_challenge');
  expect(op('post', '/api/v1/listings').requestBody.content['application/json'].example).toMatchObject({ pricing_model: 'per_call', pricing_amount: '0.01' });
  expect(op('post', '/api/v1/gateway/{listingId}').responses['402'].content['application/json'].example.error.code).toBe('PAYMENT_REQUIRED');
});

test('dotted surface paths are in the document and in both inventories, each with the credential it needs', async () => {
  const dotted = ['/SKILL.md', '/llms.txt', '/docs/api-reference.txt', '/.well-known/agent-protocol.json'];
  const ref = (await t.call('GET', '/docs/api-reference.txt')).text;
  const disco = (await t.call('GET', '/.well-known/agent-protocol.json')).json;
  for (const path of dotted) {
    expect(doc.paths).toHaveProperty([path]);
    expect(ref).toContain(`https://market.example.test${path}\n`);
    expect(disco.endpoints).toContainEqual(expect.objectContaining({ method: 'GET', url: `https://market.example.test${path}`, auth: 'none' }));
  }
  expect(ref).toMatch(/GET {4}https:\/\/market\.example\.test\/api\/v1\/me\n.*\n {7}auth: agent API key/);
  expect(ref).toMatch(/POST {3}https:\/\/market\.example\.test\/api\/v1\/internal\/recompute-scores\n.*\n {7}auth: cron secret/);
  expect(ref).toMatch(/GET {4}https:\/\/market\.example\.test\/api\/v1\/listings\n.*\n {7}auth: public/);
  expect(disco.endpoints).toContainEqual(expect.objectContaining({ method: 'POST', url: 'https://market.example.test/api/v1/gateway/{listingId}', auth: 'required', credentials: ['agentKey'] }));
  expect(disco.endpoints).toContainEqual(expect.objectContaining({ method: 'GET', url: 'https://market.example.test/api/v1/listings/{id}', auth: 'optional', credentials: ['agentKey'] }));
  expect(disco.authentication.credentials).toHaveProperty(['cronSecret']);
  // Every operation of the document is in both inventories.
  expect(disco.endpoints.length).toBe(ops.length);
  for (const { path } of ops) expect(ref).toContain(`https://market.example.test${path}\n`);
});

test('SKILL.md covers selling, rate limits and the seller verification module', async () => {
  for (const path of ['/SKILL.md', '/agent-skill']) {
    const skill = (await t.call('GET', path)).text;
    for (const needle of ['POST /api/v1/listings/challenge', '`POST /api/v1/listings`', 'signing_secret', 'src/seller/verify.ts', 'verifyCrochetRequest', '429 RATE_LIMITED', 'Retry-After', 'GET /api/v1/ledger/balance', 'payout']) {
      expect(skill, `${path}: ${needle}`).toContain(needle);
    }
  }
});
