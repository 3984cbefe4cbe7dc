// Threat: an x402 payload answers an offer the server never made (altered amount, network, expiry,
// listing or relay id), or the header decoder is made to accept something that is not a payload.
import { expect, test } from 'bun:test';
import { bindingMatches, bindOffer, readBinding } from '../../src/modules/x402/offer-binding.ts';
import { decodePaymentSignature, encodeHeader } from '../../src/modules/x402/codec.ts';

const KEY = new Uint8Array(32).fill(7);
const FIELDS = { listingId: 'lst_1', amountAtomic: '250000', network: 'eip155:8453', expiresAt: '2026-05-03T12:10:00.000Z', relayRequestId: 'rly_abc' };

test('known-answer vector: HMAC-SHA256 over ["crochet-x402-v1", listing, amount, network, expiry, relay id]', () => {
  expect(bindOffer(KEY, FIELDS)).toEqual({
    relay_request_id: 'rly_abc',
    expires_at: '2026-05-03T12:10:00.000Z',
    mac: new Bun.CryptoHasher('sha256', KEY).update(JSON.stringify(['crochet-x402-v1', 'lst_1', '250000', 'eip155:8453', '2026-05-03T12:10:00.000Z', 'rly_abc'])).digest('hex'),
  });
  // Fixed, so a change of the message layout is seen (offers already out would stop verifying).
  expect(bindOffer(KEY, FIELDS).mac).toBe('d17cac444c2450c169e86a097be9d617328cf4b258a6a1ae5eaf8faef3784543');
});

test.each([
  ['listing', { listingId: 'lst_2' }],
  ['amount', { amountAtomic: '1' }],
  ['network', { network: 'eip155:1' }],
  ['expiry', { expiresAt: '2027-01-01T00:00:00.000Z' }],
  ['relay id', { relayRequestId: 'rly_other' }],
])('a binding checked against another %s fails', (_name, change) => {
  const binding = bindOffer(KEY, FIELDS);
  expect(bindingMatches(KEY, binding, FIELDS)).toBe(true);
  expect(bindingMatches(KEY, binding, { ...FIELDS, ...change })).toBe(false);
});

test('a binding made with another key, or a forged mac, fails', () => {
  expect(bindingMatches(KEY, bindOffer(new Uint8Array(32).fill(8), FIELDS), FIELDS)).toBe(false);
  expect(bindingMatches(KEY, { ...bindOffer(KEY, FIELDS), mac: '0'.repeat(64) }, FIELDS)).toBe(false);
});

test.each([
  [undefined],
  [{}],
  [{ crochet: 'x' }],
  [{ crochet: { relay_request_id: 'not-rly', expires_at: 'x', mac: '0'.repeat(64) } }],
  [{ crochet: { relay_request_id: 'rly_a', expires_at: 'x', mac: 'ZZ' } }],
])('readBinding refuses a malformed extra: %p', (extra) => {
  expect(readBinding(extra as Record<string, unknown> | undefined)).toBeNull();
});

const payload = { x402Version: 2, accepted: { scheme: 'exact', network: 'eip155:8453', amount: '250000', asset: '0xa', payTo: '0xb', maxTimeoutSeconds: 60, extra: {} }, payload: { signature: '0x' } };

test('the codec round-trips standard base64 JSON', () => {
  const decoded = decodePaymentSignature(encodeHeader(payload));
  expect(decoded).toEqual({ ok: true, payload: payload as never });
});

test.each([
  ['empty', ''],
  ['not base64', '!!!'],
  ['not JSON', Buffer.from('nope').toString('base64')],
  ['x402 v1', encodeHeader({ ...payload, x402Version: 1 })],
  ['no accepted', encodeHeader({ x402Version: 2, payload: {} })],
  ['amount not atomic', encodeHeader({ ...payload, accepted: { ...payload.accepted, amount: '0.25' } })],
  ['too large', 'A'.repeat(40_000)],
])('the codec refuses %s', (_name, header) => {
  expect(decodePaymentSignature(header).ok).toBe(false);
});
