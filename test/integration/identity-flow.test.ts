import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, proveWallet, registerAgent, type TestContext } from '../support/app.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

// These flows run over real HTTP against a server listening on a temporary SQLite file.
let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
  t.listen();
});
afterAll(() => t.close());

describe.each([
  ['EVM', evmWallet],
  ['Solana', () => solanaWallet()],
  ['Solana (base64 signature)', () => solanaWallet('base64')],
] as const)('%s wallet', (_name, makeWallet) => {
  test('register → /me → second key → revoke first → first is 401, second works', async () => {
    const wallet = makeWallet();
    const { proof, challenge } = await proveWallet(t.call, wallet, 'register');
    expect(challenge.message).toContain(wallet.address);
    expect(challenge.message).toContain(`Nonce: ${challenge.nonce}`);
    expect(challenge.message).toContain('localhost:8787 wants you to sign in with your');
    expect(challenge.pow).toMatchObject({ algorithm: 'sha256', difficulty: 1 });

    const reg = await t.call('POST', '/api/v1/register', { body: { ...proof, display_name: 'Alpha' } });
    expect(reg.status).toBe(201);
    const first = reg.json.data.api_key as string;
    expect(first).toMatch(/^am_k_[A-Za-z0-9_-]{40,}$/);
    expect(reg.json.data.authorization_header).toBe(`Bearer ${first}`);
    expect(reg.json.data.profile).toMatchObject({ display_name: 'Alpha', account_type: 'agent', claimed_by: null });
    expect(reg.json.data.profile.wallets).toEqual([
      expect.objectContaining({ chain: wallet.chain, address: wallet.address, roles: ['auth', 'recovery', 'payment', 'payout'], status: 'active', default_payout: true }),
    ]);

    const me = await t.call('GET', '/api/v1/me', { key: first });
    expect(me.status).toBe(200);
    expect(me.json.data.id).toBe(reg.json.data.profile.id);
    // A new profile has no evidence yet: score 0, tier low, no checkmark, no snapshot.
    expect(me.json.data.score).toEqual({ score: 0, tier: 'low', verified: false, computed_at: null, stale: true });

    const created = await t.call('POST', '/api/v1/api-keys', { key: first, body: { name: 'second' } });
    expect(created.status).toBe(201);
    const second = created.json.data.api_key as string;
    expect(second).not.toBe(first);

    const list = await t.call('GET', '/api/v1/api-keys', { key: second });
    expect(list.json.data).toHaveLength(2);
    // Metadata only: neither raw key nor hash is ever listed.
    expect(list.text).not.toContain(first);
    expect(list.text).not.toContain(second);
    expect(list.json.data[0]).not.toHaveProperty('key_hash');
    const firstId = list.json.data.find((k: { name: string }) => k.name === 'default').id;

    const revoked = await t.call('DELETE', `/api/v1/api-keys/${firstId}`, { key: second });
    expect(revoked.status).toBe(200);
    expect(revoked.json.data.revoked_at).toBeString();

    const afterRevoke = await t.call('GET', '/api/v1/me', { key: first });
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.json.error.code).toBe('API_KEY_REVOKED');
    expect(afterRevoke.json.error.recovery.next_action).toBe('recover');
    expect((await t.call('GET', '/api/v1/me', { key: second })).status).toBe(200);
  });

  test('recover issues a new working key; old keys stay valid', async () => {
    const wallet = makeWallet();
    const agent = await registerAgent(t.call, wallet);
    const { proof } = await proveWallet(t.call, wallet, 'recover');
    const rec = await t.call('POST', '/api/v1/auth/recover', { body: proof });
    expect(rec.status).toBe(200);
    expect(rec.json.data.api_key).not.toBe(agent.key);
    expect(rec.json.data.profile.id).toBe(agent.profile.id);
    expect((await t.call('GET', '/api/v1/me', { key: rec.json.data.api_key })).json.data.id).toBe(agent.profile.id);
    expect((await t.call('GET', '/api/v1/me', { key: agent.key })).status).toBe(200);
  });
});

