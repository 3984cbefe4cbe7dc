// Threat: listing and endpoint routes leak a seller's private URL, upstream credentials or signing secrets, or let another agent read or change them.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { checkPow } from '../../src/shared/pow.ts';
import { createTestApp, registerAgent, type CallOptions, type CallResult, type TestContext } from '../support/app.ts';
import { postListing, solvedListingPow, LISTING_FIELDS } from '../support/listings.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

const HOST = 'seller-private-host.example';
const PATH = '/hidden/run-7f3a';
const PRIVATE_URL = `https://${HOST}${PATH}?token=q9z`;
const NEW_URL = `https://${HOST}/moved-path-44c1`;
const AUTH_VALUE = 'Bearer upstream-credential-5d1e9b';

type Who = 'guest' | 'owner' | 'other';
type Seen = { label: string; who: Who; res: CallResult; mayShowHost: boolean; allowedSecret?: string };

let t: TestContext;
let owner: string;
let other: string;
let activeId: string;
let draftId: string;
let activeSlug: string;
const secrets: string[] = [];
const seen: Seen[] = [];

async function as(who: Who, method: string, path: string, opts: CallOptions = {}, extra: Partial<Seen> = {}) {
  const key = who === 'owner' ? owner : who === 'other' ? other : undefined;
  const res = await t.call(method, path, { ...opts, ...(key ? { key } : {}) });
  seen.push({ label: `${who} ${method} ${path}`, who, res, mayShowHost: false, ...extra });
  return res;
}

beforeAll(async () => {
  t = await createTestApp();
  owner = (await registerAgent(t.call, evmWallet(), 'Owner')).key;
  other = (await registerAgent(t.call, solanaWallet(), 'Other')).key;
  const active = await postListing(t.call, owner, { status: 'active', private_endpoint_url: PRIVATE_URL });
  expect(active.status).toBe(201);
  seen.push({ label: 'create active', who: 'owner', res: active, mayShowHost: true, allowedSecret: active.json.data.gateway_endpoint.signing_secret });
  activeId = active.json.data.id;
  activeSlug = active.json.data.slug;
  secrets.push(active.json.data.gateway_endpoint.signing_secret);
  const draft = await postListing(t.call, owner, { name: 'Draft thing', private_endpoint_url: PRIVATE_URL });
  seen.push({ label: 'create draft', who: 'owner', res: draft, mayShowHost: true, allowedSecret: draft.json.data.gateway_endpoint.signing_secret });
  draftId = draft.json.data.id;
  secrets.push(draft.json.data.gateway_endpoint.signing_secret);
  const auth = await t.call('PUT', `/api/v1/listings/${activeId}/endpoint`, {
    key: owner,
    body: { upstream_auth_header_name: 'Authorization', upstream_auth_header_value: AUTH_VALUE },
  });
  expect(auth.status).toBe(200);
  seen.push({ label: 'set auth', who: 'owner', res: auth, mayShowHost: true });
});
afterAll(() => t.close());

/** A pow_nonce that solves no stored listing puzzle (at test difficulty a random one might). */
function unsolvingNonce(): string {
  const puzzles = t.deps.db.sqlite.query<{ challenge: string; difficulty: number }, []>('SELECT challenge, difficulty FROM listing_challenges').all();
  for (let i = 0; ; i++) {
    const nonce = `n${i}`;
    if (!puzzles.some((p) => checkPow(p.challenge, p.difficulty, nonce))) return nonce;
  }
}

