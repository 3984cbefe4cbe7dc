import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sellerOnboarding from '../../src/modules/surfaces/texts/seller-onboarding.md' with { type: 'text' };
import skill from '../../src/modules/surfaces/texts/skill.md' with { type: 'text' };
import scoreDoc from '../../docs/crochet-score.md' with { type: 'text' };
import swaggerPackage from 'swagger-ui-dist/package.json' with { type: 'json' };
import { escapeHtml } from '../../src/modules/web/html.ts';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { evmWallet } from '../support/wallets.ts';

// Documents as pages, the embedded API docs, assets, and the headers and markup rules of every page.
let t: TestContext;
let pages: string[];
const html = (path: string) => t.call('GET', path, { headers: { accept: 'text/html' } });

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1' });
  t.listen();
  const seller = await registerAgent(t.call, evmWallet(), 'Header Seller');
  const listing = await createListing(t.call, seller.key, { private_endpoint_url: 'http://127.0.0.1:9/x' });
  pages = ['/', '/?q=weather', '/?min_score=abc', `/listings/${listing.slug}`, `/agents/${seller.profile.id}`, '/sell', '/for-agents', '/score', '/api/docs', '/no-such-page', '/listings/nope'];
});
afterAll(() => t.close());

describe('every page', () => {
  test('security headers: a CSP without unsafe-inline, no framing, nosniff, a referrer policy; never cached', async () => {
    for (const path of pages) {
      const res = await html(path);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('same-origin');
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
  });

  test('no inline script or style, nothing from another origin, a favicon, one h1, the language set', async () => {
    for (const path of pages) {
      const { text } = await html(path);
      expect(text).toStartWith('<!doctype html>\n<html lang="en">');
      // Every <script> has a src on this origin; no event handler attributes; no style attributes or blocks.
      for (const tag of text.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/ src="\/assets\/[\w.-]+\.js"/);
      expect(text).not.toMatch(/\son[a-z]+=/i);
      expect(text).not.toMatch(/<style|\sstyle=/i);
      expect(text).not.toMatch(/(src|href)="(https?:)?\/\//);
      expect(text).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
      expect(text.match(/<h1[\s>]/g)).toHaveLength(1);
      expect(text).toContain('<nav aria-label="Main">');
    }
  });

  test('the header marks the current page', async () => {
    expect((await html('/sell')).text).toContain('<a href="/sell" aria-current="page">Sell</a>');
    expect((await html('/')).text).toContain('<a href="/" aria-current="page">Browse</a>');
  });
});

describe('documents: one source, two renderings', () => {
  const headings = (md: string) => [...md.matchAll(/^(#{1,6}) (.+)$/gm)].map((x) => [x[1]!.length, x[2]!.replaceAll('{{BASE_URL}}', t.config.public_url)] as const);

  test.each([
    ['/sell', '/seller-onboarding', sellerOnboarding],
    ['/for-agents', '/SKILL.md', skill],
    ['/score', null, scoreDoc],
  ])('%s renders the Markdown behind %s as HTML', async (path, source, md) => {
    const res = await html(path);
    expect(res.status).toBe(200);
    for (const [level, text] of headings(md)) {
      // Inline code in a heading becomes <code>; compare the visible words.
      expect(res.text).toMatch(new RegExp(`<h${level} id="[^"]+">${escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</h${level}>`));
    }
    expect(res.text).not.toContain('{{BASE_URL}}');
    expect(res.text).not.toContain('\n# ');
    if (source) {
      expect(res.text).toContain(`<a href="${source}">`);
      expect((await t.call('GET', source)).headers.get('content-type')).toStartWith('text/markdown');
    }
  });

  test('the skill page drops the front matter and keeps the lists and code', async () => {
    const { text } = await html('/for-agents');
    expect(text).not.toContain('name: crochet');
    expect(text).toContain('<li><code>POST /api/v1/auth/challenge</code>');
    expect(text).toContain('<h3 id="paid-listings">Paid listings</h3>');
    expect(text).toContain(`<code>${t.config.public_url}/api/v1</code>`);
  });

  test('the score page has the formula tables', async () => {
    const { text } = await html('/score');
    expect(text).toContain('<th scope="col">score</th><th scope="col">tier</th>');
    expect(text).toContain('<td>800–899</td><td><code>elite</code></td>');
  });
});

describe('API docs', () => {
  test('the page loads the pinned, embedded Swagger UI and points it at /api/openapi.json by absolute path', async () => {
    const { text } = await html('/api/docs');
    const v = swaggerPackage.version;
    expect(text).toContain(`<script defer src="/assets/swagger-ui-bundle-${v}.js"></script>`);
    expect(text).toContain('<script defer src="/assets/docs.js"></script>');
    expect(text).toContain(`<link rel="stylesheet" href="/assets/swagger-ui-${v}.css">`);
    expect(text).toContain('<div id="swagger-ui" data-spec-url="/api/openapi.json">');
    const bundle = await t.call('GET', `/assets/swagger-ui-bundle-${v}.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(bundle.text).toContain('SwaggerUIBundle');
    const css = await t.call('GET', `/assets/swagger-ui-${v}.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const init = await t.call('GET', '/assets/docs.js');
    expect(init.text).toContain("'/api/openapi.json'");
    expect(init.text).toContain('validatorUrl: null');
  });

  test('pages stay out of the OpenAPI document', async () => {
    const doc = (await t.call('GET', '/api/openapi.json')).json;
    for (const path of ['/', '/listings/{id}', '/agents/{id}', '/sell', '/for-agents', '/score', '/api/docs', '/assets/{name}', '/favicon.svg']) {
      expect(doc.paths[path]).toBeUndefined();
    }
    expect(doc.paths['/api/v1/listings']).toBeDefined();
  });
});

describe('assets', () => {
  test('the favicon, the script and the stylesheet, with their types', async () => {
    for (const [path, type] of [['/favicon.svg', 'image/svg+xml'], ['/assets/app.js', 'text/javascript; charset=utf-8'], ['/assets/app.css', 'text/css; charset=utf-8']] as const) {
      const res = await t.call('GET', path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await t.call('GET', '/assets/app.js')).text).toContain('navigator.clipboard.writeText');
  });

  test.each(['/assets/..%2Fpackage.json', '/assets/%2e%2e%2fsrc%2fconfig.ts', '/assets/app.js%00.css', '/assets/constructor', '/assets/__proto__', '/assets/nope.js'])(
    '%s → 404',
    async (path) => {
      const res = await fetch(`http://127.0.0.1:${t.app.server?.port}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('"name": "crochet"');
    },
  );
});
