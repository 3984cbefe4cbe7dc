/**
 * SSRF guard for sellers' private endpoint URLs (SPEC §3 "Upstream safety"). Runs when a URL is
 * saved and again before every call; the address it approves is the one the client connects to,
 * so a DNS answer that changes between the check and the connection cannot redirect the call.
 *
 * Error messages never echo the URL or host: at call time the error may reach the buyer, who must
 * never learn where the seller's service lives.
 */
import { lookup } from 'node:dns/promises';
import { AppError, recover } from '../app-error.ts';
import { classifyIp, formatIp, parseIp, type IpAddress, type UnsafeReason } from './ip.ts';

/** Resolves a host name to IP address strings; throws or returns [] when it does not resolve. */
export type Resolver = (hostname: string) => Promise<string[]>;

/** A URL that passed the guard, with the exact address the client must connect to. */
export type VettedUpstream = {
  url: URL;
  /** Host for SNI and certificate checks: lower case, no trailing dot, no IPv6 brackets. */
  hostname: string;
  address: string;
  family: 4 | 6;
  port: number;
  /** What to fetch: the URL with the vetted address in place of the name (built once, here). */
  connectUrl: string;
  /** The original `host[:port]`, sent as the Host header. */
  hostHeader: string;
  https: boolean;
};

export type VetOptions = { allowPrivate: boolean; resolve: Resolver; phase: 'save' | 'call' };

const MAX_URL_LENGTH = 2048;
// WHATWG strips tabs/newlines anywhere and trims spaces/controls, so text containing them is not
// "as written"; refusing it keeps our raw-text checks and the URL parser looking at the same host.
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const AUTHORITY_END = /[/\\?#]/;
const LOCAL_SUFFIXES = ['.localhost', '.local', '.internal'];

type RefusalReason =
  | 'scheme'
  | 'invalid_url'
  | 'credentials'
  | 'empty_host'
  | 'local_name'
  | 'non_canonical_host'
  | 'invalid_address'
  | UnsafeReason;

const ADDRESS_LABELS: Record<UnsafeReason, string> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private, RFC 1918',
  cgnat: 'carrier-grade NAT',
  link_local: 'link-local',
  unique_local: 'unique-local',
  site_local: 'site-local',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
  benchmarking: 'benchmarking',
  documentation: 'documentation',
};

/** The code of every refusal of an unsafe upstream URL (compared by name elsewhere). */
export const UNSAFE_ENDPOINT_URL = 'UNSAFE_ENDPOINT_URL';

function refuse(reason: RefusalReason, message: string): AppError {
  return new AppError(422, UNSAFE_ENDPOINT_URL, message, {
    details: { reason },
    recovery: recover.fixRequest(
      'Use an absolute https:// URL on a public host name, without credentials; put upstream auth in the upstream auth header.',
    ),
  });
}

function refuseAddress(reason: UnsafeReason, resolved: boolean): AppError {
  const verb = resolved ? 'resolves to' : 'is';
  return refuse(reason, `The endpoint host ${verb} a non-public address (${ADDRESS_LABELS[reason]}).`);
}

/** Node's resolver (getaddrinfo, so /etc/hosts counts), IPv4 answers first. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  // Stable sort: IPv4 first because many hosts (Docker's default network among them) have no
  // IPv6 route, and the client connects to the first address without a Happy Eyeballs fallback.
  return [...answers].sort((a, b) => a.family - b.family).map((a) => a.address);
};

/** Splits the authority exactly as it was typed, before WHATWG normalises it. */
function rawAuthority(raw: string, schemeLength: number): string {
  const rest = raw.slice(schemeLength);
  const end = rest.search(AUTHORITY_END);
  return end === -1 ? rest : rest.slice(0, end);
}

function rawHostOf(authority: string): string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close === -1 ? authority : authority.slice(0, close + 1);
  }
  const colon = authority.indexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

