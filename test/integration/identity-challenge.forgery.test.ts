// Threat: an attacker registers, recovers or links a wallet it does not control by replaying, reusing or forging challenge answers.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { checkPow } from '../../src/shared/pow.ts';
import { createTestApp, proveWallet, registerAgent, type TestContext } from '../support/app.ts';
import { evmWallet, solanaWallet } from '../support/wallets.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ CROCHET_CHALLENGE_TTL_SECONDS: '120' });
});
afterAll(() => t.close());

const register = (body: Record<string, unknown>) => t.call('POST', '/api/v1/register', { body: { display_name: 'X', ...body } });

function expectError(res: { status: number; json: any; text: string }, status: number, code: string, nextAction?: string) {
  expect(res.status).toBe(status);
  expect(res.json.success).toBe(false);
  expect(res.json.error.code).toBe(code);
  expect(res.json.error.recovery).toBeDefined();
  expect(typeof res.json.error.recovery.retryable).toBe('boolean');
  if (nextAction) expect(res.json.error.recovery.next_action).toBe(nextAction);
  expect(res.text).not.toMatch(/stack|SQLITE|at \w+ \(/i);
}

describe.each([
  ['EVM', evmWallet],
  ['Solana', () => solanaWallet()],
] as const)('%s', (_n, makeWallet) => {
  test('expired challenge', async () => {
    const { proof } = await proveWallet(t.call, makeWallet(), 'register');
    t.clock.advance(121_000);
    expectError(await register(proof), 400, 'CHALLENGE_EXPIRED', 'restart_challenge');
  });

  test('reused challenge', async () => {
    const { proof } = await proveWallet(t.call, makeWallet(), 'register');
    expect((await register(proof)).status).toBe(201);
    expectError(await register(proof), 400, 'CHALLENGE_ALREADY_USED', 'restart_challenge');
  });

  test('wrong purpose', async () => {
    const wallet = makeWallet();
    const { proof } = await proveWallet(t.call, wallet, 'link_wallet', { key: (await registerAgent(t.call, evmWallet())).key });
    expectError(await register(proof), 400, 'CHALLENGE_PURPOSE_MISMATCH', 'restart_challenge');
  });

  test('signature by another key', async () => {
    const wallet = makeWallet();
    const other = makeWallet();
    const { proof, challenge } = await proveWallet(t.call, wallet, 'register');
    expectError(await register({ ...proof, signature: await other.sign(challenge.message) }), 401, 'SIGNATURE_INVALID', 'restart_challenge');
  });

  test('tampered message: signing altered text fails; sending altered text is named', async () => {
    const wallet = makeWallet();
    const { proof, challenge } = await proveWallet(t.call, wallet, 'register');
    const tampered = challenge.message.replace('Register a new', 'Register an old');
    expectError(await register({ ...proof, signature: await wallet.sign(tampered) }), 401, 'SIGNATURE_INVALID');
    const again = await proveWallet(t.call, wallet, 'register');
    const altered = again.challenge.message + '\nResources: evil';
    expectError(await register({ ...again.proof, message: altered, signature: await wallet.sign(altered) }), 400, 'CHALLENGE_MESSAGE_MISMATCH', 'restart_challenge');
  });

  test('wrong PoW, and PoW solved for another challenge', async () => {
    const wallet = makeWallet();
    const a = await proveWallet(t.call, wallet, 'register');
    const b = await proveWallet(t.call, wallet, 'register');
    expectError(await register({ ...a.proof, pow_nonce: unsolving(a.challenge.pow.challenge) }), 400, 'POW_INVALID', 'restart_challenge');
    // A genuine solution of b's puzzle that happens not to solve a's.
    const solvedForB = solving(b.challenge.pow.challenge, (n) => !checkPow(a.challenge.pow.challenge, 1, n));
    expect(checkPow(b.challenge.pow.challenge, 1, solvedForB)).toBe(true);
    expectError(await register({ ...a.proof, pow_nonce: solvedForB }), 400, 'POW_INVALID');
    // The honest answer still works (two failures do not retire the challenge).
    expect((await register(a.proof)).status).toBe(201);
  });

  test('a challenge is retired after 5 failed attempts', async () => {
    const wallet = makeWallet();
    const other = makeWallet();
    const { proof, challenge } = await proveWallet(t.call, wallet, 'register');
    const forged = await other.sign(challenge.message);
    for (let i = 0; i < 5; i++) expectError(await register({ ...proof, signature: forged }), 401, 'SIGNATURE_INVALID');
    // The genuine answer now fails too: the challenge is spent.
    expectError(await register(proof), 400, 'CHALLENGE_ALREADY_USED');
  });
});

test('a challenge answered for another address is refused', async () => {
  const a = evmWallet();
  const b = evmWallet();
  const { proof } = await proveWallet(t.call, a, 'register');
  expectError(await register({ ...proof, wallet_address: b.address, signature: await b.sign('x') }), 400, 'CHALLENGE_ADDRESS_MISMATCH');
});

test('unknown nonce', async () => {
  const w = evmWallet();
  expectError(await register({ wallet_address: w.address, nonce: 'nope', signature: '0x00', pow_nonce: '1' }), 400, 'CHALLENGE_NOT_FOUND', 'restart_challenge');
});

test('a link_wallet challenge needs an API key', async () => {
  const res = await t.call('POST', '/api/v1/auth/challenge', { body: { wallet_address: evmWallet().address, purpose: 'link_wallet' } });
  expectError(res, 401, 'AUTH_REQUIRED');
});

/** A pow_nonce that does not solve `challenge` at difficulty 1. */
function unsolving(challenge: string): string {
  for (let i = 0; ; i++) if (!checkPow(challenge, 1, `n${i}`)) return `n${i}`;
}

/** A pow_nonce that solves `challenge` at difficulty 1 and passes `accept`. */
function solving(challenge: string, accept: (nonce: string) => boolean): string {
  for (let i = 0; ; i++) if (checkPow(challenge, 1, `s${i}`) && accept(`s${i}`)) return `s${i}`;
}
