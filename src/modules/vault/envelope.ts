/**
 * Endpoint vault envelope (SPEC §3): AES-256-GCM with a random 96-bit nonce per value, associated
 * data binding the value to its table, column and row, and the key id in the clear so a master-key
 * rotation can tell which key sealed a value.
 *
 * Format: `v1$<keyId>$<base64url(nonce ‖ ciphertext ‖ tag)>`.
 *
 * node:crypto (synchronous) because sealing and opening happen inside short DB transactions,
 * which must not await.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export type MasterKey = { id: string; bytes: Uint8Array };

/** Where a value lives; a sealed value copied to another row, column or table will not open. */
export type Aad = { table: string; column: string; rowId: string };

export type VaultErrorCode = 'VAULT_KEY_MISMATCH' | 'VAULT_DECRYPT_FAILED' | 'VAULT_FORMAT';

/**
 * A vault value could not be opened. Deliberately not an AppError: it is an operator problem
 * (wrong or retired master key, corrupted database), so the API must render it as a generic 500
 * and log it, not explain it to the caller. Messages never contain plaintext.
 */
export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = 'VaultError';
    this.code = code;
  }
}

const VERSION = 'v1';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_HEX_CHARS = 12;
const KEY_ID_PATTERN = /^[0-9a-f]{12}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The key's fingerprint: first 12 hex chars of SHA-256 of its bytes. */
function keyIdOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, KEY_ID_HEX_CHARS);
}

function masterKeyFromBytes(bytes: Uint8Array): MasterKey {
  return { id: keyIdOf(bytes), bytes };
}

/**
 * Parses `CROCHET_MASTER_KEY` (standard base64 of exactly 32 bytes; surrounding whitespace, as in
 * a key file ending in a newline, is ignored). The error never echoes the value.
 */
export function masterKeyFromBase64(b64: string): MasterKey {
  const text = b64.trim();
  // Buffer.from(…, 'base64') silently skips invalid characters, so check the alphabet first.
  if (text === '' || !BASE64_PATTERN.test(text)) {
    throw new Error('CROCHET_MASTER_KEY: expected base64 of exactly 32 bytes (value is not valid base64)');
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (bytes.length !== KEY_BYTES) {
    throw new Error(`CROCHET_MASTER_KEY: expected base64 of exactly 32 bytes (got ${bytes.length} bytes)`);
  }
  return masterKeyFromBytes(bytes);
}

/** A fresh random 32-byte master key. */
export function generateMasterKey(): MasterKey {
  return masterKeyFromBytes(new Uint8Array(randomBytes(KEY_BYTES)));
}

/** Standard base64, the form `CROCHET_MASTER_KEY` and the key file use. */
export function masterKeyToBase64(key: MasterKey): string {
  return Buffer.from(key.bytes).toString('base64');
}

// JSON of an array is unambiguous whatever the fields contain (a plain separator would let
// `a.b`+`c` collide with `a`+`b.c`). The key id and version are bound too, so neither can be
// swapped in the clear part of the envelope.
function aadBytes(keyId: string, aad: Aad): Buffer {
  return Buffer.from(JSON.stringify([`crochet-vault-${VERSION}`, keyId, aad.table, aad.column, aad.rowId]), 'utf8');
}

/** Encrypts one value for one table/column/row. */
export function sealValue(key: MasterKey, plaintext: string, aad: Aad): string {
  return sealValueWithNonce(key, plaintext, aad, new Uint8Array(randomBytes(NONCE_BYTES)));
}

/**
 * Test-only: seals with a caller-chosen nonce so a known-answer vector can be fixed. Reusing a
 * nonce under one key breaks AES-GCM completely; production code must call `sealValue`.
 */
export function sealValueWithNonce(key: MasterKey, plaintext: string, aad: Aad, nonce: Uint8Array): string {
  assertKey(key);
  if (nonce.length !== NONCE_BYTES) throw new Error(`vault: nonce must be ${NONCE_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadBytes(key.id, aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const packed = Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]);
  return `${VERSION}$${key.id}$${packed.toString('base64url')}`;
}

/** Decrypts a value sealed for the same table/column/row; throws `VaultError` on any problem. */
export function openValue(key: MasterKey, sealed: string, aad: Aad): string {
  assertKey(key);
  const { keyId, packed } = parseSealed(sealed);
  if (keyId !== key.id) {
    throw new VaultError(
      'VAULT_KEY_MISMATCH',
      `vault value was sealed with master key ${keyId}, but the loaded master key is ${key.id}`,
    );
  }
  const nonce = packed.subarray(0, NONCE_BYTES);
  const tag = packed.subarray(packed.length - TAG_BYTES);
  const ciphertext = packed.subarray(NONCE_BYTES, packed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aadBytes(keyId, aad));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // The cause says only "unable to authenticate"; dropping it keeps partial output out of logs.
    throw new VaultError(
      'VAULT_DECRYPT_FAILED',
      `vault value for ${aad.table}.${aad.column} (row ${aad.rowId}) failed authentication: ` +
        'tampered, or sealed for a different row, column or table',
    );
  }
}

/** The id of the master key that sealed `sealed` (for rotation); throws `VAULT_FORMAT` if malformed. */
export function sealedKeyId(sealed: string): string {
  return parseSealed(sealed).keyId;
}

function parseSealed(sealed: string): { keyId: string; packed: Buffer } {
  const parts = sealed.split('$');
  const [version, keyId, body] = parts;
  if (parts.length !== 3 || version !== VERSION) {
    throw new VaultError('VAULT_FORMAT', `vault value is not in the ${VERSION}$<keyId>$<data> format`);
  }
  if (keyId === undefined || !KEY_ID_PATTERN.test(keyId)) {
    throw new VaultError('VAULT_FORMAT', 'vault value has a malformed key id');
  }
  if (body === undefined || !BASE64URL_PATTERN.test(body)) {
    throw new VaultError('VAULT_FORMAT', 'vault value data is not base64url');
  }
  const packed = Buffer.from(body, 'base64url');
  if (packed.length < NONCE_BYTES + TAG_BYTES) {
    throw new VaultError('VAULT_FORMAT', 'vault value data is too short');
  }
  return { keyId, packed };
}

function assertKey(key: MasterKey): void {
  if (key.bytes.length !== KEY_BYTES) throw new Error(`vault: master key must be ${KEY_BYTES} bytes`);
}
