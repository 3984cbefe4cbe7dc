// The operator in chromium: opens the one-time setup URL read from the server's log, creates the
// admin, suspends a listing (search hides it, its gateway answers 409 LISTING_SUSPENDED over real
// HTTP) and restores it, suspends and restores a profile (its key gets 403 PROFILE_SUSPENDED), is
// refused retiring a category in use (the 409 message on the page), sets the fee, marks a refund
// paid, and finds each action in the overview's audit log. A guest is sent to sign in and a
// signed-in person who is not the operator gets a 404.
import { Database } from 'bun:sqlite';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/bun-sqlite';
import { paymentIntents } from '../../src/modules/payments/schema.ts';
import { httpCaller, registerAgent } from '../support/app.ts';
import { axeViolations, launchBrowser, saveReadmeScreenshot, saveScreenshot, VIEWPORTS, type Browser, type TestPage } from '../support/browser.ts';
import { startServerProcess, type ServerProcess } from '../support/browser-server.ts';
import { signUp } from '../support/humans.ts';
import { createListing } from '../support/listings.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

allowSlowSetup();

const ROUTE = { network: 'eip155:84532', rpc_url: 'http://127.0.0.1:9/?key=provider-secret', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', decimals: 6, confirmations: 1, treasury: '0x1111111111111111111111111111111111111111' };
let server: ServerProcess;
let browser: Browser;
let page: TestPage;
let base: string;
let stub: ReturnType<typeof Bun.serve>;
let buyerKey: string;
let buyerId: string;
let target: { id: string; slug: string; name: string };
const call = () => httpCaller(base);

beforeAll(async () => {
  [server, browser] = await Promise.all([startServerProcess({ CROCHET_PAYMENT_ROUTES: JSON.stringify([ROUTE]) }), launchBrowser()]);
  base = server.baseUrl;
  stub = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => Response.json({ ok: true }) });
  const seller = await registerAgent(call(), evmWallet(), 'Console Seller');
  const buyer = await registerAgent(call(), solanaWallet(), 'Console Buyer');
  buyerKey = buyer.key;
  buyerId = buyer.profile.id;
  const created = await createListing(call(), seller.key, { name: 'Suspendable tides', description: 'Tide tables by harbour.', category: 'data', private_endpoint_url: `http://127.0.0.1:${stub.port}/tides` });
  target = { id: created.id, slug: created.slug, name: 'Suspendable tides' };
  page = await browser.newPage(VIEWPORTS[0]);
});

afterAll(async () => {
  await browser?.close();
  stub?.stop(true);
  await server?.stop();
});

async function accessible(p: TestPage) {
  expect(await axeViolations(p)).toEqual([]);
  expect(p.errors).toEqual([]);
}

const gatewayStatus = async () => {
  const res = await call()('POST', `/api/v1/gateway/${target.id}`, { key: buyerKey, rawBody: '{"harbour":"Brest"}', headers: { 'content-type': 'application/json' } });
  return [res.status, res.json?.error?.code ?? null];
};
const searchFinds = async () => ((await call()('GET', '/api/v1/listings?q=tides')).json.data as { id: string }[]).some((l) => l.id === target.id);
const auditActions = async () => page.getByTestId('audit-log').locator('tbody th code').allTextContents();