describe('who may do what', () => {
  const cases: [string, string, () => string, Record<Who, number>, (CallOptions | (() => CallOptions))?][] = [
    ['GET', 'categories', () => '/api/v1/categories', { guest: 200, owner: 200, other: 200 }],
    ['GET', 'search', () => '/api/v1/listings?q=weather', { guest: 200, owner: 200, other: 200 }],
    ['GET', 'my listings', () => '/api/v1/me/listings', { guest: 401, owner: 200, other: 200 }],
    ['POST', 'listing challenge', () => '/api/v1/listings/challenge', { guest: 401, owner: 200, other: 200 }],
    ['POST', 'create (no pow)', () => '/api/v1/listings', { guest: 401, owner: 400, other: 400 }, () => ({ body: { ...LISTING_FIELDS, pow_nonce: unsolvingNonce() } })],
    ['GET', 'active listing by id', () => `/api/v1/listings/${activeId}`, { guest: 200, owner: 200, other: 200 }],
    ['GET', 'active listing by slug', () => `/api/v1/listings/${activeSlug}`, { guest: 200, owner: 200, other: 200 }],
    ['GET', 'draft listing', () => `/api/v1/listings/${draftId}`, { guest: 404, owner: 200, other: 404 }],
    ['GET', 'missing listing', () => '/api/v1/listings/no-such-listing', { guest: 404, owner: 404, other: 404 }],
    ['PATCH', 'update listing', () => `/api/v1/listings/${activeId}`, { guest: 401, owner: 200, other: 404 }, { body: { description: 'Forecasts, now hourly.' } }],
    ['PATCH', 'update draft', () => `/api/v1/listings/${draftId}`, { guest: 401, owner: 200, other: 404 }, { body: { tags: ['x'] } }],
    ['GET', 'endpoint metadata', () => `/api/v1/listings/${activeId}/endpoint`, { guest: 401, owner: 200, other: 404 }],
    ['GET', 'draft endpoint metadata', () => `/api/v1/listings/${draftId}/endpoint`, { guest: 401, owner: 200, other: 404 }],
    ['PUT', 'update endpoint', () => `/api/v1/listings/${activeId}/endpoint`, { guest: 401, owner: 200, other: 404 }, { body: { timeout_ms: 5000 } }],
    ['POST', 'test endpoint', () => `/api/v1/listings/${activeId}/endpoint/test`, { guest: 401, owner: 200, other: 404 }],
    ['POST', 'rotate secret', () => `/api/v1/listings/${activeId}/endpoint/rotate-secret`, { guest: 401, owner: 200, other: 404 }, { body: { grace_seconds: 60 } }],
  ];

  for (const [method, name, path, expected, opts] of cases) {
    for (const who of ['guest', 'owner', 'other'] as const) {
      test(`${name}: ${who} → ${expected[who]}`, async () => {
        const isOwnerEndpoint = who === 'owner' && /\/endpoint$/.test(path());
        const res = await as(who, method, path(), typeof opts === 'function' ? opts() : opts, { mayShowHost: isOwnerEndpoint });
        expect(res.status).toBe(expected[who]);
        if (res.status >= 400) expect(res.json.error.recovery).toBeDefined();
        if (name === 'rotate secret' && res.status === 200) {
          secrets.push(res.json.data.signing_secret);
          seen[seen.length - 1]!.allowedSecret = res.json.data.signing_secret;
        }
      });
    }
  }

  test('a bad key on a public read is treated as no key', async () => {
    const res = await t.call('GET', `/api/v1/listings/${draftId}`, { headers: { authorization: 'Bearer am_k_not-a-real-key' } });
    expect(res.status).toBe(404);
    expect((await t.call('GET', `/api/v1/listings/${activeId}`, { headers: { authorization: 'Bearer am_k_nope' } })).status).toBe(200);
  });

  test('another agent cannot see or spend the owner\'s drafts through search or /me/listings', async () => {
    const mine = await as('owner', 'GET', '/api/v1/me/listings');
    expect(mine.json.data.map((l: { id: string }) => l.id).sort()).toEqual([activeId, draftId].sort());
    const theirs = await as('other', 'GET', '/api/v1/me/listings');
    expect(theirs.json.data).toEqual([]);
    const found = await as('guest', 'GET', '/api/v1/listings?q=draft');
    expect(found.json.data.map((l: { id: string }) => l.id)).not.toContain(draftId);
  });
});

describe('error bodies do not echo secrets', () => {
  test.each([
    ['header value with a line break', { upstream_auth_header_name: 'X-Api-Key', upstream_auth_header_value: `${AUTH_VALUE}\r\nX-Evil: 1` }, 'INVALID_UPSTREAM_AUTH_HEADER'],
    ['forbidden header name', { upstream_auth_header_name: 'Host', upstream_auth_header_value: AUTH_VALUE }, 'INVALID_UPSTREAM_AUTH_HEADER'],
    ['X-Crochet header name', { upstream_auth_header_name: 'X-Crochet-Signature', upstream_auth_header_value: AUTH_VALUE }, 'INVALID_UPSTREAM_AUTH_HEADER'],
    ['name without value', { upstream_auth_header_name: 'X-Api-Key' }, 'UPSTREAM_AUTH_INCOMPLETE'],
    ['null with a value', { upstream_auth_header_name: null, upstream_auth_header_value: AUTH_VALUE }, 'UPSTREAM_AUTH_INCOMPLETE'],
    ['value too long', { upstream_auth_header_name: 'X-Api-Key', upstream_auth_header_value: AUTH_VALUE.repeat(500) }, 'VALIDATION_FAILED'],
    ['unsafe URL', { private_endpoint_url: `https://user:${AUTH_VALUE}@${HOST}${PATH}` }, 'UNSAFE_ENDPOINT_URL'],
    ['URL too long', { private_endpoint_url: `${PRIVATE_URL}${'a'.repeat(3000)}` }, 'VALIDATION_FAILED'],
    ['timeout out of range', { timeout_ms: 60_001, private_endpoint_url: PRIVATE_URL }, 'VALIDATION_FAILED'],
    ['body limit out of range', { max_request_bytes: 10, upstream_auth_header_value: AUTH_VALUE }, 'VALIDATION_FAILED'],
  ])('%s', async (_name, body, code) => {
    const res = await as('owner', 'PUT', `/api/v1/listings/${activeId}/endpoint`, { body });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.json.error.code).toBe(code);
  });

  test('PATCH and create errors', async () => {
    const bad = await as('owner', 'PATCH', `/api/v1/listings/${activeId}`, { body: { private_endpoint_url: `http://${HOST}${PATH}` } });
    expect(bad.json.error.code).toBe('UNSAFE_ENDPOINT_URL');
    const { nonce } = await solvedListingPow(t.call, owner);
    const created = await as('owner', 'POST', '/api/v1/listings', { body: { ...LISTING_FIELDS, pow_nonce: nonce, category: 'zzz', private_endpoint_url: PRIVATE_URL } });
    expect(created.json.error.code).toBe('UNKNOWN_CATEGORY');
    const draft = await as('owner', 'POST', '/api/v1/listings', { body: { ...LISTING_FIELDS, pow_nonce: nonce, private_endpoint_url: `ftp://${HOST}${PATH}` } });
    expect(draft.json.error.code).toBe('UNSAFE_ENDPOINT_URL');
  });
});