function isLocalName(name: string): boolean {
  return name === 'localhost' || LOCAL_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

function vetted(url: URL, hostname: string, ip: IpAddress): VettedUpstream {
  const https = url.protocol === 'https:';
  const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
  const address = formatIp(ip);
  const host = ip.family === 6 ? `[${address}]` : address;
  const connectUrl = `${url.protocol}//${host}:${port}${url.pathname}${url.search}`;
  return { url, hostname, address, family: ip.family, port, connectUrl, hostHeader: url.host, https };
}

/** Checks syntax and the host as written; returns the URL and the literal address if it is one. */
function checkSyntax(raw: string, allowPrivate: boolean): { url: URL; hostname: string; literal: IpAddress | null } {
  if (raw.length === 0 || raw.length > MAX_URL_LENGTH || CONTROL_OR_SPACE.test(raw)) {
    throw refuse('invalid_url', 'The endpoint URL is not a valid absolute URL.');
  }
  const lower = raw.slice(0, 8).toLowerCase();
  const scheme = lower.startsWith('https://') ? 'https:' : lower.startsWith('http://') ? 'http:' : null;
  if (scheme === null || (scheme === 'http:' && !allowPrivate)) {
    throw refuse('scheme', 'The endpoint URL must be an absolute https:// URL.');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('invalid_url', 'The endpoint URL is not a valid absolute URL.');
  }
  if (url.protocol !== scheme) throw refuse('invalid_url', 'The endpoint URL is not a valid absolute URL.');

  const authority = rawAuthority(raw, scheme.length + 2);
  // Any "@" (even "https://@host") is userinfo: the classic trick to make "good.example@10.0.0.1"
  // look like a trusted name.
  if (authority.includes('@') || url.username !== '' || url.password !== '') {
    throw refuse('credentials', 'The endpoint URL must not contain credentials (user:pass@); use the upstream auth header.');
  }
  const rawHost = rawHostOf(authority);
  if (rawHost === '' || url.hostname === '') throw refuse('empty_host', 'The endpoint URL has an empty host.');

  const host = url.hostname;
  if (host.startsWith('[')) {
    const literal = parseIp(host);
    if (literal === null || !rawHost.startsWith('[')) throw refuse('invalid_url', 'The endpoint URL is not a valid absolute URL.');
    return { url, hostname: host.slice(1, -1), literal };
  }
  const literal = parseIp(host);
  if (literal !== null) {
    // WHATWG turns "127.1", "0x7f.1", "2130706433", "0177.0.0.1" and full-width digits into a
    // dotted quad; only a host typed exactly as that dotted quad is canonical.
    if (rawHost !== host) throw refuse('non_canonical_host', 'The endpoint host is a number written in a non-canonical form.');
    return { url, hostname: host, literal };
  }
  // For ASCII names WHATWG only lower-cases; any other change means percent-encoding or another
  // spelling trick. Non-ASCII names legitimately become punycode.
  if (/^[\x21-\x7e]*$/.test(rawHost) && rawHost.toLowerCase() !== host) {
    throw refuse('non_canonical_host', 'The endpoint host is not written in a canonical form.');
  }
  const hostname = host.replace(/\.+$/, '');
  if (hostname === '') throw refuse('empty_host', 'The endpoint URL has an empty host.');
  if (!allowPrivate && isLocalName(hostname)) {
    throw refuse('local_name', 'The endpoint host is a reserved local name.');
  }
  return { url, hostname, literal: null };
}

type Parsed = ReturnType<typeof checkSyntax> & { literalVetted: VettedUpstream | null; literalRefusal: UnsafeReason | null };

// The syntax checks and an IP literal's verdict depend on the URL text alone: remember them, so the
// gateway's per-call check only repeats what can change (what a name resolves to).
const parsedCache = new Map<string, Parsed>();
const PARSED_CACHE_MAX = 10_000;

function parsedUrl(raw: string, allowPrivate: boolean): Parsed {
  const key = `${allowPrivate ? 1 : 0}${raw}`;
  const hit = parsedCache.get(key);
  if (hit) return hit;
  const syntax = checkSyntax(raw, allowPrivate);
  let literalVetted: VettedUpstream | null = null;
  let literalRefusal: UnsafeReason | null = null;
  if (syntax.literal !== null) {
    const verdict = classifyIp(syntax.literal);
    if (verdict.safe) literalVetted = vetted(syntax.url, syntax.hostname, verdict.connect);
    else if (allowPrivate) literalVetted = vetted(syntax.url, syntax.hostname, syntax.literal);
    else literalRefusal = verdict.reason;
  }
  const parsed = { ...syntax, literalVetted, literalRefusal };
  if (parsedCache.size >= PARSED_CACHE_MAX) parsedCache.clear();
  parsedCache.set(key, parsed);
  return parsed;
}

/**
 * Vets a seller's endpoint URL. At `save`, a name that does not resolve yet is accepted with a
 * warning (`vetted: null`); at `call` it is a 502 `UPSTREAM_UNREACHABLE`. Unsafe URLs throw 422
 * `UNSAFE_ENDPOINT_URL`. Every resolved address must be safe; the first one is used.
 *
 * @example
 * const { vetted } = await vetUpstreamUrl(url, { allowPrivate: false, resolve: systemResolver, phase: 'call' });
 */
export async function vetUpstreamUrl(
  raw: string,
  opts: VetOptions,
): Promise<{ vetted: VettedUpstream | null; warnings: string[] }> {
  const { url, hostname, literal, literalVetted, literalRefusal } = parsedUrl(raw, opts.allowPrivate);

  if (literal !== null) {
    if (literalRefusal !== null) throw refuseAddress(literalRefusal, false);
    if (literalVetted) return { vetted: literalVetted, warnings: [] };
  }

  let answers: string[] = [];
  try {
    answers = await opts.resolve(hostname);
  } catch {
    answers = [];
  }
  if (answers.length === 0) {
    if (opts.phase === 'save') {
      return {
        vetted: null,
        warnings: ['The endpoint host name does not resolve yet; it is accepted now and checked again on every call.'],
      };
    }
    throw new AppError(502, 'UPSTREAM_UNREACHABLE', 'The seller endpoint could not be reached.', {
      recovery: recover.retryLater('The seller endpoint could not be reached; try again later.'),
    });
  }

  let chosen: IpAddress | null = null;
  for (const answer of answers) {
    const ip = parseIp(answer);
    if (ip === null) {
      if (opts.allowPrivate) continue;
      throw refuse('invalid_address', 'The endpoint host resolves to an address that is not a plain IP address.');
    }
    const verdict = classifyIp(ip);
    if (!verdict.safe && !opts.allowPrivate) throw refuseAddress(verdict.reason, true);
    chosen ??= verdict.safe ? verdict.connect : ip;
  }
  if (chosen === null) throw refuse('invalid_address', 'The endpoint host resolves to an address that is not a plain IP address.');
  return { vetted: vetted(url, hostname, chosen), warnings: [] };
}
