// Threat: someone other than the gateway forges, alters or replays a call to a seller's private endpoint.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReplayGuard, verifyCrochetRequest } from '../../src/seller/verify.ts';
import type { VerifyOptions } from '../../src/seller/verify.ts';
import { buildCrochetHeaders } from '../../src/shared/request-signing.ts';
import { fixtureHeaders, signingVectors } from '../support/signing-vectors.ts';
import type { SigningVector } from '../support/signing-vectors.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const first = signingVectors[0] as SigningVector;
const rotation = signingVectors.find((v) => v.previous_secret !== undefined) as SigningVector;
const atVector = (v: SigningVector) => Date.parse(v.timestamp);

/** Verifies vector `v` as received, after `change` edits the headers a forger controls. */
function verifyVector(
  v: SigningVector,
  change: (headers: Record<string, string>) => void = () => {},
  extra: Partial<VerifyOptions> = {},
) {
  const headers = fixtureHeaders(v);
  change(headers);
  return verifyCrochetRequest({ headers, rawBody: utf8(v.body), secrets: v.secret, now: atVector(v), ...extra });
}

describe('genuine calls verify', () => {
  for (const v of signingVectors) {
    test(`fixture vector: ${v.name}`, async () => {
      expect(await verifyVector(v)).toEqual({
        ok: true,
        requestId: v.request_id,
        listingId: v.listing_id,
        timestamp: v.timestamp,
        matchedSecretIndex: 0,
        usedPreviousSignature: false,
        signatureVersion: 2,
        buyerId: v.buyer_id,
        relayRequestId: v.relay_request_id ?? null,
      });
    });
  }

  test('the gateway signer output verifies (fetch Headers, fresh timestamp, default clock)', async () => {
    const body = utf8('{"q":"live"}');
    const headers = buildCrochetHeaders({
      body, requestId: 'gw_req_live', listingId: 'lst_live', buyerId: 'prof_live',
      timestamp: new Date().toISOString(), secret: 'whsec_live', relayRequestId: 'rly_live',
    });
    const result = await verifyCrochetRequest({ headers: new Headers(headers), rawBody: body, secrets: ['whsec_live'] });
    expect(result).toMatchObject({ ok: true, requestId: 'gw_req_live', signatureVersion: 2, buyerId: 'prof_live', relayRequestId: 'rly_live' });
  });

  test('raw body as string, ArrayBuffer or Node Buffer; Node-style lowercase headers with arrays', async () => {
    const lower = Object.fromEntries(Object.entries(fixtureHeaders(first)).map(([k, val]) => [k.toLowerCase(), [val]]));
    const bytes = utf8(first.body);
    for (const rawBody of [first.body, bytes.buffer, Buffer.from(bytes)]) {
      const result = await verifyCrochetRequest({ headers: lower, rawBody, secrets: first.secret, now: atVector(first) });
      expect(result.ok).toBe(true);
    }
  });
});

