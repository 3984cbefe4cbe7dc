import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createConformance, type OpenApiDoc } from '../support/openapi-conformance.ts';
import { evmWallet } from '../support/wallets.ts';

// Drift between the OpenAPI document and the app: a documented route that does not exist, a route
// left out, or a reply that differs from its documented schema. Replies of every integration test
// are checked by createTestApp (test/support/openapi-conformance.ts); this suite checks the routes
// and that the checker really refuses what differs.
let t: TestContext;
let doc: OpenApiDoc;
beforeAll(async () => {
  t = await createTestApp();
  doc = (await t.call('GET', '/api/openapi.json')).json;
});
afterAll(() => t.close());

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const documented = () =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
const routes = () => t.app.routes.map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`);

test('every documented operation is a route of the app', () => {
  const live = new Set(routes());
  expect(documented().filter((op) => !live.has(op))).toEqual([]);
});

test('every route of the app is documented, except the HTML pages of the web UI and the docs viewer', async () => {
  const inDoc = new Set(documented());
  const left = t.app.routes.filter((r) => !inDoc.has(`${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`));
  expect(left.length).toBeGreaterThan(0);
  for (const route of left) {
    // A page, not an API: what it serves a browser is HTML (or, for /assets/:name and the favicon, a
    // file of the UI). A page's unknown id answers an API client with the JSON envelope, so ask as a browser.
    const path = route.path.replace(':name', 'app.css').replace(/:([^/]+)/g, 'x');
    const res = await t.app.handle(new Request(`http://localhost${path}`, { method: route.method, headers: { accept: 'text/html' } }));
    const type = res.headers.get('content-type') ?? '';
    // Page forms and signed-in pages may answer a guest with a redirect to another page (sign-in, home).
    const toPage = res.status === 303 && /^\/(?!\/|api\/)/.test(res.headers.get('location') ?? '');
    expect(route.path === '/assets/:name' || route.path.startsWith('/favicon.') || type.startsWith('text/html') || toPage, `${route.method} ${route.path} is undocumented but serves ${type || res.status}`).toBe(true);
  }
});

test('the reply check refuses a body, a status or a code the document does not promise', async () => {
  const check = createConformance(doc);
  const { key } = await registerAgent(t.call, evmWallet());
  const me = await t.call('GET', '/api/v1/me', { key });
  expect(check.check('GET', '/api/v1/me', 200, 'application/json', me.text)).toEqual([]);
  const changed = JSON.stringify({ ...me.json, data: { ...me.json.data, wallets: 'none' } });
  expect(check.check('GET', '/api/v1/me', 200, 'application/json', changed).join()).toContain('does not match the documented schema');
  expect(check.check('GET', '/api/v1/me', 418, 'application/json', '{}').join()).toContain('status not documented');
  const unknownCode = JSON.stringify({ success: false, error: { code: 'NOT_A_CODE_OF_THIS_ROUTE', message: 'x' } });
  expect(check.check('GET', '/api/v1/me', 401, 'application/json', unknownCode).join()).toContain('not in x-error-codes');
  expect(check.check('GET', '/SKILL.md', 200, 'application/json', '{}').join()).toContain('content type application/json not documented');
  // A literal segment is matched before a parameter.
  expect(check.find('POST', '/api/v1/listings/challenge')?.template).toBe('/api/v1/listings/challenge');
  expect(check.find('GET', '/api/v1/listings/abc?x=1')?.template).toBe('/api/v1/listings/{id}');
});
