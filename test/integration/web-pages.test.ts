import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { SORTS } from '../../src/modules/listings/service.ts';
import { cardNames, startWebMarket, visibleText, type WebMarket } from '../support/web-market.ts';

// The marketplace pages as the server sends them: content in the HTML (no script needed), the
// private endpoint never shown, HTML 404s for browsers and JSON for API clients.
let m: WebMarket;
beforeAll(async () => {
  m = await startWebMarket();
});
afterAll(() => m.close());

describe('home', () => {
  test('an h1, one line about the marketplace, a labelled search form, categories by name, newest listings first', async () => {
    const res = await m.page('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.text.match(/<h1>/g)).toHaveLength(1);
    expect(res.text).toContain('<form role="search" method="get" action="/"');
    for (const [id, label] of [['q', 'Search'], ['category', 'Category'], ['pricing_model', 'Price'], ['min_score', 'Minimum score'], ['sort', 'Sort'], ['verified', 'Verified providers only']]) {
      expect(res.text).toContain(`<label for="${id}">${label}</label>`);
      expect(res.text).toContain(`id="${id}" name="${id}"`);
    }
    expect(res.text).toContain('<nav aria-label="Categories"');
    expect(res.text).toContain('<a href="/?category=data">Data &amp; APIs</a>');
    expect(cardNames(res.text)).toEqual(['Translator', 'Stock quotes', 'Weather now']);
    expect(res.text).toContain('<p data-testid="result-count" class="count">3 listings</p>');
  });

  test('issue 11: the form sends every field, blank ones too — that is no filter, not an error', async () => {
    const res = await m.page('/?q=&category=&pricing_model=&min_score=&sort=');
    expect(res.status).toBe(200);
    expect(cardNames(res.text)).toEqual(['Translator', 'Stock quotes', 'Weather now']);
  });

  test.each([
    ['q=stock', ['Stock quotes']],
    ['category=ai', ['Translator']],
    ['pricing_model=free', ['Weather now']],
    ['pricing_model=per_call&sort=price_low', ['Translator', 'Stock quotes']],
    ['sort=price_high', ['Stock quotes', 'Translator', 'Weather now']],
    ['sort=popular', ['Weather now', 'Translator', 'Stock quotes']],
    ['sort=rating', ['Weather now', 'Translator', 'Stock quotes']],
    ['q=&category=finance&sort=', ['Stock quotes']],
  ])('/?%s', async (qs, names) => {
    const res = await m.page(`/?${qs}`);
    expect(res.status).toBe(200);
    expect(cardNames(res.text)).toEqual(names);
  });

  test('the form shows the current choices', async () => {
    const res = await m.page('/?q=stock&category=finance&pricing_model=per_call&min_score=0&verified=false&sort=price_low');
    expect(res.text).toContain('value="stock"');
    expect(res.text).toContain('<option value="finance" selected>Finance</option>');
    expect(res.text).toContain('<option value="per_call" selected>Paid</option>');
    expect(res.text).toContain('<option value="price_low" selected>Price: low to high</option>');
    expect(res.text).toContain('<a href="/?q=stock&amp;category=finance&amp;pricing_model=per_call&amp;min_score=0&amp;verified=false&amp;sort=price_low" aria-current="page">Finance</a>');
    expect((await m.page('/?verified=true')).text).toContain('value="true" checked');
  });

  test('every sort the API has is offered', async () => {
    const text = (await m.page('/')).text;
    for (const sort of SORTS) expect(text).toContain(`<option value="${sort}"`);
  });

  test('an empty result says so and keeps the form', async () => {
    const res = await m.page('/?q=nothingmatchesthis');
    expect(res.status).toBe(200);
    expect(visibleText(res.text)).toContain('No listings match this search.');
    expect(res.text).toContain('value="nothingmatchesthis"');
    expect(cardNames(res.text)).toEqual([]);
  });

  test.each(['min_score=abc', 'sort=bogus', 'category=nope', 'limit=500'])('a refused search (%s): 400, an alert, the form kept', async (qs) => {
    const res = await m.page(`/?${qs}`);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<p role="alert" class="error">[^<]*\S/);
    expect(res.text).toContain('<form role="search"');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  test('pagination keeps the filters and the page size', async () => {
    const p1 = await m.page('/?limit=1&sort=price_high');
    expect(cardNames(p1.text)).toEqual(['Stock quotes']);
    expect(p1.text).toContain('<span>Page 1 of 3</span>');
    expect(p1.text).toContain('<a rel="next" href="/?sort=price_high&amp;limit=1&amp;page=2">Next</a>');
    expect(p1.text).not.toContain('rel="prev"');
    expect(p1.text).toContain('<input type="hidden" name="limit" value="1">');
    const p2 = await m.page('/?sort=price_high&limit=1&page=2');
    expect(cardNames(p2.text)).toEqual(['Translator']);
    expect(p2.text).toContain('<a rel="prev" href="/?sort=price_high&amp;limit=1">Previous</a>');
    const p3 = await m.page('/?sort=price_high&limit=1&page=3');
    expect(cardNames(p3.text)).toEqual(['Weather now']);
    expect(p3.text).not.toContain('rel="next"');
    const beyond = await m.page('/?limit=1&page=9');
    expect(visibleText(beyond.text)).toContain('No listings on page 9: there are 3 listings.');
  });
});

describe('listing page', () => {
  test('a paid listing: price as people read it, USDC on the configured networks, gateway URL, 402 → pay → retry examples', async () => {
    const q = m.listings.quotes;
    const res = await m.page(`/listings/${q.slug}`);
    expect(res.status).toBe(200);
    const text = visibleText(res.text);
    expect(res.text).toContain('<h1>Stock quotes</h1>');
    expect(text).toContain('Quotes for listed companies.');
    expect(res.text).toContain('<a href="/?category=finance">Finance</a>');
    expect(res.text).toContain('<span class="tag">stocks</span>');
    expect(res.text).toContain('<p class="big-price" data-testid="price">$1.50 / call</p>');
    expect(text).toContain('Paid in USDC');
    expect(res.text).toContain('<li>Base Sepolia (eip155:84532)</li>');
    expect(res.text).toContain('<li>eip155:990099</li>');
    expect(res.text).toContain(`<code data-testid="gateway-url">${q.gateway_url}</code>`);
    expect(res.text).toContain(`data-copy="${q.gateway_url}"`);
    expect(res.text).toContain('>Copy gateway URL</button>');
    // Both examples call the gateway, then retry with the relay id and the transaction.
    const examples = [...res.text.matchAll(/<pre tabindex="0"><code>([\s\S]*?)<\/code><\/pre>/g)].map((x) => visibleText(x[1] as string));
    expect(examples).toHaveLength(2);
    for (const ex of examples) {
      expect(ex).toContain(q.gateway_url);
      expect(ex).toContain('X-Crochet-Relay-Request-Id');
      expect(ex).toContain('X-Crochet-Payment-Tx');
    }
    expect(examples[0]).toStartWith('# 1. Call');
    expect(examples[1]).toContain('res.status === 402');
  });

  test('a free listing: provider card with the Crochet Score, rating with count, reviews, usage', async () => {
    const w = m.listings.weather;
    const res = await m.page(`/listings/${w.id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-testid="price">Free</p>');
    expect(res.text).not.toContain('data-testid="networks"');
    const examples = [...res.text.matchAll(/<pre tabindex="0"><code>([\s\S]*?)<\/code><\/pre>/g)].map((x) => visibleText(x[1] as string));
    expect(examples.every((ex) => ex.includes(w.gateway_url) && !ex.includes('X-Crochet-Payment-Tx'))).toBe(true);
    expect(visibleText(res.text)).toContain('From the seller Send {"city": "Oslo"}.');

    const api = (await m.t.call('GET', `/api/v1/listings/${w.id}`)).json.data;
    const card = /<section aria-labelledby="provider-h" class="card" data-testid="provider-card">([\s\S]*?)<\/section>/.exec(res.text)?.[1] ?? '';
    expect(card).toContain(`<a href="/agents/${m.aurora.profile.id}">Aurora Labs</a>`);
    expect(visibleText(card)).toContain(`Crochet Score ${api.provider.score} · ${api.provider.tier}`);
    expect(api.provider.score).toBeGreaterThan(0);
    expect(card).toContain('<a href="/score">');

    // Ratings 5/4/4 and 5/5/4: average 4.5 over 2 reviews.
    expect(visibleText(/<span class="rating" data-testid="rating">[\s\S]*?<\/span><\/p>/.exec(res.text)?.[0] ?? '')).toBe('★★★★★ 4.5 out of 5 stars 4.5 · 2 reviews');
    const reviews = [...res.text.matchAll(/<article class="review card" data-testid="review">([\s\S]*?)<\/article>/g)].map((x) => x[1] as string);
    expect(reviews).toHaveLength(2);
    expect(visibleText(reviews[0] as string)).toContain('Useful forecasts 2');
    expect(reviews[0]).toContain(`<a href="/agents/${m.buyers[1]!.profile.id}">Buyer Bo</a>`);
    expect(reviews[0]).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d{1,2} [A-Z][a-z]+ \d{4}<\/time>/);
    expect(visibleText(reviews[1] as string)).toContain('4.3 out of 5 stars Useful forecasts 1');

    const usage = visibleText(/<dl class="stats" data-testid="usage">[\s\S]*?<\/dl>/.exec(res.text)?.[0] ?? '');
    expect(api.stats.calls).toBe(2);
    const latency = api.stats.p50_latency_ms as number;
    expect(usage).toBe(`Calls 2 Success rate 100% Median latency ${latency < 1 ? '< 1' : latency} ms`);
  });

  test('no usage yet reads "not measured yet", not "0 ms"', async () => {
    const usage = visibleText(/<dl class="stats" data-testid="usage">[\s\S]*?<\/dl>/.exec((await m.page(`/listings/${m.listings.quotes.slug}`)).text)?.[0] ?? '');
    expect(usage).toBe('Calls 0 Success rate not measured yet Median latency not measured yet');
  });

  test('no page ever shows a private endpoint URL', async () => {
    const paths = ['/', '/?q=weather', `/agents/${m.aurora.profile.id}`, `/agents/${m.basalt.profile.id}`, ...Object.values(m.listings).map((l) => `/listings/${l.slug}`)];
    const stubHost = new URL(m.stub.url('/')).host;
    for (const path of paths) {
      const text = (await m.page(path)).text;
      expect(text).not.toContain('private-weather');
      expect(text).not.toContain('private-quotes');
      expect(text).not.toContain(stubHost);
    }
  });
});

describe('agent page', () => {
  test('name, account type, member since, score components explained, active listings, reviews received', async () => {
    const res = await m.page(`/agents/${m.aurora.profile.id}`);
    expect(res.status).toBe(200);
    const score = (await m.t.call('GET', `/api/v1/agents/${m.aurora.profile.id}/score`)).json.data;
    expect(res.text).toContain('<h1>Aurora Labs</h1>');
    expect(visibleText(res.text)).toMatch(/Agent · member since \d{1,2} [A-Z][a-z]+ \d{4}/);
    expect(visibleText(res.text)).toContain(`Crochet Score ${score.score} · ${score.tier}`);
    for (const [key, label] of [['reliability', 'Reliability'], ['volume', 'Volume'], ['accuracy', 'Accuracy'], ['reputation', 'Reputation'], ['longevity', 'Longevity']] as const) {
      expect(res.text).toContain(`<tr><th scope="row">${label}</th><td>${score.components[key]}</td>`);
    }
    const listings = /data-testid="agent-listings">([\s\S]*?)<\/ol>/.exec(res.text)?.[1] ?? '';
    expect(cardNames(listings)).toEqual(['Stock quotes', 'Weather now']);
    expect(res.text).not.toContain('Hidden draft');
    const reviews = [...res.text.matchAll(/<article class="review card" data-testid="review">([\s\S]*?)<\/article>/g)].map((x) => visibleText(x[1] as string));
    expect(reviews).toHaveLength(2);
    expect(reviews[0]).toContain('on Weather now');
    expect(res.text).toContain(`<a href="/listings/${m.listings.weather.slug}">Weather now</a>`);
  });

  test('an agent with no listings or reviews says so', async () => {
    const text = visibleText((await m.page(`/agents/${m.buyers[0]!.profile.id}`)).text);
    expect(text).toContain('No active listings.');
    expect(text).toContain('No reviews yet.');
  });
});

describe('not found', () => {
  test.each([
    ['an unknown page', '/no-such-page'],
    ['an unknown listing', '/listings/no-such-listing'],
    ['a draft listing', 'DRAFT'],
    ['an unknown agent', '/agents/no-such-agent'],
  ])('%s: an HTML 404 with a way back', async (_name, path) => {
    const res = await m.page(path === 'DRAFT' ? `/listings/${m.listings.draft.slug}` : path);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<h1>Page not found</h1>');
    expect(res.text).toContain('<a href="/">Back to the marketplace</a>');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('API clients keep the JSON envelope', async () => {
    for (const [path, accept] of [['/no-such-page', 'application/json'], ['/no-such-page', '*/*'], ['/api/v1/nope', 'text/html'], ['/api/nope', 'text/html,*/*']] as const) {
      const res = await m.t.call('GET', path, { headers: { accept } });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ success: false, error: { code: 'ROUTE_NOT_FOUND' } });
    }
    const listing = await m.t.call('GET', '/api/v1/listings/no-such-listing', { headers: { accept: 'text/html' } });
    expect(listing.json.error.code).toBe('NOT_FOUND');
    // Page addresses too, when the client asks for JSON (or anything, like curl's default).
    for (const [path, accept] of [['/listings/no-such-listing', 'application/json'], ['/agents/no-such-agent', '*/*']] as const) {
      const res = await m.t.call('GET', path, { headers: { accept } });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toStartWith('application/json');
      expect(res.json).toMatchObject({ success: false, error: { code: expect.stringMatching(/NOT_FOUND$/) } });
    }
  });
});
