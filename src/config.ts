import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { getBase58Encoder } from '@solana/kit';
import { isEvmNetwork, parseWalletAddress } from './shared/wallet-address.ts';

/**
 * Configuration: defaults → JSON file → `CROCHET_*` env → flags, validated once and frozen.
 * This is the only module that reads `process.env`.
 */

const bool = z.union([z.boolean(), z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])]).transform((v) =>
  typeof v === 'boolean' ? v : ['1', 'true', 'yes', 'on'].includes(v),
);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const decimalUsd = z
  .union([z.number(), z.string()])
  .transform((v) => String(v).trim())
  .refine((v) => /^\d+(\.\d{1,6})?$/.test(v), 'expected a decimal USD amount with at most 6 decimals');

export const paymentRouteSchema = z
  .object({
    network: z.string().regex(/^(eip155:\d+|solana:[1-9A-HJ-NP-Za-km-z]{32})$/, 'expected eip155:<chainId> or solana:<genesis prefix>'),
    rpc_url: z.url(),
    asset: z.string().min(1),
    decimals: int(0, 18).default(6),
    confirmations: int(0, 1000).optional(),
    commitment: z.enum(['confirmed', 'finalized']).optional(),
    min_amount: decimalUsd.default('0'),
    treasury: z.string().min(1),
    /** Offer x402 on this route (default: true when the family has a settling key). */
    x402: bool.optional(),
    /** EVM: the token's EIP-712 domain for EIP-3009 (read from the contract when absent). */
    eip712_name: z.string().min(1).max(100).optional(),
    eip712_version: z.string().min(1).max(20).optional(),
  })
  .strict();
export type PaymentRouteConfig = z.infer<typeof paymentRouteSchema>;

const configSchema = z
  .object({
    port: int(0, 65535).default(8787),
    host: z.string().min(1).default('0.0.0.0'),
    data_dir: z.string().min(1).default('./crochet-data'),
    public_url: z.url().optional(),
    master_key: z.string().min(1).optional(),
    log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    mode: z.enum(['production', 'development', 'test']).default('production'),
    pow_difficulty: int(0, 8).optional(),
    challenge_ttl_seconds: int(5, 86_400).default(120),
    rate_limit_read_per_min: int(0, 1_000_000).default(60),
    rate_limit_write_per_min: int(0, 1_000_000).default(20),
    rate_limit_auth_per_5min: int(0, 1_000_000).default(10),
    rate_limit_gateway_per_min: int(0, 1_000_000).default(120),
    rate_limit_listing_per_min: int(0, 1_000_000).default(600),
    allow_private_upstreams: bool.default(false),
    // Deeper JSON is refused before any parse (SPEC §1); a higher ceiling would let one body buy
    // recursion deep enough to matter again.
    max_json_depth: int(2, 1_000).default(64),
    payment_routes: z
      .union([z.string(), z.array(z.unknown())])
      .transform((v, ctx) => {
        if (Array.isArray(v)) return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected a JSON array of routes' });
          return z.NEVER;
        }
      })
      .pipe(z.array(paymentRouteSchema))
      .default([]),
    fee_bps: int(0, 10_000).default(0),
    // Keys that submit x402 settlements (SPEC §5): held in memory only, never logged or stored.
    x402_evm_relayer_key: z.string().regex(/^(0x)?[0-9a-fA-F]{64}$/, 'expected a hex 32-byte private key').transform((v) => (v.startsWith('0x') ? v : `0x${v}`) as `0x${string}`).optional(),
    x402_solana_fee_payer: z
      .string()
      .transform((v, ctx) => {
        const bytes = decodeBase58(v.trim());
        if (!bytes || bytes.length !== 64) {
          ctx.addIssue({ code: 'custom', message: 'expected a base58 64-byte secret key' });
          return z.NEVER;
        }
        return bytes;
      })
      .optional(),
    // How long an x402 call waits for its settlement to be final before answering 504 settlement_pending.
    x402_settle_wait_seconds: int(1, 300).default(25),
    max_price_usd: decimalUsd.default('1000'),
    payment_intent_ttl_seconds: int(10, 7 * 86_400).default(900),
    sweep_interval_seconds: int(1, 86_400).default(60),
    paid_response_ttl_seconds: int(0, 30 * 86_400).default(86_400),
    cron_secret: z.string().min(16, 'expected at least 16 characters').optional(),
    // argon2id cost of human passwords; only tests lower it (the algorithm never changes).
    password_memory_kib: int(1024, 1_048_576).default(65_536),
    password_time_cost: int(1, 20).default(2),
  })
  .strict();

