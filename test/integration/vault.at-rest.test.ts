// Threat: whoever reads the database files (a copy, a backup, a stolen disk) learns sellers' private URLs, upstream credentials or signing secrets; or a retired/wrong master key still opens them.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.ts';
import { createRuntime } from '../../src/runtime.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import * as Listings from '../../src/modules/listings/service.ts';
import { masterKeyFromBase64, masterKeyToBase64, openValue, generateMasterKey, VaultError, type MasterKey } from '../../src/modules/vault/envelope.ts';
import { SEALED_COLUMNS } from '../../src/modules/vault/registry.ts';
import { bootstrap, DATABASE_FILE } from '../../src/server.ts';
import { memoryLogger } from '../../src/shared/logger.ts';
import { randomHex } from '../../src/shared/ids.ts';
import type { Resolver } from '../../src/shared/upstream/guard.ts';
import { TEST_ENV, registerAgent, type CallOptions, type CallResult } from '../support/app.ts';
import { postListing } from '../support/listings.ts';
import { startSellerStub } from '../support/seller-stub.ts';
import { evmWallet } from '../support/wallets.ts';

const REPO = join(import.meta.dir, '../..');
const tag = randomHex(6);
const HOST_A = `vault-seller-${tag}.test`;
const HOST_B = `vault-moved-${tag}.test`;
const resolveHost: Resolver = async (name) => (name === HOST_A || name === HOST_B ? ['127.0.0.1'] : []);

let dir: string;
let stub: ReturnType<typeof startSellerStub>;
const plaintexts = new Set<string>();
/** What each listing's sealed columns must open to, after everything below. */
const expected = new Map<string, Record<string, string | null>>();

function configFor(env: Record<string, string> = {}) {
  return loadConfig({ env: { ...TEST_ENV, CROCHET_DATA_DIR: dir, CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1', ...env } });
}

function start(env: Record<string, string> = {}) {
  const boot = bootstrap(configFor(env), memoryLogger(), { resolveHost });
  const runtime = createRuntime(boot.deps);
  const app = createApp(boot.deps, runtime);
  const { masterKey } = boot;
  const deps = { ...boot.deps, ...runtime };
  const call = async (method: string, path: string, opts: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...opts.headers, 'content-type': 'application/json' };
    if (opts.key) headers['authorization'] = `Bearer ${opts.key}`;
    const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }));
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, text, json };
  };
  return { deps, masterKey, call, stop: () => deps.db.sqlite.close() };
}

/** Raw bytes of the database and its WAL, as a thief with a copy of the folder would see them. */
function rawFiles(): Buffer[] {
  const db = join(dir, DATABASE_FILE);
  return [db, `${db}-wal`].filter(existsSync).map((p) => readFileSync(p));
}

function expectNoPlaintext() {
  const files = rawFiles();
  expect(files.length).toBeGreaterThan(0);
  for (const value of plaintexts) {
    for (const bytes of files) {
      if (bytes.includes(Buffer.from(value, 'utf8'))) throw new Error(`found in clear on disk: ${value.slice(0, 14)}…`);
    }
  }
}

function sealedRows(): { listingId: string; values: Record<string, string | null> }[] {
  const { sqlite } = openDatabase(join(dir, DATABASE_FILE));
  try {
    return sqlite
      .query<Record<string, string | null>, []>('SELECT listing_id, private_url, upstream_auth_value, signing_secret, previous_signing_secret FROM listing_gateway_endpoints')
      .all()
      .map(({ listing_id, ...values }) => ({ listingId: String(listing_id), values }));
  } finally {
    sqlite.close();
  }
}

function openAll(key: MasterKey) {
  for (const { listingId, values } of sealedRows()) {
    for (const [column, sealed] of Object.entries(values)) {
      const opened = sealed === null ? null : openValue(key, sealed, { table: 'listing_gateway_endpoints', column, rowId: listingId });
      expect(opened).toBe(expected.get(listingId)?.[column] ?? null);
    }
  }
}

const stripCrochetEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROCHET_'))) as Record<string, string>;

let sellerKey = '';
let firstListing = '';
let currentSecret = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crochet-vault-'));
  const strict = (call: { kit: { ok: boolean } }) => (call.kit.ok ? Response.json({ ok: true }) : Response.json({ error: 'unverified' }, { status: 401 }));
  stub = startSellerStub({ routes: Object.fromEntries([0, 1, 2].map((i) => [`/moved-${tag}-${i}`, strict])) });
  const s = start();
  sellerKey = (await registerAgent(s.call, evmWallet())).key;
  for (let i = 0; i < 3; i++) {
    const path = `/private-path-${tag}-${i}`;
    const url = `http://${HOST_A}:${stub.port}${path}?token=tok-${tag}-${i}`;
    const res = await postListing(s.call, sellerKey, { status: 'active', private_endpoint_url: url, description: `plaintextcanary${tag} listing ${i}` });
    expect(res.status).toBe(201);
    const id = res.json.data.id as string;
    const first = res.json.data.gateway_endpoint.signing_secret as string;
    [url, path, `tok-${tag}-${i}`, first].forEach((v) => plaintexts.add(v));
    const movedPath = `/moved-${tag}-${i}`;
    const moved = `http://${HOST_B}:${stub.port}${movedPath}`;
    const auth = `upstream-credential-${tag}-${i}`;
    const put = await s.call('PUT', `/api/v1/listings/${id}/endpoint`, { key: sellerKey, body: { private_endpoint_url: moved, upstream_auth_header_name: 'X-Api-Key', upstream_auth_header_value: auth } });
    expect(put.status).toBe(200);
    const rotated = await s.call('POST', `/api/v1/listings/${id}/endpoint/rotate-secret`, { key: sellerKey, body: { grace_seconds: 3600 } });
    const second = rotated.json.data.signing_secret as string;
    [moved, movedPath, auth, second].forEach((v) => plaintexts.add(v));
    expected.set(id, { private_url: moved, upstream_auth_value: auth, signing_secret: second, previous_signing_secret: first });
    if (i === 0) {
      firstListing = id;
      currentSecret = second;
    }
  }
  [HOST_A, HOST_B].forEach((h) => plaintexts.add(h));
  // While the server runs: the WAL holds the newest pages.
  expectNoPlaintext();
  // The search is real: the description word is stored in clear, so the byte scan can see text.
  expect(rawFiles().some((b) => b.includes(Buffer.from(`plaintextcanary${tag}`)))).toBe(true);
  s.stop();
});
afterAll(() => {
  stub.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('after the server stops, the files hold no URL, host, path, auth value or secret in clear', () => {
  expectNoPlaintext();
  expect(plaintexts.size).toBeGreaterThanOrEqual(3 * 8 + 2);
});

test('every sealed value opens with the master key, and with no other key', () => {
  const key = masterKeyFromBase64(readFileSync(join(dir, 'master.key'), 'utf8'));
  openAll(key);
  const [row] = sealedRows();
  const wrong = generateMasterKey();
  let caught: unknown;
  try {
    openValue(wrong, row!.values['signing_secret']!, { table: 'listing_gateway_endpoints', column: 'signing_secret', rowId: row!.listingId });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(VaultError);
  expect((caught as VaultError).code).toBe('VAULT_KEY_MISMATCH');
  // The registry names exactly these columns, so rotation covers them all.
  expect(SEALED_COLUMNS.find((t) => t.table === 'listing_gateway_endpoints')?.columns).toEqual(['private_url', 'upstream_auth_value', 'signing_secret', 'previous_signing_secret']);
});

test('a server started with the wrong master key refuses to start, loudly', () => {
  let caught: unknown;
  try {
    start({ CROCHET_MASTER_KEY: masterKeyToBase64(generateMasterKey()) });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(VaultError);
  expect((caught as VaultError).code).toBe('VAULT_KEY_MISMATCH');
});

describe('crochet vault rotate-key (the real CLI, on the stopped instance)', () => {
  let oldKey: MasterKey;
  let newKey: MasterKey;

  test('re-encrypts every value under a new key file', () => {
    oldKey = masterKeyFromBase64(readFileSync(join(dir, 'master.key'), 'utf8'));
    const run = Bun.spawnSync([process.execPath, 'src/main.ts', 'vault', 'rotate-key', '--data-dir', dir], { cwd: REPO, env: stripCrochetEnv() });
    const stdout = run.stdout.toString();
    expect(run.exitCode).toBe(0);
    // 3 listings × 4 sealed values.
    expect(stdout).toContain('re-encrypted 12 value(s)');
    newKey = masterKeyFromBase64(readFileSync(join(dir, 'master.key'), 'utf8'));
    expect(newKey.id).not.toBe(oldKey.id);
    expect(stdout).toContain(`${oldKey.id} → ${newKey.id}`);
    expect(stdout).not.toContain(masterKeyToBase64(newKey));
    expect(existsSync(join(dir, 'master.key.next'))).toBe(false);
    expectNoPlaintext();
  });

  test('every value opens with the new key; the old key opens nothing', () => {
    openAll(newKey);
    expect(() => openAll(oldKey)).toThrow(VaultError);
  });

  test('a server started again on the folder serves the listing and the endpoint test', async () => {
    const s = start();
    try {
      expect(s.masterKey.id).toBe(newKey.id);
      const listing = await s.call('GET', `/api/v1/listings/${firstListing}`);
      expect(listing.status).toBe(200);
      stub.setSecrets([currentSecret]);
      const tested = await s.call('POST', `/api/v1/listings/${firstListing}/endpoint/test`, { key: sellerKey });
      expect(tested.json.data).toMatchObject({ ok: true, status: 200, json: true });
      const received = stub.calls.at(-1)!;
      expect(received.kit).toMatchObject({ ok: true, listingId: firstListing });
      expect(received.headers['x-api-key']).toBe(expected.get(firstListing)?.['upstream_auth_value'] ?? 'missing');
      expect(received.path).toBe(`/moved-${tag}-0`);
      expect(Listings.getGatewayTarget(s.deps, firstListing)?.endpoint.previousSigningSecret).toBe(expected.get(firstListing)?.['previous_signing_secret'] ?? 'missing');
    } finally {
      s.stop();
    }
  });

  test('with CROCHET_MASTER_KEY: the new key is printed once, no key file is written', async () => {
    const current = masterKeyFromBase64(readFileSync(join(dir, 'master.key'), 'utf8'));
    const before = readFileSync(join(dir, 'master.key'), 'utf8');
    const run = Bun.spawnSync([process.execPath, 'src/main.ts', 'vault', 'rotate-key', '--data-dir', dir], {
      cwd: REPO,
      env: { ...stripCrochetEnv(), CROCHET_MASTER_KEY: masterKeyToBase64(current) },
    });
    expect(run.exitCode).toBe(0);
    const stdout = run.stdout.toString();
    const printed = /CROCHET_MASTER_KEY=(\S+)/.exec(stdout)?.[1] ?? '';
    const envKey = masterKeyFromBase64(printed);
    expect(stdout.split(printed)).toHaveLength(2);
    expect(run.stderr.toString()).not.toContain(printed);
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).toBe(before);
    openAll(envKey);
    // The key file's key is retired now: starting with it fails, starting with the printed key works.
    expect(() => start()).toThrow(VaultError);
    const s = start({ CROCHET_MASTER_KEY: printed });
    try {
      expect((await s.call('GET', `/api/v1/listings/${firstListing}/endpoint`, { key: sellerKey })).json.data.host).toBe(`${HOST_B}:${stub.port}`);
    } finally {
      s.stop();
    }
  });
});