test('a register challenge for a registered wallet is issued, and /register answers 409 with next_action recover', async () => {
  const wallet = evmWallet();
  await registerAgent(t.call, wallet);
  const { proof } = await proveWallet(t.call, wallet, 'register');
  const res = await t.call('POST', '/api/v1/register', { body: { ...proof, display_name: 'Again' } });
  expect(res.status).toBe(409);
  expect(res.json.error.code).toBe('WALLET_ALREADY_REGISTERED');
  expect(res.json.error.recovery.next_action).toBe('recover');
});

test('a recover challenge for an unknown wallet is refused at once', async () => {
  const res = await t.call('POST', '/api/v1/auth/challenge', { body: { wallet_address: evmWallet().address, purpose: 'recover' } });
  expect(res.status).toBe(404);
  expect(res.json.error.code).toBe('WALLET_NOT_REGISTERED');
  expect(res.json.error.recovery.next_action).toBe('register');
});

describe('wallet linking', () => {
  test('link a Solana wallet to an EVM-registered profile with both proofs', async () => {
    const evm = evmWallet();
    const sol = solanaWallet();
    const agent = await registerAgent(t.call, evm);
    const existing = await proveWallet(t.call, evm, 'link_wallet', { key: agent.key });
    const fresh = await proveWallet(t.call, sol, 'link_wallet', { key: agent.key });
    const res = await t.call('POST', '/api/v1/me/wallets', {
      key: agent.key,
      body: { existing: strip(existing.proof), new: strip(fresh.proof) },
    });
    expect(res.status).toBe(201);
    expect(res.json.data).toMatchObject({ chain: 'solana', address: sol.address, default_payout: true, roles: ['auth', 'recovery', 'payment', 'payout'] });
    const wallets = await t.call('GET', '/api/v1/me/wallets', { key: agent.key });
    expect(wallets.json.data.map((w: { address: string }) => w.address).sort()).toEqual([evm.address, sol.address].sort());
    const one = await t.call('GET', `/api/v1/me/wallets/${res.json.data.id}`, { key: agent.key });
    expect(one.json.data.address).toBe(sol.address);

    // The linked wallet can now recover the profile.
    const { proof } = await proveWallet(t.call, sol, 'recover');
    const rec = await t.call('POST', '/api/v1/auth/recover', { body: proof });
    expect(rec.json.data.profile.id).toBe(agent.profile.id);
  });

  test('linking a wallet that belongs to another profile fails', async () => {
    const a = await registerAgent(t.call, evmWallet());
    const otherWallet = solanaWallet();
    await registerAgent(t.call, otherWallet);
    const existing = await proveWallet(t.call, a.wallet, 'link_wallet', { key: a.key });
    const fresh = await proveWallet(t.call, otherWallet, 'link_wallet', { key: a.key });
    const res = await t.call('POST', '/api/v1/me/wallets', { key: a.key, body: { existing: strip(existing.proof), new: strip(fresh.proof) } });
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('WALLET_ALREADY_LINKED');
    expect(res.json.error.recovery).toBeDefined();
  });

  test('the existing proof must come from a wallet of the caller', async () => {
    const a = await registerAgent(t.call, evmWallet());
    const b = await registerAgent(t.call, evmWallet());
    // b's wallet signs a challenge bound to a: the challenge binding refuses it.
    const existing = await proveWallet(t.call, b.wallet, 'link_wallet', { key: a.key });
    const fresh = await proveWallet(t.call, solanaWallet(), 'link_wallet', { key: a.key });
    const res = await t.call('POST', '/api/v1/me/wallets', { key: a.key, body: { existing: strip(existing.proof), new: strip(fresh.proof) } });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('WALLET_NOT_AUTHORIZED');
  });

  test('PATCH cannot leave the profile without an active recovery wallet', async () => {
    const evm = evmWallet();
    const agent = await registerAgent(t.call, evm);
    const walletId = agent.profile.wallets[0].id;
    for (const body of [{ status: 'disabled' }, { roles: ['auth', 'payment', 'payout'] }]) {
      const res = await t.call('PATCH', `/api/v1/me/wallets/${walletId}`, { key: agent.key, body });
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('RECOVERY_WALLET_REQUIRED');
      expect(res.json.error.recovery.next_action).toBe('link_wallet');
    }
    // With a second recovery wallet linked, the first may be disabled; payout default moves with it.
    const evm2 = evmWallet();
    const existing = await proveWallet(t.call, evm, 'link_wallet', { key: agent.key });
    const fresh = await proveWallet(t.call, evm2, 'link_wallet', { key: agent.key });
    const linked = await t.call('POST', '/api/v1/me/wallets', { key: agent.key, body: { existing: strip(existing.proof), new: strip(fresh.proof) } });
    expect(linked.json.data.default_payout).toBe(false);
    const disabled = await t.call('PATCH', `/api/v1/me/wallets/${walletId}`, { key: agent.key, body: { status: 'disabled' } });
    expect(disabled.status).toBe(200);
    expect(disabled.json.data).toMatchObject({ status: 'disabled', default_payout: false });
    const second = await t.call('GET', `/api/v1/me/wallets/${linked.json.data.id}`, { key: agent.key });
    expect(second.json.data.default_payout).toBe(true);
    // And now the remaining one cannot lose its recovery role.
    const last = await t.call('PATCH', `/api/v1/me/wallets/${linked.json.data.id}`, { key: agent.key, body: { roles: ['auth'] } });
    expect(last.json.error.code).toBe('RECOVERY_WALLET_REQUIRED');
  });

  test("another agent cannot see or change a profile's wallets", async () => {
    const a = await registerAgent(t.call, evmWallet());
    const b = await registerAgent(t.call, evmWallet());
    const id = a.profile.wallets[0].id;
    expect((await t.call('GET', `/api/v1/me/wallets/${id}`, { key: b.key })).status).toBe(404);
    expect((await t.call('PATCH', `/api/v1/me/wallets/${id}`, { key: b.key, body: { status: 'disabled' } })).status).toBe(404);
    expect((await t.call('DELETE', `/api/v1/api-keys/${id}`, { key: b.key })).status).toBe(404);
  });
});

