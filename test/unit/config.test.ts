import { expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';

const USDC_BASE = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const EVM_TREASURY = '0x52908400098527886E0F7030069857D2E4169EE7';
const USDC_MINT = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const SOL_TREASURY = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';

test('defaults match the SPEC table', () => {
  const c = loadConfig({ env: {} });
  expect(c).toMatchObject({
    port: 8787, host: '0.0.0.0', public_url: 'http://localhost:8787', log_level: 'info', challenge_ttl_seconds: 120,
    rate_limit_read_per_min: 60, rate_limit_write_per_min: 20, rate_limit_auth_per_5min: 10,
    rate_limit_gateway_per_min: 120, rate_limit_listing_per_min: 600, allow_private_upstreams: false,
    payment_routes: [], fee_bps: 0, max_price_usd: '1000', payment_intent_ttl_seconds: 900,
    sweep_interval_seconds: 60, paid_response_ttl_seconds: 86400,
  });
  expect(c.data_dir).toEndWith('crochet-data');
  expect(c.pow_difficulty).toEqual({ register: 5, recover: 5, link_wallet: 4, claim_agent: 4, listing: 4 });
  expect(c.cron_secret).toBeUndefined();
  expect(Object.isFrozen(c)).toBe(true);
});

test('file < env < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ port: 1000, CROCHET_LOG_LEVEL: 'debug', fee_bps: 250 }));
  const c = loadConfig({ env: { CROCHET_CONFIG: file, CROCHET_PORT: '2000' }, flags: { 'fee-bps': '300' } });
  expect(c.port).toBe(2000);
  expect(c.log_level).toBe('debug');
  expect(c.fee_bps).toBe(300);
  expect(c.public_url).toBe('http://localhost:2000');
  expect(loadConfig({ env: { CROCHET_PORT: '2000' }, flags: { port: '3000' } }).port).toBe(3000);
});

test.each([
  [{ CROCHET_PORT: 'abc' }, /^CROCHET_PORT: .*\(got "abc"\)/],
  [{ CROCHET_PORT: '70000' }, /^CROCHET_PORT: /],
  [{ CROCHET_LOG_LEVEL: 'loud' }, /^CROCHET_LOG_LEVEL: /],
  [{ CROCHET_PUBLIC_URL: 'not a url' }, /^CROCHET_PUBLIC_URL: /],
  [{ CROCHET_PAYMENT_ROUTES: '[{' }, /^CROCHET_PAYMENT_ROUTES: expected a JSON array/],
  [{ CROCHET_PAYMENT_ROUTES: '[{"network":"eip155:1"}]' }, /^CROCHET_PAYMENT_ROUTES at 0\.rpc_url: /m],
  [{ CROCHET_MAX_PRICE_USD: '1.1234567' }, /^CROCHET_MAX_PRICE_USD: .*6 decimals/],
])('fails fast naming the option: %p', (env, message) => {
  expect(() => loadConfig({ env })).toThrow(ConfigError);
  expect(() => loadConfig({ env })).toThrow(message);
});

test('secrets are never echoed in config errors', () => {
  expect(() => loadConfig({ env: { CROCHET_CRON_SECRET: 'short-secret' } })).toThrow(/^CROCHET_CRON_SECRET: [^"]*$/);
});

test('an unknown flag is refused', () => {
  expect(() => loadConfig({ env: {}, flags: { prot: '1' } })).toThrow('unknown option --prot');
});

test('payment routes parse, and chain-specific fields are checked', () => {
  const routes = JSON.stringify([
    { network: 'eip155:31337', rpc_url: 'http://127.0.0.1:8545', asset: USDC_BASE, confirmations: 2, min_amount: '0.05', treasury: EVM_TREASURY },
    { network: 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1', rpc_url: 'http://127.0.0.1:8899', asset: USDC_MINT, commitment: 'finalized', treasury: SOL_TREASURY },
  ]);
  const c = loadConfig({ env: { CROCHET_PAYMENT_ROUTES: routes } });
  expect(c.payment_routes).toHaveLength(2);
  expect(c.payment_routes[0]).toMatchObject({ decimals: 6, min_amount: '0.05' });
  expect(() =>
    loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([{ network: 'eip155:1', rpc_url: 'http://x', asset: USDC_BASE, commitment: 'finalized', treasury: EVM_TREASURY }]) } }),
  ).toThrow(/commitment/);
});