test('a guest asking for the console is sent to sign in; a person who is not the operator gets 404', async () => {
  const guest = await fetch(`${base}/admin/listings`, { redirect: 'manual' });
  expect(guest.status).toBe(303);
  expect(guest.headers.get('location')).toBe('/signin?next=%2Fadmin%2Flistings');
  const person = await signUp(call());
  for (const path of ['/admin', '/admin/refunds']) {
    const res = await fetch(base + path, { headers: { cookie: person.cookie }, redirect: 'manual' });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('Operator console');
  }
  // Nor can they post to it, even with their own valid CSRF token.
  const forged = await fetch(`${base}/admin/listings/${target.id}/status`, { method: 'POST', redirect: 'manual', headers: { cookie: person.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf_token=${person.csrf}&status=suspended` });
  expect(forged.status).toBe(404);
  expect(await gatewayStatus()).toEqual([200, null]);
});

test('the operator opens the setup URL from the server log and creates the admin account; the URL then stops working', async () => {
  const logged = /"setup_url":"([^"]+)"/.exec(server.log());
  expect(logged).not.toBeNull();
  const setupUrl = logged![1]!;
  expect(setupUrl).toStartWith(`${base}/setup?token=`);
  await page.goto(setupUrl);
  await accessible(page);
  await page.getByLabel('Your name').fill('Olive Operator');
  await page.getByLabel('Email').fill('olive@operator.test');
  await page.getByLabel('Password').fill('operator password 1');
  await page.getByRole('button', { name: 'Create the admin account' }).click();
  await page.waitForURL(`${base}/admin`);
  expect(await page.getByRole('banner').getByRole('link', { name: 'Admin' }).count()).toBe(1);
  const health = await page.getByTestId('admin-health').innerText();
  expect(health).toMatch(/Status\s+ok/);
  expect(health).toMatch(/Database\s+ok/);
  expect(await page.getByTestId('ledger-head').textContent()).toMatch(/^\d+:/);
  // Payment routes show the RPC host only: the rest of its URL may hold a provider key.
  const routes = await page.getByTestId('payment-routes').innerText();
  expect(routes).toContain('127.0.0.1:9');
  expect(await page.content()).not.toContain('provider-secret');
  expect(await auditActions()).toEqual(['admin.setup']);
  await accessible(page);
  // Used once: the same URL is closed now.
  const again = await fetch(setupUrl);
  expect(again.status).toBe(403);
});

test('suspend a listing: search hides it and its gateway answers 409 LISTING_SUSPENDED; restore brings it back', async () => {
  await page.goto(`${base}/admin/listings`);
  const row = page.locator(`[data-testid="admin-listing"][data-id="${target.id}"]`);
  await row.getByRole('button', { name: `Suspend ${target.name}` }).click();
  await page.waitForURL(`${base}/admin/listings?done=suspended`);
  expect(await page.getByTestId('notice').textContent()).toBe('Suspended.');
  expect(await row.getByTestId('status').textContent()).toBe('suspended');
  expect(await searchFinds()).toBe(false);
  expect(await gatewayStatus()).toEqual([409, 'LISTING_SUSPENDED']);
  expect((await fetch(`${base}/listings/${target.slug}`, { headers: { accept: 'text/html' } })).status).toBe(404);
  await accessible(page);

  await row.getByRole('button', { name: `Restore ${target.name}` }).click();
  await page.waitForURL(`${base}/admin/listings?done=restored`);
  expect(await row.getByTestId('status').textContent()).toBe('active');
  expect(await searchFinds()).toBe(true);
  expect(await gatewayStatus()).toEqual([200, null]);
});

test('suspend a profile: its key is refused with 403 PROFILE_SUSPENDED; restore lets it back in', async () => {
  await page.goto(`${base}/admin/profiles`);
  const row = page.locator(`[data-testid="admin-profile"][data-id="${buyerId}"]`);
  await row.getByRole('button', { name: 'Suspend Console Buyer' }).click();
  await page.waitForURL(`${base}/admin/profiles?done=suspended`);
  expect(await row.getByTestId('status').textContent()).toBe('suspended');
  expect(await gatewayStatus()).toEqual([403, 'PROFILE_SUSPENDED']);
  await accessible(page);
  await row.getByRole('button', { name: 'Restore Console Buyer' }).click();
  await page.waitForURL(`${base}/admin/profiles?done=restored`);
  expect(await row.getByTestId('status').textContent()).toBe('active');
  expect(await gatewayStatus()).toEqual([200, null]);
});

test('categories: retiring one in use is refused with the 409 message on the page; add, rename and retire an unused one', async () => {
  await page.goto(`${base}/admin/categories`);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/admin/categories/data')),
    page.locator('[data-testid="admin-category"][data-slug="data"]').getByRole('button', { name: /^Retire/ }).click(),
  ]);
  expect(answer.status()).toBe(409);
  const refused = page.getByTestId('form-errors');
  expect(await refused.getAttribute('role')).toBe('alert');
  expect(await refused.innerText()).toContain('cannot be retired while used');
  expect(await page.locator('[data-testid="admin-category"][data-slug="data"]').count()).toBe(1);
  await accessible(page);

  await page.getByLabel('Slug').fill('tides');
  await page.getByLabel('Name', { exact: true }).fill('Tides');
  await page.getByRole('button', { name: 'Add the category' }).click();
  await page.waitForURL(`${base}/admin/categories?done=added`);
  const row = page.locator('[data-testid="admin-category"][data-slug="tides"]');
  await row.getByLabel('New name for Tides').fill('Tides & currents');
  await row.getByRole('button', { name: /^Rename/ }).click();
  await page.waitForURL(`${base}/admin/categories?done=renamed`);
  expect((await call()('GET', '/api/v1/categories')).json.data.find((c: { slug: string }) => c.slug === 'tides')?.name).toBe('Tides & currents');
  await page.locator('[data-testid="admin-category"][data-slug="tides"]').getByRole('button', { name: /^Retire/ }).click();
  await page.waitForURL(`${base}/admin/categories?done=retired`);
  expect(await page.locator('[data-testid="admin-category"][data-slug="tides"]').count()).toBe(0);
});

test('settings: the marketplace fee changes from the console and discovery shows the fee in force', async () => {
  await page.goto(`${base}/admin/settings`);
  await page.getByLabel('Fee (basis points, 0–10000)').fill('20000');
  await page.getByRole('button', { name: 'Save the fee' }).click();
  expect(await page.getByTestId('form-errors').innerText()).toContain('0 to 10000');
  await page.getByLabel('Fee (basis points, 0–10000)').fill('125');
  await page.getByRole('button', { name: 'Save the fee' }).click();
  await page.waitForURL(`${base}/admin/settings?done=saved`);
  expect(await page.getByLabel('Fee (basis points, 0–10000)').inputValue()).toBe('125');
  expect(await page.getByTestId('fixed-settings').innerText()).toContain('(fixed)');
  expect(((await (await fetch(`${base}/.well-known/agent-protocol.json`)).json()) as { payments: { fee_bps: number } }).payments.fee_bps).toBe(125);
});

test('refunds: a refund due is listed, marked refunded with a transaction reference, and leaves the list', async () => {
  // A paid intent the sweep turned into refund_due (no chain here: written as the sweep leaves it).
  const sqlite = new Database(join(server.dataDir, 'crochet.db'));
  sqlite.exec('PRAGMA busy_timeout = 5000');
  const now = new Date().toISOString();
  drizzle(sqlite).insert(paymentIntents).values({
    id: 'rly_browser_due', buyerId: 'buyer-1', sellerId: 'seller-1', listingId: target.id, bodySha256: '0'.repeat(64), amountMicroUsd: 400_000, feeBps: 0,
    routes: [{ network: ROUTE.network, asset: ROUTE.asset, decimals: 6, pay_to: ROUTE.treasury, amount_atomic: '400000', min_amount: '0' }],
    status: 'refund_due', createdAt: now, expiresAt: now, settlementKey: `${ROUTE.network}:0xdue:0`, settledNetwork: ROUTE.network, settledTxRef: '0xdue', settledAt: now,
  }).run();
  sqlite.close();

  await page.goto(`${base}/admin`);
  expect(await page.getByTestId('refunds-due').innerText()).toBe('1 · $0.40');
  await page.goto(`${base}/admin/refunds`);
  const row = page.locator('[data-testid="admin-refund"][data-id="rly_browser_due"]');
  expect(await row.innerText()).toContain('$0.40');
  await accessible(page);
  await row.getByLabel('Refund transaction for rly_browser_due').fill('0xrefunded42');
  await row.getByRole('button', { name: /^Mark refunded/ }).click();
  await page.waitForURL(`${base}/admin/refunds?done=marked`);
  expect(await page.locator('[data-testid="admin-refund"]').count()).toBe(0);
  expect(await page.getByRole('main').innerText()).toContain('No refunds are due.');
});

test('the overview\'s audit log holds every action, newest first', async () => {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await page.goto(`${base}/admin`);
    expect(await page.getByTestId('refunds-due').innerText()).toBe('0 · $0.00');
    expect(await auditActions()).toEqual(['refund.mark', 'settings.fee_bps', 'category.retire', 'category.rename', 'category.add', 'profile.restore', 'profile.suspend', 'listing.restore', 'listing.suspend', 'admin.setup']);
    const log = await page.getByTestId('audit-log').innerText();
    expect(log).toContain('Olive Operator');
    expect(log).toContain('0xrefunded42');
    expect(log).toContain(`listing:${target.id}`);
    await accessible(page);
    await saveScreenshot(page, 'admin-overview', viewport);
    if (viewport.name === 'desktop') await saveReadmeScreenshot(page, 'admin-overview');
  }
});