describe('endpoint changes stay private', () => {
  test('new URL and cleared auth are reflected only as safe metadata', async () => {
    const moved = await as('owner', 'PUT', `/api/v1/listings/${activeId}/endpoint`, { body: { private_endpoint_url: NEW_URL } }, { mayShowHost: true });
    expect(moved.json.data).toMatchObject({ host: HOST, has_upstream_auth: true, upstream_auth_header_name: 'Authorization', timeout_ms: 5000 });
    const cleared = await as('owner', 'PUT', `/api/v1/listings/${activeId}/endpoint`, { body: { upstream_auth_header_name: null, upstream_auth_header_value: null } }, { mayShowHost: true });
    expect(cleared.json.data).toMatchObject({ has_upstream_auth: false, upstream_auth_header_name: null });
    const meta = await as('owner', 'GET', `/api/v1/listings/${activeId}/endpoint`, {}, { mayShowHost: true });
    expect(Object.keys(meta.json.data).sort()).toEqual([
      'configured', 'has_upstream_auth', 'host', 'last_test', 'listing_id', 'max_request_bytes', 'max_response_bytes',
      'previous_secret_valid_until', 'secret_prefix', 'secret_rotated_at', 'status', 'timeout_ms', 'updated_at', 'upstream_auth_header_name',
    ]);
    expect(meta.json.data.last_test).toMatchObject({ ok: false, error_code: 'UPSTREAM_UNREACHABLE' });
  });

  test('public listing objects carry exactly the public fields', async () => {
    const res = await as('guest', 'GET', `/api/v1/listings/${activeId}`);
    expect(Object.keys(res.json.data).sort()).toEqual([
      'auth_method', 'category', 'connection_instructions', 'created_at', 'delivery_type', 'description', 'formats', 'gateway_url',
      'id', 'name', 'pricing_amount', 'pricing_currency', 'pricing_model', 'provider', 'rating', 'slug', 'stats', 'status', 'tags', 'updated_at',
    ]);
    expect(Object.keys(res.json.data.provider).sort()).toEqual(['account_type', 'display_name', 'id', 'score', 'tier', 'verified']);
  });
});

test('no response ever contains the private URL, its path, the auth value or a secret (host: owner endpoint metadata only)', () => {
  expect(seen.length).toBeGreaterThan(60);
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  // The detector can fire: the creation response does hold its secret (once) and the host.
  expect(seen.find((s) => s.label === 'create active')?.res.text).toContain(secrets[0]!);
  expect(seen.find((s) => s.label === 'create active')?.res.text).toContain(HOST);
  for (const s of seen) {
    const text = s.res.text + JSON.stringify([...s.res.headers.entries()]);
    const forbidden = [PRIVATE_URL, PATH, 'token=q9z', NEW_URL, '/moved-path-44c1', AUTH_VALUE, 'upstream-credential-5d1e9b', ...secrets.filter((x) => x !== s.allowedSecret)];
    if (!s.mayShowHost) forbidden.push(HOST);
    for (const value of forbidden) {
      if (text.includes(value)) throw new Error(`${s.label} (${s.res.status}) leaked ${value.slice(0, 12)}…`);
    }
  }
  // The logs are clean too.
  const logs = t.logger.lines.join('\n');
  for (const value of [PRIVATE_URL, PATH, NEW_URL, AUTH_VALUE, ...secrets]) expect(logs).not.toContain(value);
});
