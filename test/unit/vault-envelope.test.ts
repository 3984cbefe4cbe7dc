// Threat: endpoint secrets at rest are read, altered or moved between rows, or opened with the wrong master key.
import { describe, expect, test } from 'bun:test';
import {
  generateMasterKey,
  masterKeyFromBase64,
  masterKeyToBase64,
  openValue,
  sealValue,
  sealValueWithNonce,
  sealedKeyId,
  VaultError,
} from '../../src/modules/vault/envelope.ts';
import type { Aad, VaultErrorCode } from '../../src/modules/vault/envelope.ts';

/**
 * Known-answer vector computed once with Python's `cryptography` AESGCM (independent of node:crypto):
 * key = bytes 0x00..0x1f, nonce = cafebabefacedbaddecaf888,
 * AAD = JSON ["crochet-vault-v1", keyId, table, column, rowId] without spaces.
 */
const KAT = {
  keyBase64: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
  keyId: '630dcd2966c4',
  nonceHex: 'cafebabefacedbaddecaf888',
  aad: { table: 'listing_gateway_endpoints', column: 'private_url', rowId: '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' },
  plaintext: 'https://seller.example.com/v1/run?token=s3cr3t-é',
  sealed:
    'v1$630dcd2966c4$yv66vvrO263eyviI4tfUVtlAYDQ1bjGxHm-nWnVBrSGzfEQXIbIrB4-mF4rDb7UpqrEnX1VoSxoB9w2m8C5BNhgCeAq-CQ7b2ASku3I',
} as const;

const aad: Aad = { table: 'listing_gateway_endpoints', column: 'signing_secret', rowId: 'row-1' };
const secret = 'whsec_do_not_leak_0123456789';

/** Runs `fn`, expects a VaultError with `code`, and checks the message holds no plaintext. */
function expectVaultError(fn: () => unknown, code: VaultErrorCode, plaintext = secret): VaultError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(VaultError);
  const error = caught as VaultError;
  expect(error.code).toBe(code);
  expect(error.message).not.toContain(plaintext);
  return error;
}

/** Flips one bit of the decoded nonce‖ciphertext‖tag at `index` (negative counts from the end). */
function flipByte(sealed: string, index: number): string {
  const [version, keyId, body] = sealed.split('$');
  const bytes = Buffer.from(body ?? '', 'base64url');
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return `${version}$${keyId}$${bytes.toString('base64url')}`;
}