test.each([
  [{ asset: '0xabc' }, /at 0 \(eip155:1\)\.asset: expected 0x \+ 40 hex/],
  [{ treasury: 'not-an-address' }, /\.treasury: expected 0x \+ 40 hex/],
])('EVM route addresses are checked: %p', (override, message) => {
  const route = { network: 'eip155:1', rpc_url: 'http://x', asset: USDC_BASE, confirmations: 1, treasury: EVM_TREASURY, ...override };
  expect(() => loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([route]) } })).toThrow(message);
});

test('Solana route addresses are checked, and one network+asset pair is configured once', () => {
  const sol = { network: 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1', rpc_url: 'http://x', asset: USDC_MINT, treasury: SOL_TREASURY };
  expect(() => loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([{ ...sol, asset: 'Mint' }]) } })).toThrow(/\.asset: expected a base58 32-byte address/);
  expect(() => loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([sol, { ...sol, min_amount: '1' }]) } })).toThrow(/already configured/);
  const evm = { network: 'eip155:1', rpc_url: 'http://x', asset: USDC_BASE, treasury: EVM_TREASURY };
  expect(() => loadConfig({ env: { CROCHET_PAYMENT_ROUTES: JSON.stringify([evm, { ...evm, asset: USDC_BASE.toLowerCase() }]) } })).toThrow(/already configured/);
});

test('--help shows the same default as the config for every scalar option', async () => {
  const { CONFIG_KEYS, describeOptions } = await import('../../src/config.ts');
  const c = loadConfig({ env: {} }) as unknown as Record<string, unknown>;
  const help = describeOptions();
  for (const key of CONFIG_KEYS) {
    const value = c[key];
    if (typeof value !== 'number' && typeof value !== 'string') continue;
    // Derived at load time: help shows how (relative folder, `http://localhost:<port>`).
    if (key === 'data_dir' || key === 'public_url') continue;
    const line = help.split('\n').find((l) => l.includes(`CROCHET_${key.toUpperCase()} `));
    expect(line, key).toBeDefined();
    expect(line).toContain(`default: ${value}`);
  }
});

test('max_json_depth: default 64, env and --max-json-depth, bounded', () => {
  expect(loadConfig({ env: {} }).max_json_depth).toBe(64);
  expect(loadConfig({ env: { CROCHET_MAX_JSON_DEPTH: '32' } }).max_json_depth).toBe(32);
  expect(loadConfig({ env: { CROCHET_MAX_JSON_DEPTH: '32' }, flags: { 'max-json-depth': '100' } }).max_json_depth).toBe(100);
  expect(() => loadConfig({ env: { CROCHET_MAX_JSON_DEPTH: '1' } })).toThrow(/^CROCHET_MAX_JSON_DEPTH: /);
  expect(() => loadConfig({ env: { CROCHET_MAX_JSON_DEPTH: '100000' } })).toThrow(/^CROCHET_MAX_JSON_DEPTH: /);
});

test('x402: settling keys parse, route fields default off, and bad keys are refused without echoing them', () => {
  const key = `0x${'11'.repeat(32)}`;
  const feePayer = '4'.repeat(20); // not 64 bytes
  const routes = JSON.stringify([{ network: 'eip155:8453', rpc_url: 'https://rpc.example', asset: USDC_BASE, treasury: EVM_TREASURY, x402: 'false', eip712_name: 'USD Coin', eip712_version: '2' }]);
  const c = loadConfig({ env: { CROCHET_X402_EVM_RELAYER_KEY: key.slice(2), CROCHET_PAYMENT_ROUTES: routes } });
  expect(c.x402_evm_relayer_key).toBe(key as `0x${string}`);
  expect(c.x402_solana_fee_payer).toBeUndefined();
  expect(c.x402_settle_wait_seconds).toBe(25);
  expect(c.payment_routes[0]).toMatchObject({ x402: false, eip712_name: 'USD Coin', eip712_version: '2' });
  expect(() => loadConfig({ env: { CROCHET_X402_EVM_RELAYER_KEY: 'zz-not-a-key' } })).toThrow(/^CROCHET_X402_EVM_RELAYER_KEY: [^"]*$/);
  expect(() => loadConfig({ env: { CROCHET_X402_SOLANA_FEE_PAYER: feePayer } })).toThrow(/^CROCHET_X402_SOLANA_FEE_PAYER: expected a base58 64-byte secret key$/);
  const solRoute = JSON.stringify([{ network: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp', rpc_url: 'https://rpc.example', asset: USDC_MINT, treasury: SOL_TREASURY, eip712_name: 'x' }]);
  expect(() => loadConfig({ env: { CROCHET_PAYMENT_ROUTES: solRoute } })).toThrow(/eip712_name.*EVM routes/);
});