/** Link proofs carry no PoW. */
const strip = ({ pow_nonce: _pow, ...rest }: { pow_nonce: string; wallet_address: string; nonce: string; signature: string }) => rest;

test('sign-in messages carry every SIWE/SIWS field; Chain ID is the first EVM route (else 1) or the Solana route (else mainnet)', async () => {
  const messageFor = async (call: TestContext['call'], wallet: { address: string }) =>
    (await call('POST', '/api/v1/auth/challenge', { body: { wallet_address: wallet.address, purpose: 'register' } })).json.data as { message: string; nonce: string; expires_at: string };
  const evm = evmWallet();
  const { message, nonce, expires_at } = await messageFor(t.call, evm);
  expect(message.split('\n')).toEqual([
    'localhost:8787 wants you to sign in with your Ethereum account:', evm.address, '', 'Register a new Crochet agent profile with this wallet.', '',
    'URI: http://localhost:8787', 'Version: 1', 'Chain ID: 1', `Nonce: ${nonce}`, `Issued At: ${t.clock.now().toISOString()}`, `Expiration Time: ${expires_at}`,
  ]);
  expect((await messageFor(t.call, solanaWallet())).message).toContain('\nChain ID: mainnet\n');

  const solanaNetwork = 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp';
  const route = (network: string) =>
    network.startsWith('solana:')
      ? { network, rpc_url: 'http://127.0.0.1:9', asset: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v', treasury: solanaWallet().address, commitment: 'finalized' }
      : { network, rpc_url: 'http://127.0.0.1:9', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', treasury: evmWallet().address };
  const routed = await createTestApp({ CROCHET_PAYMENT_ROUTES: JSON.stringify([route(solanaNetwork), route('eip155:8453'), route('eip155:1')]) });
  try {
    expect((await messageFor(routed.call, evmWallet())).message).toContain('\nChain ID: 8453\n');
    const sol = await messageFor(routed.call, solanaWallet());
    expect(sol.message).toStartWith('localhost:8787 wants you to sign in with your Solana account:\n');
    expect(sol.message).toContain(`\nChain ID: ${solanaNetwork}\n`);
  } finally {
    await routed.close();
  }
});