describe('vault envelope', () => {
  const key = generateMasterKey();

  test('round trip, including empty and non-ASCII values', () => {
    for (const value of [secret, '', 'héllo ✓ 日本 🔑', 'x'.repeat(10_000)]) {
      expect(openValue(key, sealValue(key, value, aad), aad)).toBe(value);
    }
  });

  test('format is v1$<keyId>$<base64url> and never contains the plaintext', () => {
    const sealed = sealValue(key, secret, aad);
    expect(sealed).toMatch(/^v1\$[0-9a-f]{12}\$[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret);
    expect(sealedKeyId(sealed)).toBe(key.id);
  });

  test('two seals of the same value differ (random nonce)', () => {
    const a = sealValue(key, secret, aad);
    const b = sealValue(key, secret, aad);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.split('$')[2] ?? '', 'base64url').subarray(0, 12)).not.toEqual(
      Buffer.from(b.split('$')[2] ?? '', 'base64url').subarray(0, 12),
    );
  });

  test('another master key → VAULT_KEY_MISMATCH naming both key ids', () => {
    const other = generateMasterKey();
    const error = expectVaultError(() => openValue(other, sealValue(key, secret, aad), aad), 'VAULT_KEY_MISMATCH');
    expect(error.message).toContain(key.id);
    expect(error.message).toContain(other.id);
  });

  test('same key id but tampered nonce, ciphertext or tag → VAULT_DECRYPT_FAILED', () => {
    const sealed = sealValue(key, secret, aad);
    for (const index of [0, 12, 20, -1]) {
      expectVaultError(() => openValue(key, flipByte(sealed, index), aad), 'VAULT_DECRYPT_FAILED');
    }
  });

  test('same key id, different key bytes (forged id) → VAULT_DECRYPT_FAILED', () => {
    const impostor = { id: key.id, bytes: generateMasterKey().bytes };
    expectVaultError(() => openValue(impostor, sealValue(key, secret, aad), aad), 'VAULT_DECRYPT_FAILED');
  });

  const moved: [string, Aad][] = [
    ['another row', { ...aad, rowId: 'row-2' }],
    ['another column', { ...aad, column: 'private_url' }],
    ['another table', { ...aad, table: 'paid_responses' }],
  ];
  for (const [where, target] of moved) {
    test(`value copied to ${where} → VAULT_DECRYPT_FAILED`, () => {
      expectVaultError(() => openValue(key, sealValue(key, secret, aad), target), 'VAULT_DECRYPT_FAILED');
    });
  }

  test('locations that a naive separator join would confuse stay distinct', () => {
    const pairs: [Aad, Aad][] = [
      [{ table: 't', column: 'a.b', rowId: 'c' }, { table: 't', column: 'a', rowId: 'b.c' }],
      [{ table: 't', column: 'a\0b', rowId: 'c' }, { table: 't', column: 'a', rowId: 'b\0c' }],
      [{ table: 't', column: 'a","b', rowId: 'c' }, { table: 't', column: 'a', rowId: 'b","c' }],
    ];
    for (const [sealedFor, openedAs] of pairs) {
      expectVaultError(() => openValue(key, sealValue(key, secret, sealedFor), openedAs), 'VAULT_DECRYPT_FAILED');
    }
  });

  const malformed = [
    '',
    'plaintext-url',
    'v2$630dcd2966c4$AAAA',
    `v1$${'x'.repeat(12)}$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    'v1$630dcd2966c4$',
    'v1$630dcd2966c4$not base64!',
    'v1$630dcd2966c4$AAAA',
    'v1$630dcd2966c4$AAAA$extra',
  ];
  for (const sealed of malformed) {
    test(`malformed ${JSON.stringify(sealed)} → VAULT_FORMAT`, () => {
      expectVaultError(() => openValue(key, sealed, aad), 'VAULT_FORMAT');
      expectVaultError(() => sealedKeyId(sealed), 'VAULT_FORMAT');
    });
  }
});

describe('known-answer vector', () => {
  const kat = masterKeyFromBase64(KAT.keyBase64);

  test('the fixed key has the expected fingerprint id', () => {
    expect(kat.id).toBe(KAT.keyId);
  });

  test('sealing with the fixed nonce reproduces the vector', () => {
    expect(sealValueWithNonce(kat, KAT.plaintext, KAT.aad, Buffer.from(KAT.nonceHex, 'hex'))).toBe(KAT.sealed);
  });

  test('the vector opens to the expected plaintext', () => {
    expect(openValue(kat, KAT.sealed, KAT.aad)).toBe(KAT.plaintext);
    expect(sealedKeyId(KAT.sealed)).toBe(KAT.keyId);
  });

  test('sealValueWithNonce refuses a nonce that is not 96 bits', () => {
    expect(() => sealValueWithNonce(kat, 'x', KAT.aad, new Uint8Array(16))).toThrow(/12 bytes/);
  });
});

describe('master key parsing', () => {
  test('base64 round trip and trailing newline of a key file', () => {
    const key = generateMasterKey();
    const parsed = masterKeyFromBase64(`${masterKeyToBase64(key)}\n`);
    expect(parsed.id).toBe(key.id);
    expect(Buffer.from(parsed.bytes).equals(Buffer.from(key.bytes))).toBe(true);
    expect(key.bytes.length).toBe(32);
  });

  const rejected: [string, string, RegExp][] = [
    ['31 bytes', Buffer.alloc(31, 7).toString('base64'), /got 31 bytes/],
    ['33 bytes', Buffer.alloc(33, 7).toString('base64'), /got 33 bytes/],
    ['garbage', 'not-a-key!!secret-looking-value', /not valid base64/],
    ['base64 with junk characters', `${KAT.keyBase64.slice(0, 20)}$$${KAT.keyBase64.slice(20)}`, /not valid base64/],
    ['empty', '', /not valid base64/],
  ];
  for (const [what, input, reason] of rejected) {
    test(`rejects ${what} naming CROCHET_MASTER_KEY without echoing the value`, () => {
      let message = '';
      try {
        masterKeyFromBase64(input);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('CROCHET_MASTER_KEY');
      expect(message).toMatch(reason);
      if (input !== '') expect(message).not.toContain(input);
    });
  }
});
