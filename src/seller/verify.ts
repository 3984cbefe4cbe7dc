/**
 * Crochet seller verification kit (SPEC §4): proves a call to your private endpoint was forwarded
 * by your Crochet instance and not changed on the way. It checks the v1 signature and, when sent
 * (every current gateway sends it), signature v2, which also covers the buyer and relay ids: only
 * then does the result carry `buyerId` and `relayRequestId` (`signatureVersion: 2`). No imports — WebCrypto and TextEncoder only
 * — so you can copy this one file into a Bun, Node ≥ 18, Deno or edge-runtime project.
 * (Node 18 only: start it with `--experimental-global-webcrypto`; Node ≥ 19 needs nothing.)
 *
 * Always hash the raw body bytes as received, never a re-serialized JSON object.
 *
 * @example Bun
 * import { verifyCrochetRequest } from './verify.ts';
 * Bun.serve({
 *   async fetch(req) {
 *     const rawBody = new Uint8Array(await req.arrayBuffer());
 *     const result = await verifyCrochetRequest({
 *       headers: req.headers,
 *       rawBody,
 *       secrets: process.env.CROCHET_SIGNING_SECRET ?? '',
 *       requireV2: true,
 *     });
 *     if (!result.ok) return Response.json({ error: result.reason }, { status: 401 });
 *     // result.buyerId / result.relayRequestId exist only when result.signatureVersion === 2
 *     // (requireV2 makes that certain). A paid call's relayRequestId is your idempotency key.
 *     const input = JSON.parse(new TextDecoder().decode(rawBody));
 *     return Response.json({ echo: input, request: result.requestId });
 *   },
 * });
 *
 * @example Node (node:http): pass `req.headers` as is and the concatenated body Buffer
 * const chunks = []; for await (const c of req) chunks.push(c);
 * const result = await verifyCrochetRequest({ headers: req.headers, rawBody: Buffer.concat(chunks),
 *   secrets: [process.env.CROCHET_SIGNING_SECRET] });
 */

/** Default freshness window either side of now, in seconds (SPEC §4: ±5 min). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type VerifyFailureReason =
  | 'missing_header'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  | 'body_hash_mismatch'
  | 'bad_signature';

type VerifiedCall = {
  ok: true;
  requestId: string;
  listingId: string;
  timestamp: string;
  /** Index into `secrets` of the secret that matched (the v2 signature's when v2 was checked). */
  matchedSecretIndex: number;
  /** True when only a `…-Previous` signature matched: switch to the new secret soon. */
  usedPreviousSignature: boolean;
};

export type VerifyResult =
  | (VerifiedCall & {
      /** `X-Crochet-Signature-V2` verified: the two fields below are proven, not just reported. */
      signatureVersion: 2;
      /** The buyer's Crochet profile id. */
      buyerId: string;
      /**
       * Paid calls: the payment's relay request id, the same on every retry of one payment — use it
       * as your idempotency key (do the paid work once per id). `null`: a free call.
       */
      relayRequestId: string | null;
    })
  | (VerifiedCall & {
      /**
       * Only the v1 signature was sent (an older gateway). v1 does not cover the buyer or relay id,
       * so neither is returned: headers anyone could have changed are never presented as verified.
       */
      signatureVersion: 1;
      buyerId?: never;
      relayRequestId?: never;
    })
  | { ok: false; reason: VerifyFailureReason; header?: string };

export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export type VerifyOptions = {
  /** A fetch `Headers`, or a plain object such as Node's `req.headers` (any name casing). */
  headers: HeaderSource;
  /** The body exactly as received. A string is encoded as UTF-8. */
  rawBody: Uint8Array | ArrayBuffer | string;
  /** Your signing secret, or several while you rotate (new and old). */
  secrets: string | string[];
  toleranceSeconds?: number;
  /** Defaults to the current time; tests pass a fixed one. */
  now?: Date | number;
  /** Refuse calls without `X-Crochet-Signature-V2` (missing_header) instead of verifying v1 only. */
  requireV2?: boolean;
};

const HEADER = {
  requestId: 'X-Crochet-Request-Id',
  listingId: 'X-Crochet-Listing-Id',
  buyerId: 'X-Crochet-Buyer-Id',
  timestamp: 'X-Crochet-Timestamp',
  bodySha256: 'X-Crochet-Body-SHA256',
  signature: 'X-Crochet-Signature',
  signaturePrevious: 'X-Crochet-Signature-Previous',
  signatureV2: 'X-Crochet-Signature-V2',
  signaturePreviousV2: 'X-Crochet-Signature-Previous-V2',
  relayRequestId: 'X-Crochet-Relay-Request-Id',
} as const;

