import { describe, expect, test } from 'bun:test';
import {
  buildCrochetHeaders,
  hmacSha256Hex,
  sha256Hex,
  signingPayload,
  signingPayloadV2,
} from '../../src/shared/request-signing.ts';
import { fixtureHeaders, signingVectors as vectors } from '../support/signing-vectors.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('request signing known-answer vectors (v1 computed with the openssl CLI, v2 with Python hmac/json)', () => {
  test('the fixture holds at least 3 vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(3);
  });

  for (const v of vectors) {
    describe(v.name, () => {
      const payload = `${v.timestamp}.${v.request_id}.${v.listing_id}.${v.body_sha256}`;

      test('sha256Hex of the UTF-8 body bytes', () => {
        expect(sha256Hex(utf8(v.body))).toBe(v.body_sha256);
      });

      test('signingPayload joins timestamp, request id, listing id and body hash with dots', () => {
        expect(
          signingPayload({
            timestamp: v.timestamp,
            requestId: v.request_id,
            listingId: v.listing_id,
            bodySha256: v.body_sha256,
          }),
        ).toBe(payload);
      });

      test('hmacSha256Hex gives the lowercase hex signature', () => {
        expect(hmacSha256Hex(v.secret, payload)).toBe(v.signature);
        if (v.previous_secret !== undefined) {
          expect(hmacSha256Hex(v.previous_secret, payload)).toBe(v.signature_previous ?? 'missing in fixture');
        }
      });

      test('signingPayloadV2 is the JSON array byte for byte as Python wrote it (quotes, non-ASCII, null relay)', () => {
        const payloadV2 = signingPayloadV2({
          timestamp: v.timestamp,
          requestId: v.request_id,
          listingId: v.listing_id,
          buyerId: v.buyer_id,
          relayRequestId: v.relay_request_id ?? null,
          bodySha256: v.body_sha256,
        });
        expect(utf8(payloadV2)).toEqual(utf8(v.payload_v2));
      });

      test('hmacSha256Hex over the v2 payload gives the v2 signatures', () => {
        expect(hmacSha256Hex(v.secret, v.payload_v2)).toBe(v.signature_v2);
        if (v.previous_secret !== undefined) {
          expect(hmacSha256Hex(v.previous_secret, v.payload_v2)).toBe(v.signature_previous_v2 ?? 'missing in fixture');
        }
      });

      test('buildCrochetHeaders sends exactly the SPEC §4 headers', () => {
        const headers = buildCrochetHeaders({
          body: utf8(v.body),
          requestId: v.request_id,
          listingId: v.listing_id,
          buyerId: v.buyer_id,
          timestamp: v.timestamp,
          secret: v.secret,
          ...(v.previous_secret === undefined ? {} : { previousSecret: v.previous_secret }),
          ...(v.relay_request_id === undefined ? {} : { relayRequestId: v.relay_request_id }),
        });
        expect(headers).toEqual(fixtureHeaders(v));
      });
    });
  }
});

describe('buildCrochetHeaders', () => {
  const base = {
    body: utf8('{"a":1}'),
    requestId: 'gw_req_x',
    listingId: 'lst_x',
    buyerId: 'prof_x',
    timestamp: '2026-05-03T12:00:00.000Z',
    secret: 'whsec_x',
  };

  test('omits the previous-signature and relay headers when not given', () => {
    const headers = buildCrochetHeaders(base);
    expect(Object.keys(headers)).not.toContain('X-Crochet-Signature-Previous');
    expect(Object.keys(headers)).not.toContain('X-Crochet-Signature-Previous-V2');
    expect(Object.keys(headers)).not.toContain('X-Crochet-Relay-Request-Id');
  });

  test('v2 changes with the buyer id and the relay id; v1 does not (it never covered them)', () => {
    const plain = buildCrochetHeaders(base);
    const otherBuyer = buildCrochetHeaders({ ...base, buyerId: 'prof_y' });
    const paid = buildCrochetHeaders({ ...base, relayRequestId: 'rly_x' });
    const nullString = buildCrochetHeaders({ ...base, relayRequestId: 'null' });
    for (const changed of [otherBuyer, paid, nullString]) {
      expect(changed['X-Crochet-Signature']).toBe(plain['X-Crochet-Signature']);
      expect(changed['X-Crochet-Signature-V2']).not.toBe(plain['X-Crochet-Signature-V2']);
    }
  });

  test('hashes the exact bytes: re-serialized JSON with other whitespace gets another hash', () => {
    const spaced = buildCrochetHeaders({ ...base, body: utf8('{ "a": 1 }') });
    expect(spaced['X-Crochet-Body-SHA256']).not.toBe(buildCrochetHeaders(base)['X-Crochet-Body-SHA256']);
  });

  test('refuses an empty signing secret instead of signing with an empty key', () => {
    expect(() => buildCrochetHeaders({ ...base, secret: '' })).toThrow(/must not be empty/);
    expect(() => buildCrochetHeaders({ ...base, previousSecret: '' })).toThrow(/must not be empty/);
  });
});
