import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, type TestContext } from '../support/app.ts';

// The embedded UI: pages get the HTML shell, assets by exact name only, nothing else from disk.
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
  t.listen();
});
afterAll(() => t.close());

test.each(['/', '/listings/some-slug', '/agents/some-id'])('%s serves the HTML shell, never cached', async (path) => {
  const res = await t.call('GET', path);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toStartWith('text/html');
  expect(res.headers.get('cache-control')).toBe('no-cache');
  expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  expect(res.text).toContain('<script type="module" src="/assets/app.js"></script>');
});

test('assets are served with their types', async () => {
  const js = await t.call('GET', '/assets/app.js');
  expect(js.headers.get('content-type')).toStartWith('text/javascript');
  expect(js.text).toContain("fetch(`/api/v1${path}`)");
  const css = await t.call('GET', '/assets/app.css');
  expect(css.headers.get('content-type')).toStartWith('text/css');
});

test.each(['/assets/..%2Fpackage.json', '/assets/%2e%2e%2fsrc%2fconfig.ts', '/assets/app.js%00.css', '/assets/constructor', '/assets/__proto__', '/assets/nope.js'])(
  '%s → 404',
  async (path) => {
    const res = await fetch(`http://127.0.0.1:${t.app.server?.port}${path}`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('"name": "crochet"');
  },
);