const REQUIRED_HEADERS = [
  HEADER.requestId,
  HEADER.listingId,
  HEADER.buyerId,
  HEADER.timestamp,
  HEADER.bodySha256,
  HEADER.signature,
] as const;

// Date.parse alone accepts forms like "2026-05-03 12:00:00" or local times; insist on an
// explicit offset so both sides agree on the instant.
const ISO_8601_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

const encoder = new TextEncoder();

/**
 * Verifies one forwarded call. Resolves `{ ok: true, … }` or `{ ok: false, reason }`; throws only
 * on misuse (no secrets, bad tolerance, no WebCrypto).
 */
export async function verifyCrochetRequest(opts: VerifyOptions): Promise<VerifyResult> {
  const secrets = typeof opts.secrets === 'string' ? [opts.secrets] : opts.secrets;
  if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError('verifyCrochetRequest: secrets must be one or more non-empty strings');
  }
  const toleranceSeconds = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new TypeError('verifyCrochetRequest: toleranceSeconds must be a finite number >= 0');
  }
  const nowMs = opts.now === undefined ? Date.now() : Number(opts.now);
  if (!Number.isFinite(nowMs)) throw new TypeError('verifyCrochetRequest: now is not a valid time');
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new Error('verifyCrochetRequest: WebCrypto (globalThis.crypto.subtle) is not available');
  }

  const read = headerReader(opts.headers);
  const values: Record<string, string> = {};
  const required = opts.requireV2 ? [...REQUIRED_HEADERS, HEADER.signatureV2] : REQUIRED_HEADERS;
  for (const name of required) {
    const value = read(name);
    if (value === undefined) return { ok: false, reason: 'missing_header', header: name };
    values[name] = value;
  }
  const timestamp = values[HEADER.timestamp] ?? '';
  const requestId = values[HEADER.requestId] ?? '';
  const listingId = values[HEADER.listingId] ?? '';
  const buyerId = values[HEADER.buyerId] ?? '';

  const timestampMs = ISO_8601_WITH_OFFSET.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(timestampMs)) {
    return { ok: false, reason: 'malformed_timestamp', header: HEADER.timestamp };
  }
  if (Math.abs(nowMs - timestampMs) > toleranceSeconds * 1000) {
    return { ok: false, reason: 'stale_timestamp', header: HEADER.timestamp };
  }

  const bodySha256 = toHex(await subtle.digest('SHA-256', toBytes(opts.rawBody)));
  if (bodySha256 !== values[HEADER.bodySha256]) {
    return { ok: false, reason: 'body_hash_mismatch', header: HEADER.bodySha256 };
  }

  const relayRequestId = read(HEADER.relayRequestId) ?? null;
  const payload = encoder.encode(`${timestamp}.${requestId}.${listingId}.${bodySha256}`);
  // JSON.stringify writes exactly the SPEC's array: no spaces, strings escaped, null for a free call.
  const payloadV2 = encoder.encode(JSON.stringify(['crochet-v2', timestamp, requestId, listingId, buyerId, relayRequestId, bodySha256]));
  const given = (name: string) => {
    const value = read(name);
    return value === undefined ? undefined : encoder.encode(value);
  };
  const v1 = { main: given(HEADER.signature), previous: given(HEADER.signaturePrevious), mainMatch: -1, previousMatch: -1 };
  const v2 = { main: given(HEADER.signatureV2), previous: given(HEADER.signaturePreviousV2), mainMatch: -1, previousMatch: -1 };

  // Every secret is tried against every signature header with no early exit, so timing shows
  // neither which secret nor how much of a signature matched.
  for (let i = 0; i < secrets.length; i++) {
    const key = await subtle.importKey('raw', encoder.encode(secrets[i] ?? ''), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const expected = encoder.encode(toHex(await subtle.sign('HMAC', key, payload)));
    const expectedV2 = encoder.encode(toHex(await subtle.sign('HMAC', key, payloadV2)));
    match(v1, expected, i);
    match(v2, expectedV2, i);
  }
  const matched = v1.mainMatch >= 0 ? v1.mainMatch : v1.previousMatch;
  if (matched < 0) return { ok: false, reason: 'bad_signature', header: HEADER.signature };
  const common = { ok: true as const, requestId, listingId, timestamp };
  if (v2.main === undefined) {
    return { ...common, matchedSecretIndex: matched, usedPreviousSignature: v1.mainMatch < 0, signatureVersion: 1 };
  }
  // A v2 header that does not verify is a forgery (buyer or relay id changed), never a fallback to v1.
  const matchedV2 = v2.mainMatch >= 0 ? v2.mainMatch : v2.previousMatch;
  if (matchedV2 < 0) return { ok: false, reason: 'bad_signature', header: HEADER.signatureV2 };
  return {
    ...common,
    matchedSecretIndex: matchedV2,
    usedPreviousSignature: v2.mainMatch < 0,
    signatureVersion: 2,
    buyerId,
    relayRequestId,
  };
}