describe('forgeries are rejected', () => {
  test('tampered body → body_hash_mismatch', async () => {
    const headers = fixtureHeaders(first);
    const rawBody = utf8(first.body.replace('hello', 'hellO'));
    const result = await verifyCrochetRequest({ headers, rawBody, secrets: first.secret, now: atVector(first) });
    expect(result).toEqual({ ok: false, reason: 'body_hash_mismatch', header: 'X-Crochet-Body-SHA256' });
  });

  test('tampered body with a recomputed body-hash header → bad_signature', async () => {
    const forged = '{"query":"evil"}';
    const headers = fixtureHeaders(first);
    headers['X-Crochet-Body-SHA256'] = new Bun.CryptoHasher('sha256').update(forged).digest('hex');
    const result = await verifyCrochetRequest({ headers, rawBody: utf8(forged), secrets: first.secret, now: atVector(first) });
    expect(result).toEqual({ ok: false, reason: 'bad_signature', header: 'X-Crochet-Signature' });
  });

  const signedHeaderTampering: [string, (h: Record<string, string>) => void][] = [
    ['request id', (h) => (h['X-Crochet-Request-Id'] = 'gw_req_01JTESTVECTOR0000000009')],
    ['listing id', (h) => (h['X-Crochet-Listing-Id'] = 'lst_other_listing')],
    ['timestamp (1 ms later, still fresh)', (h) => (h['X-Crochet-Timestamp'] = '2026-05-03T12:00:00.001Z')],
  ];
  for (const [what, change] of signedHeaderTampering) {
    test(`tampered ${what} → bad_signature`, async () => {
      expect(await verifyVector(first, change)).toMatchObject({ ok: false, reason: 'bad_signature' });
    });
  }

  test('stale timestamp, past and future, just outside ±300 s → stale_timestamp; the edge is accepted', async () => {
    const t = atVector(first);
    for (const now of [t + 300_001, t - 300_001]) {
      expect(await verifyVector(first, () => {}, { now })).toEqual({
        ok: false, reason: 'stale_timestamp', header: 'X-Crochet-Timestamp',
      });
    }
    for (const now of [t + 300_000, t - 300_000]) expect((await verifyVector(first, () => {}, { now })).ok).toBe(true);
    expect(await verifyVector(first, () => {}, { now: new Date(t + 61_000), toleranceSeconds: 60 })).toMatchObject({
      reason: 'stale_timestamp',
    });
  });

  for (const bad of ['yesterday', '1777809600', '2026-05-03 12:00:00Z', '2026-05-03T12:00:00.000', '2026-05-03T25:00:00Z', '2026-05-03T12:00:00Z\n']) {
    test(`malformed timestamp ${JSON.stringify(bad)} → malformed_timestamp`, async () => {
      expect(await verifyVector(first, (h) => (h['X-Crochet-Timestamp'] = bad))).toEqual({
        ok: false, reason: 'malformed_timestamp', header: 'X-Crochet-Timestamp',
      });
    });
  }

  const required = ['X-Crochet-Request-Id', 'X-Crochet-Listing-Id', 'X-Crochet-Buyer-Id', 'X-Crochet-Timestamp',
    'X-Crochet-Body-SHA256', 'X-Crochet-Signature'];
  for (const name of required) {
    test(`missing ${name} (absent or empty) → missing_header`, async () => {
      const expected = { ok: false, reason: 'missing_header', header: name } as const;
      expect(await verifyVector(first, (h) => delete h[name])).toEqual(expected);
      expect(await verifyVector(first, (h) => (h[name] = ''))).toEqual(expected);
    });
  }

  test('wrong secret → bad_signature', async () => {
    expect(await verifyVector(first, () => {}, { secrets: 'whsec_test_secret_2' })).toMatchObject({ reason: 'bad_signature' });
  });

  const badSignatures: [string, string][] = [
    ['truncated', first.signature.slice(0, 63)],
    ['one char too long', `${first.signature}0`],
    ['same length, not hex', 'z'.repeat(64)],
    ['same length, last char flipped', `${first.signature.slice(0, 63)}${first.signature.endsWith('0') ? '1' : '0'}`],
    ['uppercase hex (SPEC fixes lowercase)', first.signature.toUpperCase()],
    ['non-ASCII garbage', 'é'.repeat(32)],
  ];
  for (const [what, signature] of badSignatures) {
    test(`signature ${what} → bad_signature`, async () => {
      expect(await verifyVector(first, (h) => (h['X-Crochet-Signature'] = signature))).toMatchObject({
        ok: false, reason: 'bad_signature',
      });
    });
  }

  test('misuse throws instead of verifying against nothing', async () => {
    await expect(verifyVector(first, () => {}, { secrets: [] })).rejects.toThrow(/secrets/);
    await expect(verifyVector(first, () => {}, { secrets: '' })).rejects.toThrow(/secrets/);
    await expect(verifyVector(first, () => {}, { toleranceSeconds: Number.NaN })).rejects.toThrow(/toleranceSeconds/);
  });
});

