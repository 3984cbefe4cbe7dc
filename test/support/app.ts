import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.ts';
import { createRuntime } from '../../src/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { generateMasterKey } from '../../src/modules/vault/envelope.ts';
import { createVault } from '../../src/modules/vault/service.ts';
import { manualClock } from '../../src/shared/clock.ts';
import { createPublicClient, http, type PublicClient } from 'viem';
import type { CoreDeps } from '../../src/shared/deps.ts';
import { memoryLogger } from '../../src/shared/logger.ts';
import { solvePow } from '../../src/shared/pow.ts';
import type { Resolver } from '../../src/shared/upstream/guard.ts';
import type { TestWallet } from './wallets.ts';
import { type Conformance, createConformance, type OpenApiDoc } from './openapi-conformance.ts';

export type CallOptions = { body?: unknown; rawBody?: string | Uint8Array<ArrayBuffer>; key?: string; headers?: Record<string, string> };
export type CallResult = { status: number; headers: Headers; text: string; json: any };

/** Environment every test app starts from: fast PoW, no auth rate limit unless a test asks. */
export const TEST_ENV: Record<string, string> = {
  CROCHET_POW_DIFFICULTY: '1',
  CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '0',
  CROCHET_RATE_LIMIT_READ_PER_MIN: '0',
  CROCHET_RATE_LIMIT_WRITE_PER_MIN: '0',
  CROCHET_MODE: 'test',
  CROCHET_LOG_LEVEL: 'debug',
  // Cheap argon2id for speed: still the production algorithm.
  CROCHET_PASSWORD_MEMORY_KIB: '1024',
  CROCHET_PASSWORD_TIME_COST: '1',
};

export type TestContext = Awaited<ReturnType<typeof createTestApp>>;

/**
 * A fresh app on a fresh SQLite file in a temp folder, with a manual clock and an in-memory log.
 * `call` goes through `app.handle` (in-process) or, after `listen()`, over real HTTP.
 */
export async function createTestApp(env: Record<string, string> = {}, options: { resolveHost?: Resolver; clockStart?: Date; evmRpcUrl?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-test-'));
  const config = loadConfig({ env: { ...TEST_ENV, CROCHET_DATA_DIR: dir, CROCHET_PUBLIC_URL: 'http://localhost:8787', ...env } });
  const clock = manualClock(options.clockStart ?? new Date());
  const logger = memoryLogger();
  const db = openDatabase(join(dir, 'crochet.db'));
  const masterKey = generateMasterKey();
  const resolveHost = options.resolveHost ?? loopbackOnlyResolver;
  // As server.ts does: smart-wallet (EIP-1271/6492) sign-in signatures are checked on this chain.
  const evmClient = options.evmRpcUrl ? (createPublicClient({ transport: http(options.evmRpcUrl) }) as PublicClient) : undefined;
  const core: CoreDeps = { config, db, clock, logger, vault: createVault(masterKey), resolveHost, evmClient };
  const runtime = createRuntime(core);
  const app = createApp(core, runtime);
  // Tests call services directly with the app's own caches and history writer.
  const deps = { ...core, ...runtime };
  let baseUrl: string | null = null;

  async function call(method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
    const init = requestInit(method, opts);
    const result = await callResult(baseUrl ? await fetch(baseUrl + path, init) : await app.handle(new Request('http://localhost' + path, init)));
    // Every reply a test sees must be the one the OpenAPI document promises.
    const checker = await conformanceOf(app);
    const seen = checker.checked.size;
    const problems = checker.check(method, path, result.status, result.headers.get('content-type'), result.text);
    // CROCHET_TEST_OPENAPI_COVERAGE=<file>: list which operations and statuses the run checked.
    if (coverageFile && checker.checked.size > seen) appendFileSync(coverageFile, `${[...checker.checked].at(-1)}\n`);
    if (problems.length > 0) throw new Error(`reply differs from /api/openapi.json: ${problems.join('; ')}`);
    return result;
  }

  return {
    dir,
    masterKey,
    config,
    clock,
    logger,
    deps,
    runtime,
    app,
    call,
    /** Serves the app on a free loopback port; later calls use real HTTP. */
    listen() {
      app.listen({ port: 0, hostname: '127.0.0.1' });
      baseUrl = `http://127.0.0.1:${app.server?.port}`;
      return baseUrl;
    },
    async close() {
      if (app.server) await app.stop(true);
      // In-process apps have no stop hook: write what the history queued (and stop its timer).
      runtime.history.flush();
      db.sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The document is the same for every test app (routes do not depend on config): built once.
let conformance: Promise<Conformance> | null = null;
const conformanceOf = (app: { handle(r: Request): Promise<Response> }) =>
  (conformance ??= app.handle(new Request('http://localhost/api/openapi.json')).then(async (r) => createConformance((await r.json()) as OpenApiDoc)));
const coverageFile = process.env.CROCHET_TEST_OPENAPI_COVERAGE;

function requestInit(method: string, opts: CallOptions): RequestInit {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  if (opts.key) headers['authorization'] = `Bearer ${opts.key}`;
  return { method, headers, body };
}

async function callResult(res: Response): Promise<CallResult> {
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Calls over real HTTP to a running server (`base` as a function when its address comes later). */
export function httpCaller(base: string | (() => string)): Caller {
  return async (method, path, opts = {}) => callResult(await fetch((typeof base === 'string' ? base : base()) + path, requestInit(method, opts)));
}

/**
 * The start of today's UTC day. Score recency counts from the start of an event's UTC day, so a
 * test that expects exact score components starts its clock here: from the current time of day
 * they drift by up to half a point in the afternoon.
 */
export const startOfUtcDay = (d = new Date()) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));

/** Tests never touch real DNS: `localhost` is loopback, every other name does not resolve. */
export const loopbackOnlyResolver: Resolver = async (hostname) => (hostname === 'localhost' ? ['127.0.0.1'] : []);

type Caller = (method: string, path: string, opts?: CallOptions) => Promise<CallResult>;

/** Requests a challenge and answers it: signature over the issued message, PoW solved. */
export async function proveWallet(call: Caller, wallet: TestWallet, purpose: string, extra: { key?: string; profile_id?: string } = {}) {
  const res = await call('POST', '/api/v1/auth/challenge', {
    body: { wallet_address: wallet.address, purpose, ...(extra.profile_id ? { profile_id: extra.profile_id } : {}) },
    key: extra.key,
  });
  if (res.status !== 200) throw new Error(`challenge failed: ${res.status} ${res.text}`);
  const data = res.json.data;
  return {
    challenge: data,
    proof: {
      wallet_address: wallet.address,
      nonce: data.nonce as string,
      signature: await wallet.sign(data.message),
      pow_nonce: solvePow(data.pow.challenge, data.pow.difficulty),
    },
  };
}

/** Registers an agent owned by `wallet`; returns its key and profile. */
export async function registerAgent(call: Caller, wallet: TestWallet, displayName = 'Test Agent') {
  const { proof } = await proveWallet(call, wallet, 'register');
  const res = await call('POST', '/api/v1/register', { body: { ...proof, display_name: displayName } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { key: res.json.data.api_key as string, profile: res.json.data.profile, wallet };
}
