// The listing and agent pages in chromium: everything a buyer needs is shown (price as people read
// it, networks, gateway URL with a working copy button, examples, provider score, ratings, reviews,
// usage), seller text stays text, and the private endpoint never reaches the page.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { atEveryWidth, VIEWPORTS, type Browser, type TestPage } from '../support/browser.ts';
import type { Page } from 'playwright-core';
import { callsOf, ordered, starsText } from '../support/browser-expect.ts';
import { SEED_NETWORKS, STUB_DELAY_MS, type SeededListing, type SeededMarket } from '../support/browser-seed.ts';
import { startBrowserSession, type BrowserSession } from '../support/browser-session.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let session: BrowserSession;
let market: SeededMarket;
let browser: Browser;
beforeAll(async () => {
  session = await startBrowserSession();
  ({ market, browser } = session);
});
afterAll(() => session?.stop());

const listing = (name: string): SeededListing => market.listings.find((l) => l.name === name)!;
/** A seeded date reads as the seeding day, or the next one when a run crosses midnight UTC. */
const isSeedDay = (datetime: string | null) => [market.seededAt, new Date()].some((d) => datetime?.startsWith(d.toISOString().slice(0, 10)));
/** The usage <dl> as { Calls: '4', 'Success rate': '50%', … }. */
const usage = (page: Page) =>
  page.getByTestId('usage').evaluate((dl) => Object.fromEntries([...dl.querySelectorAll('dt')].map((dt) => [dt.textContent?.trim(), dt.nextElementSibling?.textContent?.trim()])));
// The stub's host with its slash: a bare "127.0.0.1:4029" would also match this server's ":40299".
const privateMarkers = (l: SeededListing) => [l.privateUrl, `${new URL(l.privateUrl).host}/`, 'do-not-show', '/private/'];

