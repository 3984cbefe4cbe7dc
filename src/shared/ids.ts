import { randomBytes } from 'node:crypto';

/** Time-ordered row id (UUIDv7). */
export const newId = () => Bun.randomUUIDv7();

/** Prefixed opaque id (`gw_req_…`, `rly_…`): UUIDv7 hex without dashes keeps them time-ordered. */
export const prefixedId = (prefix: string) => `${prefix}${Bun.randomUUIDv7().replace(/-/g, '')}`;

/** URL-safe random token of `bytes` bytes of entropy. */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

/** Lowercase hex of `bytes` random bytes. */
export const randomHex = (bytes = 16) => randomBytes(bytes).toString('hex');
