// Every public page in chromium at desktop and phone widths: the right status, security headers,
// no console error, no serious or critical axe-core violation, headings in order, a visible focus,
// a header that stays on one line at 390 px for guests (a signed-in person's account links may take
// a second row on a phone, each navigation still on one line), HTML 404s, the API docs rendered with the network
// blocked, and a screenshot of each under test/.cache/screenshots/ for a reviewer.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Page } from 'playwright-core';
import { atEveryWidth, axeViolations, saveScreenshot, VIEWPORTS, type Browser, type TestPage, type Viewport } from '../support/browser.ts';
import type { SeededMarket } from '../support/browser-seed.ts';
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

type PageCase = { name: string; path: () => string; status: number; signedIn?: true };
const slug = (name: string) => market.listings.find((l) => l.name === name)!.slug;
const PAGES: PageCase[] = [
  { name: 'home', path: () => '/', status: 200 },
  { name: 'search-results', path: () => '/?q=weather', status: 200 },
  { name: 'search-empty', path: () => '/?q=zeppelin', status: 200 },
  { name: 'listing-paid', path: () => `/listings/${slug('Document summarizer')}`, status: 200 },
  { name: 'listing-reviewed', path: () => `/listings/${slug('Weather forecast API')}`, status: 200 },
  { name: 'agent', path: () => `/agents/${market.sellers[0]!.id}`, status: 200 },
  { name: 'sell', path: () => '/sell', status: 200 },
  { name: 'for-agents', path: () => '/for-agents', status: 200 },
  { name: 'score', path: () => '/score', status: 200 },
  { name: 'api-docs', path: () => '/api/docs', status: 200 },
  { name: 'not-found', path: () => '/no-such-page', status: 404 },
  { name: 'listing-not-found', path: () => '/listings/no-such-listing', status: 404 },
  { name: 'agent-not-found', path: () => '/agents/0193a0b4-0000-7000-8000-000000000000', status: 404 },
  { name: 'signin', path: () => '/signin', status: 200 },
  { name: 'signup', path: () => '/signup', status: 200 },
  // The first-run form, at the URL the server logged (opening it does not use the token).
  { name: 'setup', path: () => setupPath(), status: 200 },
  { name: 'setup-closed', path: () => '/setup?token=not-the-token', status: 403 },
];

/** Pages of a signed-in operator (the same chromium, once the setup form has made the admin). */
const SIGNED_IN_PAGES: PageCase[] = [
  { name: 'home-signed-in', path: () => '/', status: 200 },
  { name: 'dashboard-empty', path: () => '/dashboard', status: 200 },
  { name: 'dashboard-claim', path: () => '/dashboard/claim', status: 200 },
  { name: 'admin-overview', path: () => '/admin', status: 200 },
  { name: 'admin-listings', path: () => '/admin/listings', status: 200 },
  { name: 'admin-profiles', path: () => '/admin/profiles', status: 200 },
  { name: 'admin-categories', path: () => '/admin/categories', status: 200 },
  { name: 'admin-settings', path: () => '/admin/settings', status: 200 },
  { name: 'admin-refunds', path: () => '/admin/refunds', status: 200 },
].map((c) => ({ ...c, signedIn: true as const }));

/** Path and query of the one-time setup URL in the server's log. */
function setupPath(): string {
  const found = /"setup_url":"([^"]+)"/.exec(market.server.log());
  if (!found) throw new Error('no setup URL in the server log');
  const url = new URL(found[1]!);
  return url.pathname + url.search;
}

/** Heading levels in document order; each may go at most one level deeper than the one before. */
async function headingLevels(page: Page): Promise<number[]> {
  return page.locator('h1, h2, h3, h4, h5, h6').evaluateAll((hs) => hs.filter((h) => (h as HTMLElement).offsetParent !== null || h.getClientRects().length > 0).map((h) => Number(h.tagName[1])));
}

/** The header's links and buttons: their vertical extents (one line → they share a row) and how many line boxes each spans. */
async function headerLayout(page: Page) {
  return page.getByRole('banner').evaluate((header) => {
    const links = [...header.querySelectorAll('a, button')].filter((el) => el.getClientRects().length > 0);
    const navRows = [...header.querySelectorAll('nav')].map((nav) => {
      const els = [...nav.querySelectorAll('a, button')].filter((el) => el.getClientRects().length > 0);
      return { tops: els.map((el) => el.getBoundingClientRect().top), bottoms: els.map((el) => el.getBoundingClientRect().bottom) };
    });
    return {
      navRows,
      tops: links.map((el) => el.getBoundingClientRect().top),
      bottoms: links.map((el) => el.getBoundingClientRect().bottom),
      lineBoxes: links.map((el) => el.getClientRects().length),
      overflows: header.scrollWidth > header.clientWidth,
      pageOverflows: document.documentElement.scrollWidth > window.innerWidth,
    };
  });
}