test('fetched without JavaScript, every active listing page holds its name, price and gateway URL, and no private endpoint', async () => {
  for (const l of market.active) {
    const res = await fetch(`${market.baseUrl}/listings/${l.slug}`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toStartWith('text/html');
    const html = await res.text();
    const escaped = l.name.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    expect(html.includes(escaped) || html.includes(escaped.replaceAll('"', '&quot;')) || html.includes(escaped.replaceAll('"', '&#34;'))).toBe(true);
    expect(html).toContain(l.price === '0' ? 'Free' : `$${Number(l.price).toFixed(2)} / call`);
    expect(html).toContain(l.gatewayUrl);
    for (const marker of privateMarkers(l)) expect(html).not.toContain(marker);
  }
  // Seller-written markup is text, never markup.
  const quotes = await (await fetch(`${market.baseUrl}/listings/${listing('Quotes & <b>bold</b> "markup"').slug}`)).text();
  expect(quotes).not.toContain('<b>bold</b>');
  expect(quotes).not.toContain('<i>HTML</i>');
});

test('paused and draft listings have no public page', async () => {
  for (const name of ['Retired oracle', 'Unfinished draft']) {
    const res = await fetch(`${market.baseUrl}/listings/${listing(name).slug}`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
  }
});

let tabs: TestPage[];
beforeAll(async () => {
  tabs = await Promise.all(VIEWPORTS.map((v) => browser.newPage(v)));
});
/** A test run in one tab per width at once. */
const both = (name: string, check: (page: TestPage) => Promise<void>) => test(`${name} (1280 and 390 px)`, () => atEveryWidth(tabs, check));

both('a paid listing: description, category, tags, price in USDC on this instance\'s networks, gateway URL, examples', async (page) => {
  const l = listing('Document summarizer');
  const res = await page.goto(`${market.baseUrl}/listings/${l.slug}`);
  expect(res?.status()).toBe(200);
  expect((await page.getByRole('heading', { level: 1 }).textContent())?.trim()).toBe(l.name);
  const main = page.getByRole('main');
  const text = (await main.innerText()).replace(/\s+/g, ' ');
  expect(text).toContain(l.description);
  expect(text).toContain(market.categories.find((c) => c.slug === l.category)!.name);
  for (const tag of l.tags) expect(text).toContain(tag);
  expect(text).toContain('$1.50 / call');
  expect(text).toContain('USDC');
  for (const network of SEED_NETWORKS) expect(text).toContain(network);
  expect((await page.getByTestId('gateway-url').textContent())?.trim()).toBe(l.gatewayUrl);
  // Ready-to-run examples: a plain call and the 402 → pay → retry flow, in curl and fetch.
  for (const needle of ['curl', 'fetch(', '402', 'X-Crochet-Relay-Request-Id', 'X-Crochet-Payment-Tx']) expect(text.toLowerCase()).toContain(needle.toLowerCase());
  expect(text.split(l.gatewayUrl).length - 1).toBeGreaterThanOrEqual(3);
  expect((await page.getByTestId('price').innerText()).trim()).toBe('$1.50 / call');
  // No call was made to this listing: nothing measured, never "0 ms".
  expect(await usage(page)).toEqual({ Calls: '0', 'Success rate': 'not measured yet', 'Median latency': 'not measured yet' });
  for (const marker of privateMarkers(l)) expect(await page.content()).not.toContain(marker);
});

// One tab after the other: the tabs share the browser's clipboard.
test('the copy button puts the gateway URL on the clipboard (1280 then 390 px)', async () => {
  const l = listing('Document summarizer');
  for (const page of tabs) {
    await page.goto(`${market.baseUrl}/listings/${l.slug}`);
    await page.evaluate(() => navigator.clipboard.writeText('nothing yet'));
    await page.getByRole('button', { name: 'Copy gateway URL' }).click();
    await page.waitForFunction(async (url) => (await navigator.clipboard.readText()) === url, l.gatewayUrl, { timeout: 10_000 });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(l.gatewayUrl);
  }
});

both('a reviewed free listing: provider card with the Crochet Score, rating with count, reviews, usage', async (page) => {
  const l = listing('Weather forecast API');
  const seller = market.sellers[l.seller]!;
  await page.goto(`${market.baseUrl}/listings/${l.slug}`);
  const card = page.getByTestId('provider-card');
  const cardText = (await card.innerText()).replace(/\s+/g, ' ');
  expect(cardText).toContain(seller.name);
  expect(cardText).toContain('Crochet Score');
  expect(cardText).toContain(String(seller.score));
  expect(cardText.toLowerCase()).toContain(seller.tier);
  expect(await card.locator('a[href="/score"]').count()).toBeGreaterThan(0);
  expect(await card.locator(`a[href="/agents/${seller.id}"]`).count()).toBeGreaterThan(0);
  expect(await card.getByText(/✓\s*Verified/).count()).toBe(seller.verified ? 1 : 0);

  expect((await page.getByTestId('price').innerText()).trim()).toBe('Free');
  const means = l.reviews!.map((rv) => (rv.stars[0] + rv.stars[1] + rv.stars[2]) / 3);
  const average = (means.reduce((a, b) => a + b, 0) / means.length).toFixed(1);
  expect((await page.getByTestId('rating').first().innerText()).replace(/\s+/g, ' ')).toContain(`${average} · ${l.reviews!.length} reviews`);
  // 10 calls, all answered, median latency at least the stub's delay (never "not measured").
  const u = await usage(page);
  expect(u['Calls']).toBe(String(callsOf(l)));
  expect(u['Success rate']).toBe('100%');
  expect(u['Median latency']).toMatch(/^\d+ ms$/);
  expect(parseInt(u['Median latency']!, 10)).toBeGreaterThanOrEqual(STUB_DELAY_MS - 5);

  const reviews = page.getByRole('region', { name: /reviews/i }).getByRole('article');
  expect(await reviews.count()).toBe(l.reviews!.length);
  for (const rv of l.reviews!) {
    const one = reviews.filter({ hasText: rv.title });
    expect(await one.count()).toBe(1);
    expect(await one.innerText()).toContain(market.buyers[rv.buyer]!.name);
    expect(await one.getByText(starsText(rv), { exact: true }).count()).toBe(1);
    expect(isSeedDay(await one.locator('time').getAttribute('datetime'))).toBe(true);
  }
});

both('usage with failed calls shows the success rate', async (page) => {
  await page.goto(`${market.baseUrl}/listings/${listing('Code linter').slug}`);
  expect(await usage(page)).toMatchObject({ Calls: '4', 'Success rate': '50%' });
});

both('seller markup in a name is shown as text', async (page) => {
  const l = listing('Quotes & <b>bold</b> "markup"');
  await page.goto(`${market.baseUrl}/listings/${l.slug}`);
  expect((await page.getByRole('heading', { level: 1 }).textContent())?.trim()).toBe(l.name);
  expect(await page.locator('main b, main i').filter({ hasText: /^(bold|HTML)$/ }).count()).toBe(0);
});

both('the agent page shows the profile, its score components, its active listings and the reviews it received', async (page) => {
  const seller = market.sellers[0]!;
  const res = await page.goto(`${market.baseUrl}/agents/${seller.id}`);
  expect(res?.status()).toBe(200);
  expect((await page.getByRole('heading', { level: 1 }).textContent())?.trim()).toBe(seller.name);
  const text = (await page.getByRole('main').innerText()).replace(/\s+/g, ' ');
  expect(text).toMatch(/\bagent\b/i);
  expect(text).toMatch(/member since/i);
  expect(isSeedDay(await page.locator('main time').first().getAttribute('datetime'))).toBe(true);
  const score = page.getByTestId('agent-score');
  expect(await score.innerText()).toContain(`Crochet Score ${seller.score}`);
  // Each component explained, with the value the API computed.
  for (const [component, value] of Object.entries(seller.components)) {
    const row = score.getByRole('row').filter({ has: page.getByRole('rowheader', { name: component, exact: false }) });
    expect(await row.count()).toBe(1);
    expect(await row.getByRole('cell').first().innerText()).toBe(String(value));
    expect((await row.innerText()).length).toBeGreaterThan(component.length + 20);
  }
  const own = market.active.filter((l) => l.seller === 0);
  const listed = await page.getByTestId('agent-listings').getByTestId('listing-card').evaluateAll((cards) => cards.map((c) => c.querySelector('a[href^="/listings/"]')?.textContent?.trim()));
  expect(listed).toEqual(ordered(own, 'newest').map((l) => l.name));
  const titles = await page.getByTestId('review').locator('h3').allInnerTexts();
  const expectedTitles = own.flatMap((l) => (l.reviews ?? []).map((rv) => rv.title));
  expect(titles.map((t) => t.replace(/^.*out of 5 stars\s*/s, '').trim()).sort()).toEqual(expectedTitles.sort());
  // Reviews of other sellers' listings are not this agent's.
  expect(text).not.toContain('Often down');
});

test('no console error or uncaught exception in any tab', () => {
  expect(tabs.flatMap((t) => t.errors)).toEqual([]);
});
