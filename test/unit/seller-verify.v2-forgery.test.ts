// Threat: someone who can alter a genuine forwarded call (a proxy, a replayer) changes its buyer id or relay id — to bill or serve as another buyer, or to dodge the seller's per-payment idempotency — and the seller takes the ids as proven.
import { describe, expect, test } from 'bun:test';
import { verifyCrochetRequest } from '../../src/seller/verify.ts';
import type { VerifyOptions } from '../../src/seller/verify.ts';
import { fixtureHeaders, signingVectors } from '../support/signing-vectors.ts';
import type { SigningVector } from '../support/signing-vectors.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const free = signingVectors.find((v) => v.relay_request_id === undefined && v.previous_secret === undefined) as SigningVector;
const paid = signingVectors.find((v) => v.relay_request_id !== undefined) as SigningVector;
const quoted = signingVectors.find((v) => v.name.startsWith('v2: quotes')) as SigningVector;
const rotation = signingVectors.find((v) => v.previous_secret !== undefined) as SigningVector;

function verify(v: SigningVector, change: (h: Record<string, string>) => void = () => {}, extra: Partial<VerifyOptions> & { v1Only?: boolean } = {}) {
  const { v1Only, ...options } = extra;
  const headers = fixtureHeaders(v, { v1Only });
  change(headers);
  return verifyCrochetRequest({ headers, rawBody: utf8(v.body), secrets: v.secret, now: Date.parse(v.timestamp), ...options });
}

const V2_FAILS = { ok: false, reason: 'bad_signature', header: 'X-Crochet-Signature-V2' } as const;

describe('v2 proves the buyer and relay ids', () => {
  test('every fixture vector verifies as v2 with its ids, quotes and non-ASCII included', async () => {
    for (const v of [free, paid, quoted]) {
      expect(await verify(v)).toMatchObject({ ok: true, signatureVersion: 2, buyerId: v.buyer_id, relayRequestId: v.relay_request_id ?? null });
    }
  });

  const tampering: [string, SigningVector, (h: Record<string, string>) => void][] = [
    ['buyer id changed', free, (h) => (h['X-Crochet-Buyer-Id'] = 'prof_someone_else')],
    ['buyer id changed by one character', paid, (h) => (h['X-Crochet-Buyer-Id'] = `${paid.buyer_id.slice(0, -1)}5`)],
    ['relay id changed (another payment)', paid, (h) => (h['X-Crochet-Relay-Request-Id'] = 'rly_01JTESTVECTOR0000000099')],
    ['relay id removed from a paid call', paid, (h) => delete h['X-Crochet-Relay-Request-Id']],
    ['relay id added to a free call', free, (h) => (h['X-Crochet-Relay-Request-Id'] = 'rly_01JTESTVECTOR0000000001')],
    ['relay id "null" added to a free call (signed null is not the string)', free, (h) => (h['X-Crochet-Relay-Request-Id'] = 'null')],
    ['buyer and relay ids swapped', paid, (h) => {
      [h['X-Crochet-Buyer-Id'], h['X-Crochet-Relay-Request-Id']] = [paid.relay_request_id ?? '', paid.buyer_id];
    }],
    ['a quote moved from the relay id to the end of the buyer id (the field boundary shifts)', quoted, (h) => {
      const relay = quoted.relay_request_id ?? '';
      h['X-Crochet-Buyer-Id'] = `${quoted.buyer_id}${relay.slice(0, 5)}`;
      h['X-Crochet-Relay-Request-Id'] = relay.slice(5);
    }],
    ['v2 signature of another vector', free, (h) => (h['X-Crochet-Signature-V2'] = paid.signature_v2)],
    ['v2 signature uppercased', free, (h) => (h['X-Crochet-Signature-V2'] = free.signature_v2.toUpperCase())],
    ['v2 signature truncated', free, (h) => (h['X-Crochet-Signature-V2'] = free.signature_v2.slice(0, 63))],
  ];
  for (const [what, v, change] of tampering) {
    test(`${what} → rejected`, async () => {
      // v1 still matches (it never covered these headers): v2 is what catches each change.
      expect(await verify(v, change)).toEqual(V2_FAILS);
    });
  }

  test('the v1 signature is still checked: a valid v2 with a forged v1 is rejected', async () => {
    expect(await verify(free, (h) => (h['X-Crochet-Signature'] = paid.signature))).toMatchObject({
      ok: false, reason: 'bad_signature', header: 'X-Crochet-Signature',
    });
  });
});

describe('without v2 the ids are not reported', () => {
  test('a v1-only call verifies as version 1 with no buyerId or relayRequestId at all', async () => {
    const result = await verify(paid, () => {}, { v1Only: true });
    expect(result).toEqual({
      ok: true, requestId: paid.request_id, listingId: paid.listing_id, timestamp: paid.timestamp,
      matchedSecretIndex: 0, usedPreviousSignature: false, signatureVersion: 1,
    });
    expect(Object.keys(result)).not.toContain('buyerId');
    expect(Object.keys(result)).not.toContain('relayRequestId');
  });

  test('stripping v2 and changing the buyer id: v1 still verifies, but nothing claims that buyer', async () => {
    const result = await verify(free, (h) => {
      delete h['X-Crochet-Signature-V2'];
      h['X-Crochet-Buyer-Id'] = 'prof_someone_else';
    });
    expect(result).toMatchObject({ ok: true, signatureVersion: 1 });
    expect(JSON.stringify(result)).not.toContain('prof_someone_else');
  });

  test('requireV2 refuses a call without v2 (absent or empty) as missing_header', async () => {
    const missing = { ok: false, reason: 'missing_header', header: 'X-Crochet-Signature-V2' } as const;
    expect(await verify(free, () => {}, { v1Only: true, requireV2: true })).toEqual(missing);
    expect(await verify(free, (h) => (h['X-Crochet-Signature-V2'] = ''), { requireV2: true })).toEqual(missing);
    expect(await verify(free, () => {}, { requireV2: true })).toMatchObject({ ok: true, signatureVersion: 2 });
  });
});

describe('rotation grace period with v2', () => {
  const oldSecret = rotation.previous_secret as string;

  test('a seller on the old secret verifies through both previous headers', async () => {
    expect(await verify(rotation, () => {}, { secrets: oldSecret, requireV2: true })).toMatchObject({
      ok: true, signatureVersion: 2, usedPreviousSignature: true, buyerId: rotation.buyer_id, relayRequestId: null,
    });
  });

  test('old secret, X-Crochet-Signature-Previous-V2 missing → v2 fails (no silent fallback to v1)', async () => {
    expect(await verify(rotation, (h) => delete h['X-Crochet-Signature-Previous-V2'], { secrets: oldSecret })).toEqual(V2_FAILS);
  });

  test('old secret, buyer id changed → the previous v2 signature does not match either', async () => {
    expect(await verify(rotation, (h) => (h['X-Crochet-Buyer-Id'] = 'prof_other'), { secrets: oldSecret })).toEqual(V2_FAILS);
  });

  test('a forged previous-v2 header (the new-secret signature copied) does not help the old secret', async () => {
    const result = await verify(rotation, (h) => (h['X-Crochet-Signature-Previous-V2'] = rotation.signature_v2), { secrets: oldSecret });
    expect(result).toEqual(V2_FAILS);
  });
});