type SignatureCheck = { main?: Uint8Array; previous?: Uint8Array; mainMatch: number; previousMatch: number };

/** Records the first secret index whose expected signature equals the main or the previous header. */
function match(check: SignatureCheck, expected: Uint8Array, index: number): void {
  const main = check.main !== undefined && constantTimeEqual(expected, check.main);
  const previous = check.previous !== undefined && constantTimeEqual(expected, check.previous);
  if (main && check.mainMatch < 0) check.mainMatch = index;
  if (previous && check.previousMatch < 0) check.previousMatch = index;
}

export type ReplayGuard = {
  /**
   * Remembers `requestId` and says whether it was already seen within the TTL. Call it only
   * after `verifyCrochetRequest` succeeded, and reject the call when it returns true.
   */
  isReplay(requestId: string, now?: Date | number): boolean;
  /** How many ids are remembered right now (memory grows with calls per TTL). */
  readonly size: number;
};

/**
 * Optional, for sellers whose endpoint is not idempotent: an in-memory set of seen request ids.
 * A signed call stays acceptable until `timestamp + tolerance`, which can be up to twice the
 * tolerance after it first arrives, hence the default TTL of 600 s. Single process only: use a
 * shared store (Redis `SET NX EX`, a unique DB column) when you run several instances.
 *
 * @example
 * const guard = createReplayGuard();
 * if (result.ok && guard.isReplay(result.requestId)) return new Response('replay', { status: 409 });
 */
export function createReplayGuard(ttlSeconds: number = 2 * DEFAULT_TOLERANCE_SECONDS): ReplayGuard {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('createReplayGuard: ttlSeconds must be a finite number > 0');
  }
  const ttlMs = ttlSeconds * 1000;
  const expiresAt = new Map<string, number>();
  return {
    isReplay(requestId, now) {
      const nowMs = now === undefined ? Date.now() : Number(now);
      // Entries are inserted in expiry order (fixed TTL), so expired ones sit at the front.
      for (const [id, expiry] of expiresAt) {
        if (expiry > nowMs) break;
        expiresAt.delete(id);
      }
      const expiry = expiresAt.get(requestId);
      if (expiry !== undefined && expiry > nowMs) return true;
      expiresAt.delete(requestId);
      expiresAt.set(requestId, nowMs + ttlMs);
      return false;
    },
    get size() {
      return expiresAt.size;
    },
  };
}

/** Case-insensitive lookup; arrays (Node's repeated headers) take their first value; "" is absent. */
function headerReader(headers: HeaderSource): (name: string) => string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    const h = headers as Headers;
    return (name) => h.get(name) || undefined;
  }
  const lowered = new Map<string, string>();
  for (const [name, raw] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    const key = name.toLowerCase();
    if (typeof value === 'string' && value !== '' && !lowered.has(key)) lowered.set(key, value);
  }
  return (name) => lowered.get(name.toLowerCase());
}

function toBytes(raw: Uint8Array | ArrayBuffer | string): Uint8Array<ArrayBuffer> {
  if (typeof raw === 'string') return encoder.encode(raw);
  // A copy gives WebCrypto a plain ArrayBuffer-backed view whatever the caller passed
  // (Node Buffers from a pool, SharedArrayBuffer views).
  const view = ArrayBuffer.isView(raw) ? raw : new Uint8Array(raw);
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}

function toHex(buffer: ArrayBuffer): string {
  let hex = '';
  for (const byte of new Uint8Array(buffer)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Equal-length byte comparison that always reads every byte; the length itself is public. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
