// The home page, driven in chromium the way a person uses it: the search form, category links,
// filters, each sort and pagination show the right listings in the right order at both widths.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Page } from 'playwright-core';
import { atEveryWidth, VIEWPORTS, type Browser, type TestPage } from '../support/browser.ts';
import { ordered, pageOf, shownNames, type Sort } from '../support/browser-expect.ts';
import type { SeededListing, SeededMarket } from '../support/browser-seed.ts';
import { startBrowserSession, type BrowserSession } from '../support/browser-session.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

/** Results per page on the home page (the API's default). */
const PAGE_SIZE = 20;
const SORTS: Sort[] = ['newest', 'popular', 'price_low', 'price_high', 'rating'];

let session: BrowserSession;
let market: SeededMarket;
let browser: Browser;
beforeAll(async () => {
  session = await startBrowserSession();
  ({ market, browser } = session);
});
afterAll(() => session?.stop());

const names = (ls: SeededListing[]) => ls.map((l) => l.name);

/** Submits the search form and waits for the results page whose query holds `params`. */
async function submitSearch(page: Page, params: Record<string, string>) {
  const arrived = (u: URL) => u.pathname === '/' && Object.entries(params).every(([k, v]) => u.searchParams.get(k) === v);
  await Promise.all([page.waitForURL(arrived), page.getByRole('button', { name: 'Search', exact: true }).click()]);
}

let tabs: TestPage[];
beforeAll(async () => {
  tabs = await Promise.all(VIEWPORTS.map((v) => browser.newPage(v)));
});
/** A test run in one tab per width at once. */
const both = (name: string, check: (page: TestPage) => Promise<void>) => test(`${name} (1280 and 390 px)`, () => atEveryWidth(tabs, check));

both('the first page lists the newest active listings; Next and Previous page through the rest', async (page) => {
  const newest = ordered(market.active, 'newest');
  const res = await page.goto(`${market.baseUrl}/`);
  expect(res?.status()).toBe(200);
  expect(await shownNames(page)).toEqual(names(pageOf(newest, 1, PAGE_SIZE)));
  const pagination = page.getByRole('navigation', { name: 'Pagination' });
  await Promise.all([page.waitForURL(/[?&]page=2/), pagination.getByRole('link', { name: /next/i }).click()]);
  expect(await shownNames(page)).toEqual(names(pageOf(newest, 2, PAGE_SIZE)));
  await Promise.all([page.waitForURL((u) => !/[?&]page=2/.test(u.search)), pagination.getByRole('link', { name: /previous/i }).click()]);
  expect(await shownNames(page)).toEqual(names(pageOf(newest, 1, PAGE_SIZE)));
});

both('a search typed in the form finds name matches before a tag-only match, and sorts on request', async (page) => {
  await page.goto(`${market.baseUrl}/`);
  await page.getByRole('search').getByLabel('Search').fill('weather');
  await submitSearch(page, { q: 'weather' });
  const shown = await shownNames(page);
  // Two listings have "weather" in their name, one only in its tags.
  expect([...shown].sort()).toEqual(['Agent planner', 'Weather forecast API', 'Weather history archive']);
  expect(shown.at(-1)).toBe('Agent planner');
  expect(await page.getByLabel('Search').inputValue()).toBe('weather');

  await page.getByLabel('Sort').selectOption('newest');
  await submitSearch(page, { q: 'weather', sort: 'newest' });
  const matches = market.active.filter((l) => ['Weather forecast API', 'Weather history archive', 'Agent planner'].includes(l.name));
  expect(await shownNames(page)).toEqual(names(ordered(matches, 'newest')));
});

both('a search with no match says so and keeps the form with the query', async (page) => {
  await page.goto(`${market.baseUrl}/`);
  await page.getByLabel('Search').fill('zeppelin submarine');
  await submitSearch(page, { q: 'zeppelin submarine' });
  expect(await shownNames(page)).toEqual([]);
  await expect(page.getByText(/no listings/i).first().isVisible()).resolves.toBe(true);
  expect(await page.getByRole('search').getByLabel('Search').inputValue()).toBe('zeppelin submarine');
});

both('a category link (by name, not slug) shows that category', async (page) => {
  const finance = market.categories.find((c) => c.slug === 'finance')!;
  expect(finance.name).not.toBe('finance');
  await page.goto(`${market.baseUrl}/`);
  const nav = page.getByRole('navigation', { name: 'Categories' });
  await Promise.all([page.waitForURL(/category=finance/), nav.getByRole('link', { name: finance.name, exact: true }).click()]);
  expect(await shownNames(page)).toEqual(names(ordered(market.active.filter((l) => l.category === 'finance'), 'newest')));
});

both('filters: free only, a minimum score, verified only', async (page) => {
  await page.goto(`${market.baseUrl}/`);
  await page.getByLabel('Price').selectOption('free');
  await submitSearch(page, { pricing_model: 'free' });
  expect(await shownNames(page)).toEqual(names(ordered(market.active.filter((l) => l.price === '0'), 'newest')));

  // A threshold between the sellers' recomputed scores keeps some sellers and drops others.
  const scores = market.sellers.map((s) => s.score).sort((a, b) => a - b);
  expect(scores[0]).toBeLessThan(scores[2]!);
  const threshold = scores[1]!;
  const kept = new Set(market.sellers.filter((s) => s.score >= threshold).map((s) => s.id));
  await page.goto(`${market.baseUrl}/`);
  await page.getByLabel('Minimum score').fill(String(threshold));
  await submitSearch(page, { min_score: String(threshold) });
  const expected = ordered(market.active.filter((l) => kept.has(l.sellerId)), 'newest');
  expect(expected.length).toBeGreaterThan(0);
  expect(expected.length).toBeLessThan(market.active.length);
  expect(await shownNames(page)).toEqual(names(pageOf(expected, 1, PAGE_SIZE)));

  await page.goto(`${market.baseUrl}/`);
  await page.getByLabel('Verified providers only').check();
  await submitSearch(page, { verified: 'true' });
  const verified = new Set(market.sellers.filter((s) => s.verified).map((s) => s.id));
  expect(await shownNames(page)).toEqual(names(pageOf(ordered(market.active.filter((l) => verified.has(l.sellerId)), 'newest'), 1, PAGE_SIZE)));
});

for (const sort of SORTS) {
  both(`sort ${sort} through the form`, async (page) => {
    await page.goto(`${market.baseUrl}/`);
    await page.getByLabel('Sort').selectOption(sort);
    await submitSearch(page, { sort });
    expect(new URL(page.url()).searchParams.get('sort')).toBe(sort);
    expect(await shownNames(page)).toEqual(names(pageOf(ordered(market.active, sort), 1, PAGE_SIZE)));
  });
}

both('best rated: many 4.67s outrank a single 5-star review', async (page) => {
  await page.goto(`${market.baseUrl}/?sort=rating`);
  const shown = await shownNames(page);
  expect(shown.indexOf('Weather forecast API')).toBeLessThan(shown.indexOf('Sentiment scorer'));
});

both('a bad query shows an error with the search form still there', async (page) => {
  const res = await page.goto(`${market.baseUrl}/?sort=bogus`);
  expect(res?.status()).toBe(400);
  expect(await page.getByRole('alert').first().isVisible()).toBe(true);
  expect(await page.getByRole('search').getByLabel('Search').isVisible()).toBe(true);
  expect(await shownNames(page)).toEqual([]);
});

test('no console error or uncaught exception in any tab', () => {
  expect(tabs.flatMap((t) => t.errors)).toEqual([]);
});
