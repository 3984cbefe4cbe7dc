// People in chromium: sign up, sign out, sign in (errors shown, the session only in an HttpOnly
// cookie, sign-out a POST button); claim an EVM and a Solana agent with signatures made here from
// the exact message the page shows; the dashboard shows the claimed agent's listings, reviews,
// score, gateway calls and ledger after a real paid call on a local chain (anvil).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Hex } from 'viem';
import { startAnvil, type AnvilChain } from '../support/anvil.ts';
import { httpCaller, registerAgent } from '../support/app.ts';
import { axeViolations, launchBrowser, saveReadmeScreenshot, saveScreenshot, VIEWPORTS, type Browser, type TestPage } from '../support/browser.ts';
import { startServerProcess, type ServerProcess } from '../support/browser-server.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { deployTestToken } from '../support/usdc.ts';
import { evmWallet, solanaWallet, type TestWallet } from '../support/wallets.ts';

allowSlowSetup();

const PRICE_ATOMIC = 250_000n; // $0.25 with 6 decimals
let chain: AnvilChain;
let server: ServerProcess;
let stub: ReturnType<typeof startSellerStub>;
let browser: Browser;
let page: TestPage;
let base: string;
const seller = { wallet: evmWallet(), id: '', key: '' };
const solAgent = { wallet: solanaWallet(), id: '' };
let paidTx: Hex;
let listings: { paid: { id: string; name: string }; free: { id: string; name: string } };
const REVIEW_TITLE = 'Answers every city';

beforeAll(async () => {
  chain = await startAnvil();
  const [deployer, buyerAccount, , , , , , , , treasury] = chain.accounts;
  const usdc = await deployTestToken({ rpcUrl: chain.rpcUrl, deployer: deployer! });
  await usdc.mint(buyerAccount!.address, 1_000_000_000n);
  const route = { network: `eip155:${chain.chainId}`, rpc_url: chain.rpcUrl, asset: usdc.address, decimals: 6, confirmations: 1, min_amount: '0.01', treasury: treasury!.address };
  [server, browser] = await Promise.all([startServerProcess({ CROCHET_PAYMENT_ROUTES: JSON.stringify([route]) }), launchBrowser()]);
  base = server.baseUrl;
  stub = startSellerStub({ routes: { '/paid': () => Response.json({ answer: 42 }), '/free': () => Response.json({ sunny: true }) } });

  // Seeded through the API, as agents would: a seller with a paid and a free listing, a buyer
  // who pays for one call on chain and reviews the free listing, and a Solana agent to claim.
  const call = httpCaller(base);
  const s = await registerAgent(call, seller.wallet, 'Claimable Seller');
  Object.assign(seller, { id: s.profile.id, key: s.key });
  solAgent.id = (await registerAgent(call, solAgent.wallet, 'Solana Helper')).profile.id;
  const buyer = await registerAgent(call, evmWallet(buyerAccount!.privateKey), 'Paying Buyer');
  const paid = await createListing(call, seller.key, { name: 'Paid forecast', pricing_model: 'per_call', pricing_amount: '0.25', private_endpoint_url: stub.url('/paid') });
  const free = await createListing(call, seller.key, { name: 'Free forecast', private_endpoint_url: stub.url('/free') });
  stub.setSecrets([paid.gateway_endpoint.signing_secret, free.gateway_endpoint.signing_secret]);
  listings = { paid: { id: paid.id, name: 'Paid forecast' }, free: { id: free.id, name: 'Free forecast' } };

  const gateway = (id: string, headers: Record<string, string> = {}) =>
    call('POST', `/api/v1/gateway/${id}`, { key: buyer.key, rawBody: '{"city":"Lyon"}', headers: { 'content-type': 'application/json', ...headers } });
  const offer = await gateway(paid.id);
  if (offer.status !== 402) throw new Error(`expected 402, got ${offer.status} ${offer.text}`);
  const payTo = offer.json.payment.routes[0];
  expect(BigInt(payTo.amount_atomic)).toBe(PRICE_ATOMIC);
  paidTx = await usdc.transfer(buyerAccount!, payTo.pay_to as Hex, PRICE_ATOMIC);
  const settled = await gateway(paid.id, { 'x-crochet-relay-request-id': offer.json.payment.relay_request_id, 'x-crochet-payment-tx': paidTx });
  if (settled.status !== 200) throw new Error(`paid call: ${settled.status} ${settled.text}`);
  expect((await gateway(free.id)).status).toBe(200);
  const review = await call('POST', `/api/v1/reviews/${free.id}`, { key: buyer.key, body: { accuracy_rating: 5, reliability_rating: 4, value_rating: 5, title: REVIEW_TITLE, comment: 'Lyon was sunny.' } });
  if (review.status !== 201) throw new Error(`review: ${review.status} ${review.text}`);
  expect((await call('POST', '/api/v1/internal/recompute-scores', { headers: { authorization: `Bearer ${server.cronSecret}` } })).status).toBe(200);
  page = await browser.newPage(VIEWPORTS[0]);
});