/** Everything one page must satisfy at one width; throws on the first failed expectation. */
async function checkPage(page: TestPage, c: PageCase, viewport: Viewport) {
  page.errors.length = 0;
  const res = await page.goto(market.baseUrl + c.path());
  expect(res?.status()).toBe(c.status);
  const headers = res!.headers();
  expect(headers['content-type']).toStartWith('text/html');
  const csp = headers['content-security-policy'] ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src [^;]*'self'/);
  expect(csp).not.toMatch(/script-src [^;]*'unsafe-inline'/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBeTruthy();

  if (c.name === 'api-docs') {
    // Rendered by the embedded docs UI from /api/openapi.json, with every off-machine request aborted.
    await page.locator('.opblock-summary-path', { hasText: '/api/v1/listings' }).first().waitFor({ state: 'visible', timeout: 45_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
  }

  // Before the checks below, so a reviewer sees a failing page too.
  await saveScreenshot(page, c.name, viewport);

  expect(await page.locator('html').getAttribute('lang')).toBeTruthy();
  expect((await page.title()).trim()).not.toBe('');
  expect(await page.locator('link[rel~="icon"]').count()).toBeGreaterThan(0);
  // Swagger UI renders its own <main id="operations"> inside the page's (axe rates that moderate).
  expect(await page.getByRole('main').count()).toBe(c.name === 'api-docs' ? 2 : 1);
  if (c.name !== 'api-docs') {
    const levels = await headingLevels(page);
    expect(levels[0]).toBe(1);
    expect(levels.filter((l) => l === 1)).toHaveLength(1);
    for (let i = 1; i < levels.length; i++) expect(levels[i]!).toBeLessThanOrEqual(levels[i - 1]! + 1);
  }
  if (c.status === 404) expect(await page.getByRole('main').locator('a[href="/"]').count()).toBeGreaterThan(0);
  if (c.name !== 'api-docs') {
    // Links in running text are told apart without colour: underlined.
    const plain = await page.locator('main p a, main li > a, main dd a').evaluateAll((links) =>
      links.filter((a) => !getComputedStyle(a).textDecorationLine.includes('underline')).map((a) => a.outerHTML.slice(0, 120)),
    );
    expect(plain).toEqual([]);
  }

  // Guests are offered sign-in and sign-up; a signed-in person signs out with a POST button, never a link.
  const banner = page.getByRole('banner');
  if (c.signedIn) {
    expect(await page.locator('meta[name="csrf-token"]').getAttribute('content')).toMatch(/^[0-9a-f]{64}$/);
    expect(await banner.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    expect(await banner.getByRole('link', { name: 'Sign out' }).count()).toBe(0);
    expect(await banner.getByRole('link', { name: 'Admin' }).count()).toBe(1);
  } else {
    expect(await page.locator('meta[name="csrf-token"]').count()).toBe(0);
    for (const name of ['Sign in', 'Sign up']) expect(await banner.getByRole('link', { name }).count()).toBe(1);
  }

  const layout = await headerLayout(page);
  expect(layout.tops.length).toBeGreaterThan(1);
  // Every control overlaps one horizontal line: none was pushed onto a second row. Signed in (up
  // to seven controls), each navigation keeps to one row and the account one may sit below.
  const oneRow = (r: { tops: number[]; bottoms: number[] }) => expect(Math.max(...r.tops)).toBeLessThan(Math.min(...r.bottoms));
  if (c.signedIn && viewport.width < 420) layout.navRows.forEach(oneRow);
  else oneRow(layout);
  expect(layout.lineBoxes.every((n) => n === 1)).toBe(true);
  expect(layout.overflows).toBe(false);
  expect(layout.pageOverflows).toBe(false);

  // The first Tab lands on a control with a visible focus indicator.
  await page.keyboard.press('Tab');
  const focus = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    return { outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, shadow: s.boxShadow !== 'none' };
  });
  expect(focus).not.toBeNull();
  expect(focus!.outline || focus!.shadow).toBe(true);

  expect(await axeViolations(page)).toEqual([]);
  expect(page.errors).toEqual([]);
}

let tabs: TestPage[];
beforeAll(async () => {
  tabs = await Promise.all(VIEWPORTS.map((v) => browser.newPage(v)));
});

for (const c of PAGES) {
  test(
    `${c.name} at ${VIEWPORTS.map((v) => v.width).join(' and ')} px: status, headers, accessibility, layout, screenshot`,
    () => atEveryWidth(tabs, (page, viewport) => checkPage(page, c, viewport)),
    // Axe over the docs page's DOM takes seconds, far more on a loaded machine.
    180_000,
  );
}

test('the operator creates the admin account from the logged setup URL (then every page has the signed-in header)', async () => {
  const page = tabs[0]!;
  await page.goto(market.baseUrl + setupPath());
  await page.getByLabel('Your name').fill('Every Page Operator');
  await page.getByLabel('Email').fill('ops@every-page.test');
  await page.getByLabel('Password').fill('operator password 1');
  await page.getByRole('button', { name: 'Create the admin account' }).click();
  await page.waitForURL(`${market.baseUrl}/admin`);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Operator console');
});

for (const c of SIGNED_IN_PAGES) {
  test(
    `signed in: ${c.name} at ${VIEWPORTS.map((v) => v.width).join(' and ')} px: status, headers, accessibility, layout, screenshot`,
    () => atEveryWidth(tabs, (page, viewport) => checkPage(page, c, viewport)),
    180_000,
  );
}

test('no page attempted a request off this machine (fonts, CDNs, analytics)', () => {
  expect(browser.offLoopbackRequests).toEqual([]);
});

test('API clients keep the JSON error envelope for unknown routes and listings', async () => {
  for (const [path, accept] of [['/api/v1/no-such-route', 'text/html'], ['/api/v1/listings/no-such-listing', 'application/json'], ['/listings/no-such-listing', 'application/json']] as const) {
    const res = await fetch(market.baseUrl + path, { headers: { accept } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toStartWith('application/json');
    const body = (await res.json()) as { success: boolean; error: { code: string } };
    expect(body.success).toBe(false);
    expect(body.error.code).toBeTruthy();
  }
});
