/**
 * Sends one POST to a vetted upstream, connected to the exact address the guard approved.
 *
 * How the pinning works on Bun: `fetch` gets a URL whose host is the vetted IP literal, so Bun
 * opens the TCP connection to that address without any DNS lookup. The original name goes back in
 * where it matters: the `Host` header (Bun sends a caller-set Host as is), and for https
 * `tls.serverName` (the SNI the server sees, and the name Bun verifies the certificate against)
 * plus a `checkServerIdentity` that checks the certificate against the vetted name explicitly.
 * A request carrying its own `checkServerIdentity` gets a connection of its own, and https calls
 * use `keepalive: false` so it closes afterwards: a pooled socket verified for one seller can never
 * carry another seller's call. Plain-http calls (development only) may reuse connections. `proxy: false` keeps `HTTPS_PROXY` from taking the connection elsewhere.
 */
import { checkServerIdentity } from 'node:tls';
import type { VettedUpstream } from './guard.ts';
import { parseIp } from './ip.ts';
import { judgeJsonBytes } from '../json-bytes.ts';
import { NEVER_FORWARDED_HEADERS } from './forwarded-headers.ts';
import { readCapped } from '../read-capped.ts';


export type UpstreamRequest = {
  headers: Record<string, string>;
  body: Uint8Array;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Deepest JSON nesting a reply may have (`CROCHET_MAX_JSON_DEPTH`); deeper is `too_deep`. */
  maxJsonDepth: number;
  /** Extra trusted CA (PEM). Tests only: production trusts the system roots. */
  tlsCa?: string;
};

export type UpstreamFailureReason = 'timeout' | 'connect_failed' | 'tls_failed' | 'redirect' | 'too_large' | 'not_json' | 'too_deep';

/**
 * `response`: the seller answered with JSON (any non-3xx status; the caller maps statuses).
 * `failure`: no usable answer; `status` is set when the seller did send one (e.g. a 302 or an
 * HTML 500), so the caller can still tell a seller 5xx apart.
 */
export type UpstreamOutcome =
  | { kind: 'response'; status: number; body: Uint8Array; latencyMs: number }
  | { kind: 'failure'; reason: UpstreamFailureReason; status?: number; latencyMs: number };

// Codes Bun gives TLS failures: OpenSSL verify results (DEPTH_ZERO_SELF_SIGNED_CERT,
// UNABLE_TO_GET_ISSUER_CERT_LOCALLY, CERT_HAS_EXPIRED…), ERR_TLS_CERT_ALTNAME_INVALID from the
// name check, and EPROTO when the handshake itself fails.
const TLS_ERROR_CODE = /CERT|TLS|SSL|EPROTO|HANDSHAKE|UNABLE_TO_|ISSUER|SIGNATURE|CHAIN|ALTNAME/i;

// Forwarded name (lowercase) of each header name given, or null for one of ours. Callers pass the
// same few names on every call, and lowercasing them afresh each time was a visible cost.
const forwardedNames = new Map<string, string | null>();
const MAX_REMEMBERED_NAMES = 1024;

function forwardedName(name: string): string | null {
  let lower = forwardedNames.get(name);
  if (lower === undefined) {
    const l = name.toLowerCase();
    // Framing, hop-by-hop and routing headers are ours to set (or never sent): forwarded-headers.ts.
    lower = NEVER_FORWARDED_HEADERS.has(l) ? null : l;
    if (forwardedNames.size < MAX_REMEMBERED_NAMES) forwardedNames.set(name, lower);
  }
  return lower;
}

// A plain object, not Headers: this runs once per gateway call.
function buildHeaders(vetted: VettedUpstream, given: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {
    host: vetted.hostHeader,
    'content-type': 'application/json',
    // Ask for the plain body; if a seller compresses anyway, Bun decodes it as a stream and the
    // size cap below counts decoded bytes, so a compression bomb stops at the cap too.
    'accept-encoding': 'identity',
    // Bun would otherwise announce its own name and version to every seller (a given one wins).
    'user-agent': 'crochet-gateway',
  };
  for (const name in given) {
    const lower = forwardedName(name);
    if (lower !== null) headers[lower] = given[name] as string;
  }
  return headers;
}

