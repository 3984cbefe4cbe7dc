// Threat: someone claims an agent they do not control (no wallet proof, another wallet, a proof meant for another agent) or a claim changes trust.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, registerAgent, type TestContext } from '../support/app.ts';
import { as, signUp, type Person } from '../support/humans.ts';
import { createListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { allowSlowSetup } from '../support/timeouts.ts';
import { evmWallet, solanaWallet, type TestWallet } from '../support/wallets.ts';

allowSlowSetup();

let t: TestContext;
let stub: ReturnType<typeof startSellerStub>;
beforeAll(async () => {
  t = await createTestApp({ CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '0', CROCHET_RATE_LIMIT_LISTING_PER_MIN: '0' });
  t.listen();
  stub = startSellerStub({ now: () => t.clock.now(), routes: { '/ok': () => Response.json({ forecast: 'sunny' }) } });
});
afterAll(async () => {
  stub.stop();
  await t.close();
});

async function claimChallenge(person: Person, wallet: TestWallet, profileId: string) {
  const res = await t.call('POST', '/api/v1/auth/challenge', as(person, { body: { wallet_address: wallet.address, purpose: 'claim_agent', profile_id: profileId } }));
  if (res.status !== 200) throw new Error(`claim challenge: ${res.status} ${res.text}`);
  return res.json.data as { nonce: string; message: string };
}

async function claim(person: Person, wallet: TestWallet, profileId: string, challengeFor = profileId) {
  const challenge = await claimChallenge(person, wallet, challengeFor);
  return t.call('POST', `/api/v1/agents/${profileId}/claim`, as(person, { body: { wallet_address: wallet.address, nonce: challenge.nonce, signature: await wallet.sign(challenge.message) } }));
}

for (const [chain, makeWallet] of [['EVM', () => evmWallet()], ['Solana', () => solanaWallet()]] as const) {
  test(`a person claims an agent with its ${chain} wallet's signature; score and checkmark do not change`, async () => {
    const wallet = makeWallet();
    const agent = await registerAgent(t.call, wallet, `${chain} agent`);
    const person = await signUp(t.call);
    const before = (await t.call('GET', `/api/v1/agents/${agent.profile.id}/score`)).json.data;
    const res = await claim(person, wallet, agent.profile.id);
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ id: agent.profile.id, account_type: 'human_claimed_agent', claimed_by: person.profileId });
    const after = (await t.call('GET', `/api/v1/agents/${agent.profile.id}/score`)).json.data;
    expect({ score: after.score, verified: after.verified, tier: after.tier }).toEqual({ score: before.score, verified: before.verified, tier: before.tier });
    // The agent keeps working with its key, now shown as claimed.
    const me = await t.call('GET', '/api/v1/me', { key: agent.key });
    expect(me.json.data).toMatchObject({ account_type: 'human_claimed_agent', claimed_by: person.profileId });
    // A second claim (by anyone) is refused.
    const again = await claim(await signUp(t.call), wallet, agent.profile.id);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('NOT_CLAIMABLE');
  });
}

test('a claim challenge needs a signed-in person (with CSRF) and a profile id', async () => {
  const wallet = evmWallet();
  const agent = await registerAgent(t.call, wallet);
  const body = { wallet_address: wallet.address, purpose: 'claim_agent', profile_id: agent.profile.id };
  expect((await t.call('POST', '/api/v1/auth/challenge', { body })).status).toBe(401);
  expect((await t.call('POST', '/api/v1/auth/challenge', { body, key: agent.key })).status).toBe(401);
  const person = await signUp(t.call);
  expect((await t.call('POST', '/api/v1/auth/challenge', { body, headers: { cookie: person.cookie } })).status).toBe(403);
  const noProfile = await t.call('POST', '/api/v1/auth/challenge', as(person, { body: { wallet_address: wallet.address, purpose: 'claim_agent' } }));
  expect(noProfile.status).toBe(400);
  expect(noProfile.json.error.code).toBe('CLAIM_PROFILE_REQUIRED');
});