describe('secret rotation', () => {
  const oldSecret = rotation.previous_secret as string;

  test('grace period: a seller still on the old secret verifies via X-Crochet-Signature-Previous(-V2)', async () => {
    expect(await verifyVector(rotation, () => {}, { secrets: oldSecret })).toMatchObject({
      ok: true, matchedSecretIndex: 0, usedPreviousSignature: true, signatureVersion: 2, buyerId: rotation.buyer_id,
    });
  });

  test('a seller on the new secret, or holding both, verifies via the main signature', async () => {
    expect(await verifyVector(rotation)).toMatchObject({ ok: true, usedPreviousSignature: false });
    expect(await verifyVector(rotation, () => {}, { secrets: [oldSecret, rotation.secret] })).toMatchObject({
      ok: true, matchedSecretIndex: 1, usedPreviousSignature: false,
    });
  });

  test('grace over (no previous headers) → the old secret no longer verifies', async () => {
    const result = await verifyVector(rotation, (h) => {
      delete h['X-Crochet-Signature-Previous'];
      delete h['X-Crochet-Signature-Previous-V2'];
    }, { secrets: oldSecret });
    expect(result).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  test('a forged previous-signature header does not help', async () => {
    const result = await verifyVector(rotation, (h) => (h['X-Crochet-Signature-Previous'] = rotation.signature), {
      secrets: oldSecret,
    });
    expect(result).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  test('the gateway signer with previousSecret matches the fixture and verifies for both sellers', async () => {
    const body = utf8(rotation.body);
    const headers = buildCrochetHeaders({
      body, requestId: rotation.request_id, listingId: rotation.listing_id, buyerId: rotation.buyer_id,
      timestamp: rotation.timestamp, secret: rotation.secret, previousSecret: oldSecret,
    });
    for (const secrets of [oldSecret, rotation.secret]) {
      const result = await verifyCrochetRequest({ headers, rawBody: body, secrets, now: atVector(rotation) });
      expect(result.ok).toBe(true);
    }
  });
});

describe('replay guard', () => {
  test('a request id seen within the TTL is a replay; after the TTL it is forgotten', () => {
    const guard = createReplayGuard(600);
    const t = 1_000_000;
    expect(guard.isReplay('gw_req_a', t)).toBe(false);
    expect(guard.isReplay('gw_req_a', t + 599_999)).toBe(true);
    expect(guard.isReplay('gw_req_b', t + 1)).toBe(false);
    expect(guard.isReplay('gw_req_a', t + 600_000)).toBe(false);
    expect(guard.size).toBe(2);
    guard.isReplay('gw_req_c', t + 2_000_000);
    expect(guard.size).toBe(1);
  });

  test('rejects a non-positive TTL', () => {
    expect(() => createReplayGuard(0)).toThrow(/ttlSeconds/);
  });
});

describe('dependency-free kit', () => {
  test('transpiled to plain JS it has no imports and verifies a vector under node', () => {
    const kitPath = join(import.meta.dir, '../../src/seller/verify.ts');
    const source = new Bun.Transpiler({ loader: 'ts' }).transformSync(readFileSync(kitPath, 'utf8'));
    expect(source).not.toMatch(/^\s*import\b|\bimport\(|\brequire\(/m);

    const dir = mkdtempSync(join(tmpdir(), 'crochet-verify-node-'));
    try {
      writeFileSync(join(dir, 'verify.mjs'), source);
      writeFileSync(
        join(dir, 'run.mjs'),
        `import { verifyCrochetRequest } from './verify.mjs';
const v = JSON.parse(process.argv[2]);
const headers = Object.fromEntries(Object.entries(v.headers).map(([k, val]) => [k.toLowerCase(), val]));
const ok = await verifyCrochetRequest({ headers, rawBody: Buffer.from(v.body, 'utf8'), secrets: [v.secret], now: new Date(v.timestamp), requireV2: true });
const bad = await verifyCrochetRequest({ headers, rawBody: Buffer.from(v.body + ' ', 'utf8'), secrets: v.secret, now: new Date(v.timestamp) });
console.log(ok.ok ? 'ok:v' + ok.signatureVersion + ':' + ok.buyerId : 'rejected:' + ok.reason, bad.ok ? 'ok' : 'rejected:' + bad.reason, process.version);
`,
      );
      const input = JSON.stringify({ headers: fixtureHeaders(first), body: first.body, secret: first.secret, timestamp: first.timestamp });
      const run = Bun.spawnSync(['node', join(dir, 'run.mjs'), input], { stdout: 'pipe', stderr: 'pipe' });
      expect(run.stderr.toString()).toBe('');
      expect(run.stdout.toString()).toMatch(new RegExp(`^ok:v2:${first.buyer_id} rejected:body_hash_mismatch v\\d+\\.`));
      expect(run.exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
