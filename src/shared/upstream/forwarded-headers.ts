/**
 * The one list of header names the gateway never forwards from anyone's settings (SPEC §3/§4):
 * framing and hop-by-hop headers the client sets itself (a caller's copy could break the framing
 * or the address pinning through Host), proxy and routing headers a seller's proxy may trust, and
 * the gateway's own `X-Crochet-*` headers, which only the signer writes. Endpoint validation
 * refuses them as an upstream auth header name; the upstream client drops them from any header map.
 */
export const NEVER_FORWARDED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'trailer',
  'connection',
  'keep-alive',
  'te',
  'upgrade',
  'expect',
  'accept-encoding',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'forwarded',
  'via',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);

/** Prefix of the headers the gateway signs and sets itself. */
export const CROCHET_HEADER_PREFIX = 'x-crochet-';

/** True when a seller's upstream auth header may not have this name (compared case-insensitively). */
export function isReservedHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return NEVER_FORWARDED_HEADERS.has(lower) || lower.startsWith(CROCHET_HEADER_PREFIX);
}