test('a wallet that is not the agent\'s, or a proof made for another agent, claims nothing', async () => {
  const wallet = evmWallet();
  const agent = await registerAgent(t.call, wallet);
  const other = await registerAgent(t.call, solanaWallet());
  const person = await signUp(t.call);
  const stranger = evmWallet();
  const wrongWallet = await claim(person, stranger, agent.profile.id);
  expect(wrongWallet.status).toBe(403);
  expect(wrongWallet.json.error.code).toBe('CLAIM_WALLET_NOT_AUTHORIZED');
  const otherAgentsWallet = await claim(person, other.wallet, agent.profile.id);
  expect(otherAgentsWallet.json.error.code).toBe('CLAIM_WALLET_NOT_AUTHORIZED');
  // The agent's own wallet, but the challenge names another profile.
  const crossed = await claim(person, wallet, other.profile.id, agent.profile.id);
  expect(crossed.status).toBe(403);
  expect(crossed.json.error.code).toBe('CHALLENGE_PROFILE_MISMATCH');
  // A proof the agent made for one person does not work for another who got hold of it.
  const leaked = await claimChallenge(person, wallet, agent.profile.id);
  const thief = await signUp(t.call);
  const stolen = await t.call('POST', `/api/v1/agents/${agent.profile.id}/claim`, as(thief, { body: { wallet_address: wallet.address, nonce: leaked.nonce, signature: await wallet.sign(leaked.message) } }));
  expect([stolen.status, stolen.json.error.code]).toEqual([403, 'CHALLENGE_PROFILE_MISMATCH']);
  // A bad signature.
  const challenge = await claimChallenge(person, wallet, agent.profile.id);
  const forged = await t.call('POST', `/api/v1/agents/${agent.profile.id}/claim`, as(person, { body: { wallet_address: wallet.address, nonce: challenge.nonce, signature: await stranger.sign(challenge.message) } }));
  expect(forged.json.error.code).toBe('SIGNATURE_INVALID');
  // A person's own profile is not claimable.
  const self = await t.call('POST', `/api/v1/agents/${person.profileId}/claim`, as(person, { body: { wallet_address: wallet.address, nonce: 'n', signature: 's' } }));
  expect(self.status).toBe(409);
  expect((await t.call('GET', '/api/v1/me', { key: agent.key })).json.data.account_type).toBe('agent');
});

test('the dashboard lists claimed agents with listings, reviews, score, gateway calls and ledger; nobody else sees them', async () => {
  const wallet = evmWallet();
  const seller = await registerAgent(t.call, wallet, 'Seller');
  const listing = await createListing(t.call, seller.key, { name: 'Dashboard oracle', private_endpoint_url: stub.url('/ok') });
  stub.setSecrets([listing.gateway_endpoint.signing_secret]);
  const buyer = await registerAgent(t.call, solanaWallet(), 'Buyer');
  const called = await t.call('POST', `/api/v1/gateway/${listing.id}`, { rawBody: '{"city":"Lyon"}', key: buyer.key, headers: { 'content-type': 'application/json' } });
  expect(called.status).toBe(200);
  const reviewed = await t.call('POST', `/api/v1/reviews/${listing.id}`, { key: buyer.key, body: { accuracy_rating: 5, reliability_rating: 4, value_rating: 3, title: 'Good', comment: 'Sunny indeed.' } });
  expect(reviewed.status).toBe(201);
  const person = await signUp(t.call);
  expect((await claim(person, wallet, seller.profile.id)).status).toBe(200);
  const res = await t.call('GET', '/api/v1/humans/me/agents', as(person));
  expect(res.status).toBe(200);
  expect(res.json.data).toHaveLength(1);
  const [entry] = res.json.data;
  expect(entry.profile.id).toBe(seller.profile.id);
  expect(entry.listings.map((l: { id: string }) => l.id)).toEqual([listing.id]);
  expect(entry.reviews.map((r: { title: string }) => r.title)).toEqual(['Good']);
  expect(entry.gateway_requests).toHaveLength(1);
  expect(entry.gateway_requests[0]).toMatchObject({ listing_id: listing.id, role: 'seller' });
  expect(entry.score).toHaveProperty('components');
  expect(entry.ledger.balance.profile_id).toBe(seller.profile.id);
  expect(Array.isArray(entry.ledger.recent_entries)).toBe(true);
  // The private endpoint and its secret never appear.
  expect(res.text).not.toContain(stub.url('/ok'));
  expect(res.text).not.toContain(listing.gateway_endpoint.signing_secret);
  const someoneElse = await signUp(t.call);
  expect((await t.call('GET', '/api/v1/humans/me/agents', as(someoneElse))).json.data).toEqual([]);
});