type RawConfig = z.infer<typeof configSchema>;

export type Config = Readonly<
  Omit<RawConfig, 'public_url' | 'pow_difficulty' | 'data_dir'> & {
    data_dir: string;
    public_url: string;
    pow_difficulty: Readonly<Record<PowPurpose, number>>;
    /** Options the operator set (file, env or flag): the console shows them as fixed. */
    fixed_keys: readonly string[];
  }
>;

export type PowPurpose = 'register' | 'recover' | 'link_wallet' | 'claim_agent' | 'listing';

/** Names of every option, for `--help` and the README. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof RawConfig)[];

function decodeBase58(s: string): Uint8Array | null {
  if (!/^[1-9A-HJ-NP-Za-km-z]{1,100}$/.test(s)) return null;
  try {
    return new Uint8Array(getBase58Encoder().encode(s));
  } catch {
    return null;
  }
}

const isEvmAddress = (s: string) => parseWalletAddress(s)?.chain === 'evm';
const isSolanaAddress = (s: string) => parseWalletAddress(s)?.chain === 'solana';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const envName = (key: string) => `CROCHET_${key.toUpperCase()}`;
const flagName = (key: string) => `--${key.replace(/_/g, '-')}`;

export type ConfigSources = {
  env?: Record<string, string | undefined>;
  /** Parsed `--flag value` pairs, keys as written without dashes (e.g. `data-dir`). */
  flags?: Record<string, string>;
};

/** Builds the frozen config; throws ConfigError naming the offending option. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const raw: Record<string, unknown> = {};

  const file = flags['config'] ?? env['CROCHET_CONFIG'];
  if (file) Object.assign(raw, readConfigFile(file));

  for (const key of CONFIG_KEYS) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
  }
  for (const [flag, value] of Object.entries(flags)) {
    if (flag === 'config') continue;
    const key = flag.replace(/-/g, '_');
    if (!(CONFIG_KEYS as string[]).includes(key)) throw new ConfigError(`unknown option --${flag} (see --help)`);
    raw[key] = value;
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, raw));
  const c = parsed.data;
  const seen = new Set<string>();
  for (const [i, route] of c.payment_routes.entries()) {
    const where = `CROCHET_PAYMENT_ROUTES at ${i} (${route.network})`;
    const isEvm = isEvmNetwork(route.network);
    if (isEvm && route.commitment) throw new ConfigError(`${where}: "commitment" is for Solana routes; use "confirmations"`);
    if (!isEvm && route.confirmations !== undefined) throw new ConfigError(`${where}: "confirmations" is for EVM routes; use "commitment"`);
    const valid = isEvm ? isEvmAddress : isSolanaAddress;
    const shape = isEvm ? '0x + 40 hex' : 'a base58 32-byte address';
    if (!valid(route.asset)) throw new ConfigError(`${where}.asset: expected ${shape} (got ${JSON.stringify(route.asset).slice(0, 60)})`);
    if (!valid(route.treasury)) throw new ConfigError(`${where}.treasury: expected ${shape} (got ${JSON.stringify(route.treasury).slice(0, 60)})`);
    // Verifiers are per network and asset: a second route for the same pair would be ambiguous.
    const key = `${route.network}|${isEvm ? route.asset.toLowerCase() : route.asset}`;
    if (!isEvm && (route.eip712_name !== undefined || route.eip712_version !== undefined)) throw new ConfigError(`${where}: "eip712_name"/"eip712_version" are for EVM routes`);
    if (seen.has(key)) throw new ConfigError(`${where}: a route for this network and asset is already configured`);
    seen.add(key);
  }

  const d = c.pow_difficulty;
  return Object.freeze({
    ...c,
    fixed_keys: Object.freeze(Object.keys(raw)),
    data_dir: resolve(c.data_dir),
    public_url: (c.public_url ?? `http://localhost:${c.port}`).replace(/\/+$/, ''),
    pow_difficulty: Object.freeze({
      register: d ?? 5,
      recover: d ?? 5,
      link_wallet: d ?? 4,
      claim_agent: d ?? 4,
      listing: d ?? 4,
    }),
  });
}

/**
 * Sets NODE_ENV, which is how Elysia (and Bun's server) tell production from development. Call
 * before anything imports Elysia: it reads the variable once, when first loaded.
 */