afterAll(async () => {
  await browser?.close();
  stub?.stop();
  await server?.stop();
  await chain?.stop();
});

const email = `person-${Date.now()}@people.test`;
const password = 'a long enough password';

/** axe (serious and critical) and no console error on the page as it is now. */
async function accessible(p: TestPage) {
  expect(await axeViolations(p)).toEqual([]);
  expect(p.errors).toEqual([]);
}

test('sign up: a short password is refused on the page; then the account is made and the dashboard opens', async () => {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Your name').fill('Pat Person');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  const summary = page.getByTestId('form-errors');
  expect(await summary.getAttribute('role')).toBe('alert');
  expect(await summary.innerText()).toContain('Password: expected at least 10 characters');
  expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
  // The script moves focus to the summary (its links lead to each field).
  expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('form-errors');
  await summary.getByRole('link', { name: /Password/ }).click();
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');
  // What was typed (but never the password) is kept.
  expect(await page.getByLabel('Email').inputValue()).toBe(email);
  await accessible(page);

  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${base}/dashboard`);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Your dashboard');
  const banner = page.getByRole('banner');
  expect(await banner.getByRole('link', { name: 'Dashboard' }).count()).toBe(1);
  expect(await banner.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
  expect(await banner.getByRole('link', { name: 'Sign in' }).count()).toBe(0);
  // The session is an HttpOnly cookie: script cannot read it, and it is nowhere in the page.
  const [cookie] = (await browser.context.cookies(base)).filter((c) => c.name === 'crochet_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
  expect(await page.evaluate(() => document.cookie)).not.toContain('crochet_session');
  expect(await page.content()).not.toContain(cookie!.value);
  await accessible(page);
});

test('sign out is a POST button; afterwards the dashboard sends a guest to sign in, and signing in returns there', async () => {
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${base}/`);
  expect(await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).count()).toBe(1);
  expect((await browser.context.cookies(base)).filter((c) => c.name === 'crochet_session' && c.value)).toEqual([]);

  await page.goto(`${base}/dashboard`);
  await page.waitForURL(`${base}/signin?next=%2Fdashboard`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not my password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // One answer for a wrong password and an unknown email.
  expect(await page.getByTestId('form-errors').innerText()).toContain('Email or password is wrong.');
  await accessible(page);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/dashboard`);
  expect(await page.getByTestId('claimed-agent').count()).toBe(0);
});

/** The claim page: agent and wallet, then sign the exact message shown and paste the signature. */
async function claimInPage(profileId: string, wallet: TestWallet, signer: TestWallet = wallet) {
  await page.goto(`${base}/dashboard/claim`);
  await page.getByLabel('Agent profile id').fill(profileId);
  await page.getByLabel('Agent wallet address').fill(wallet.address);
  await page.getByRole('button', { name: 'Get the message to sign' }).click();
  const message = await page.getByTestId('claim-message').textContent();
  expect(message).toContain(wallet.address);
  expect(message).toContain('Let a human account claim the Crochet agent profile that owns this wallet.');
  await accessible(page);
  await page.getByLabel('Signature').fill(await signer.sign(message!));
  await page.getByRole('button', { name: 'Claim this agent' }).click();
}

test('a signature from another wallet claims nothing and the page says why', async () => {
  await claimInPage(seller.id, seller.wallet, evmWallet());
  expect(page.url()).toBe(`${base}/dashboard/claim`);
  expect(await page.getByTestId('form-errors').innerText()).toMatch(/signature/i);
  const agent = await httpCaller(base)('GET', `/api/v1/agents/${seller.id}`);
  expect(agent.json.data.account_type).toBe('agent');
});

test('claim an EVM agent (personal_sign by viem) and a Solana agent (ed25519 by tweetnacl, base58)', async () => {
  await claimInPage(seller.id, seller.wallet);
  await page.waitForURL(`${base}/dashboard?done=claimed`);
  expect(await page.getByTestId('notice').textContent()).toContain('Agent claimed');
  await claimInPage(solAgent.id, solAgent.wallet);
  await page.waitForURL(`${base}/dashboard?done=claimed`);
  const names = await page.getByTestId('claimed-agent').locator('h2').allTextContents();
  expect(names.sort()).toEqual(['Claimable Seller', 'Solana Helper']);
  // The public profiles now say "claimed", through the API too.
  for (const id of [seller.id, solAgent.id]) expect((await httpCaller(base)('GET', `/api/v1/agents/${id}`)).json.data.account_type).toBe('human_claimed_agent');
});

test('the dashboard shows the claimed seller\'s listings, reviews, score, gateway calls and ledger', async () => {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await page.goto(`${base}/dashboard`);
    const card = page.getByTestId('claimed-agent').filter({ hasText: 'Claimable Seller' });
    const listingRows = await card.getByTestId('dash-listings').locator('tbody tr').allInnerTexts();
    expect(listingRows).toHaveLength(2);
    expect(listingRows.find((r) => r.includes(listings.paid.name))).toMatch(/active\s+\$0\.25 \/ call\s+1\s+100%/);
    expect(listingRows.find((r) => r.includes(listings.free.name))).toMatch(/active\s+Free\s+1\s+100%\s+4\.7 \(1 review\)/);
    expect(await card.getByTestId('dash-reviews').innerText()).toContain(REVIEW_TITLE);
    const score = await card.getByTestId('dash-score').innerText();
    expect(score).toMatch(/Crochet Score \d+/);
    const components = await card.getByTestId('dash-score-components').locator('tbody th').allTextContents();
    expect(components).toEqual(['Reliability', 'Volume', 'Accuracy', 'Reputation', 'Longevity']);
    const requests = await card.getByTestId('dash-requests').locator('tbody tr').allInnerTexts();
    // The paid call shows twice: its 402 offer, then the paid retry the seller answered.
    const paidRows = requests.filter((r) => r.includes(listings.paid.name));
    expect(paidRows.map((r) => /seller\s.*(payment_required|completed)[^\t]*\s+(402|200)\s+\$0\.25/.exec(r)?.slice(1, 3).join(' '))).toEqual(['completed 200', 'payment_required 402']);
    expect(requests.filter((r) => r.includes(listings.free.name) && /seller\s.*completed\s+200\s+Free/.test(r))).toHaveLength(1);
    // The paid call's credit, with the buyer's on-chain transaction.
    const ledger = await card.getByTestId('dash-ledger').innerText();
    expect(ledger).toContain(paidTx);
    expect(ledger).toContain('$0.25');
    expect(await card.getByTestId('dash-balance').innerText()).toMatch(/Seller balance\s+\$0\.25/);
    await accessible(page);
    await saveScreenshot(page, 'dashboard', viewport);
    if (viewport.name === 'desktop') await saveReadmeScreenshot(page, 'dashboard');
  }
  await page.setViewportSize({ width: VIEWPORTS[0].width, height: VIEWPORTS[0].height });
});

test('a form posted without this session\'s CSRF token changes nothing (403 page)', async () => {
  // The hidden field removed, as a forged cross-site form would lack it.
  await page.goto(`${base}/dashboard`);
  await page.locator('form.signout input[name="csrf_token"]').evaluate((input) => input.remove());
  await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
  await page.waitForLoadState();
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('This form has expired');
  await page.goto(`${base}/dashboard`);
  expect(page.url()).toBe(`${base}/dashboard`);
});