function tlsOptions(vetted: VettedUpstream, ca: string | undefined): BunFetchRequestInit['tls'] {
  const isName = parseIp(vetted.hostname) === null;
  return {
    // SNI must be a name (RFC 6066); for IP-literal URLs Bun checks the certificate against the IP.
    ...(isName ? { serverName: vetted.hostname } : {}),
    ...(ca === undefined ? {} : { ca }),
    checkServerIdentity: (_host, cert) => checkServerIdentity(vetted.hostname, cert),
  };
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return '';
}



/**
 * POSTs `req.body` to the vetted upstream and classifies what came back. Never throws for
 * anything the seller or the network does; redirects are reported, never followed.
 *
 * @example
 * const outcome = await postToUpstream(vetted, { headers, body, timeoutMs: 15_000, maxResponseBytes: 1 << 20 });
 */
export async function postToUpstream(vetted: VettedUpstream, req: UpstreamRequest): Promise<UpstreamOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const isHttps = vetted.https;
  const controller = new AbortController();
  let timedOut = false;
  // One deadline for connect, headers and body: a seller that trickles its reply still times out.
  // A timer cleared on completion, not AbortSignal.timeout: that one was no faster here and keeps
  // every call's timer (and signal) pending for the full timeout, tens of MB under load.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);

  try {
    const init: BunFetchRequestInit = {
      method: 'POST',
      headers: buildHeaders(vetted, req.headers),
      // Request bodies come from Request.arrayBuffer(): ArrayBuffer-backed, as fetch requires.
      body: req.body as Uint8Array<ArrayBuffer>,
      redirect: 'manual',
      signal: controller.signal,
      // Pooled plain-http connections are harmless (no identity was checked); TLS ones are never reused.
      keepalive: !isHttps,
      proxy: false,
      ...(isHttps ? { tls: tlsOptions(vetted, req.tlsCa) } : {}),
    };
    const response = await fetch(vetted.connectUrl, init);
    const status = response.status;

    if (status >= 300 && status < 400) {
      controller.abort();
      return { kind: 'failure', reason: 'redirect', status, latencyMs: elapsed() };
    }
    const judge = (body: Uint8Array): UpstreamOutcome => {
      // Size is capped above; depth is scanned before the parse, so a hostile reply never reaches it.
      const verdict = judgeJsonBytes(body, req.maxJsonDepth);
      return verdict === 'json' ? { kind: 'response', status, body, latencyMs: elapsed() } : { kind: 'failure', reason: verdict, status, latencyMs: elapsed() };
    };

    // Fast path: an uncompressed reply with a declared length is framed by it (the client reads no
    // more than that), so the cap can be checked before reading.
    const declared = response.headers.get('content-length');
    if (declared !== null && !response.headers.has('content-encoding') && /^\d+$/.test(declared)) {
      if (Number(declared) > req.maxResponseBytes) {
        controller.abort();
        return { kind: 'failure', reason: 'too_large', status, latencyMs: elapsed() };
      }
      return judge(new Uint8Array(await response.arrayBuffer()));
    }

    // Otherwise count bytes as they arrive: without a length (chunked, compressed) only that is safe.
    const body = await readCapped(response.body, req.maxResponseBytes);
    if (body === null) {
      controller.abort();
      return { kind: 'failure', reason: 'too_large', status, latencyMs: elapsed() };
    }
    return judge(body);
  } catch (error) {
    if (timedOut) return { kind: 'failure', reason: 'timeout', latencyMs: elapsed() };
    const reason = isHttps && TLS_ERROR_CODE.test(errorCode(error)) ? 'tls_failed' : 'connect_failed';
    return { kind: 'failure', reason, latencyMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