export function applyFrameworkMode(mode: 'production' | 'development'): void {
  process.env.NODE_ENV = mode;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(`CROCHET_CONFIG: cannot read config file ${path}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`CROCHET_CONFIG: ${path} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`CROCHET_CONFIG: ${path} must hold a JSON object`);
  }
  // Accept both `port` and `CROCHET_PORT` spellings in the file.
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/^CROCHET_/, '').toLowerCase(), v]),
  );
}

const SECRET_KEYS = new Set(['master_key', 'cron_secret', 'x402_evm_relayer_key', 'x402_solana_fee_payer']);

function formatIssues(error: z.ZodError, raw: Record<string, unknown>): string {
  return error.issues
    .map((issue) => {
      const key = String(issue.path[0] ?? '');
      const name = key ? envName(key) : 'config';
      const got = raw[key];
      const shown = SECRET_KEYS.has(key) || got === undefined ? '' : ` (got ${JSON.stringify(got).slice(0, 60)})`;
      const where = issue.path.length > 1 ? ` at ${issue.path.slice(1).join('.')}` : '';
      return `${name}${where}: ${issue.message}${shown}`;
    })
    .join('\n');
}

/** `--help` text for options: flag, env name and default. */
export function describeOptions(): string {
  const defaults: Record<string, string> = {
    port: '8787', host: '0.0.0.0', data_dir: './crochet-data', public_url: 'http://localhost:<port>',
    master_key: 'key file in the data folder', log_level: 'info', mode: 'production',
    pow_difficulty: '5 register/recover, 4 others', challenge_ttl_seconds: '120',
    rate_limit_read_per_min: '60', rate_limit_write_per_min: '20', rate_limit_auth_per_5min: '10',
    rate_limit_gateway_per_min: '120', rate_limit_listing_per_min: '600', allow_private_upstreams: 'off', max_json_depth: '64',
    payment_routes: 'none', fee_bps: '0', x402_evm_relayer_key: 'unset (no x402 on EVM)', x402_solana_fee_payer: 'unset (no x402 on Solana)', x402_settle_wait_seconds: '25', max_price_usd: '1000', payment_intent_ttl_seconds: '900',
    sweep_interval_seconds: '60', paid_response_ttl_seconds: '86400', cron_secret: 'unset',
    password_memory_kib: '65536 (argon2id)', password_time_cost: '2',
  };
  const lines = CONFIG_KEYS.map((k) => `  ${flagName(k).padEnd(32)} ${envName(k).padEnd(38)} default: ${defaults[k] ?? ''}`);
  return [`  ${'--config FILE'.padEnd(32)} ${'CROCHET_CONFIG'.padEnd(38)} JSON file with any of these`, ...lines].join('\n');
}

/** CROCHET_ADMIN_PASSWORD for `crochet admin create` (null when unset); never a flag or a config option. */
export function adminPasswordFromEnv(env: Record<string, string | undefined> = process.env): string | null {
  return env.CROCHET_ADMIN_PASSWORD ?? null;
}
