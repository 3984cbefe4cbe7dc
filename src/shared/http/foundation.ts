import { Elysia, ValidationError } from 'elysia';
import { AppError } from '../app-error.ts';
import { CommonErrors } from '../errors.ts';
import { prefixedId } from '../ids.ts';
import { exceedsJsonDepth } from '../json-bytes.ts';
import { readCapped } from '../read-capped.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

export type FoundationDeps = {
  logger: Logger;
  metrics: Metrics;
  publicUrl: string;
  /** Largest JSON body any API route accepts; the gateway enforces per-endpoint limits itself. */
  maxBodyBytes: number;
  /** Hard ceiling for gateway bodies, checked before reading. */
  maxGatewayBodyBytes: number;
  /** Deepest JSON nesting any body may have (SPEC §1, `CROCHET_MAX_JSON_DEPTH`). */
  maxJsonDepth: number;
  /** A page for a browser that asked for an unknown route (undefined: the JSON envelope). */
  notFoundPage?: (request: Request) => Response | undefined;
};

type RequestMeta = { id: string; startedAt: number };
const metaOf = new WeakMap<Request, RequestMeta>();

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const GATEWAY_PATH = /^\/api\/v1\/gateway\//;

/** The path of a request URL without building a URL object (hot path). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/**
 * The body's bytes, refused with 413 as soon as they pass `limit`. A chunked body declares no
 * length for onRequest to check, and reading it whole first would let any client, before any
 * key is checked, make the server buffer as much as it cares to send.
 */
export async function readRequestBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  // Fast path: a body framed by Content-Length within the limit cannot grow past it, so the
  // native whole-body read is safe.
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && !request.headers.has('transfer-encoding')) {
    if (Number(declared) > limit) return null;
    return new Uint8Array(await request.arrayBuffer());
  }
  return readCapped(request.body, limit);
}

async function readBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = await readRequestBody(request, limit);
  if (bytes === null) throw CommonErrors.payloadTooLarge(limit);
  return bytes;
}

/**
 * Every API body is JSON, whatever Content-Type says (agents often send curl's form default).
 * Size is capped while reading and depth checked by a byte scan before the parse: nothing
 * recursive (parser, schema validation, error rendering) ever sees a body nested past the limit.
 */
async function parseJsonBody(request: Request, limit: number, maxDepth: number): Promise<unknown> {
  const bytes = await readBody(request, limit);
  if (bytes.byteLength === 0) return {};
  if (exceedsJsonDepth(bytes, maxDepth)) throw CommonErrors.jsonTooDeep(maxDepth);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch {
    throw CommonErrors.invalidJson();
  }
}

/** A page form's fields (the last value of a repeated name), size-capped like JSON bodies. */
async function parseFormBody(request: Request, limit: number): Promise<Record<string, string>> {
  const bytes = await readBody(request, limit);
  return Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes)));
}

/** The request id of a request that passed through the foundation plugin. */
export const requestIdOf = (request: Request) => metaOf.get(request)?.id ?? 'unknown';

/** Renders an AppError as the SPEC error envelope. */
export function errorResponse(error: AppError, requestId: string, publicUrl: string): Response {
  const recovery = error.recovery ? { docs_url: `${publicUrl}/api/docs`, ...error.recovery } : undefined;
  const body = {
    success: false,
    error: {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      ...(recovery ? { recovery } : {}),
    },
    ...error.extra,
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...error.headers },
  });
}

/**
 * Request ids, body limits, JSON parsing, the error envelope and access logs, for every route.
 */
export function foundationPlugin(deps: FoundationDeps) {
  const { logger, publicUrl } = deps;
  return new Elysia({ name: 'foundation' })
    .onRequest(({ request, set }) => {
      const incoming = request.headers.get('x-request-id');
      const id = incoming && REQUEST_ID.test(incoming) ? incoming : prefixedId('req_');
      metaOf.set(request, { id, startedAt: performance.now() });
      set.headers['x-request-id'] = id;
      const declared = Number(request.headers.get('content-length') ?? 0);
      if (declared > deps.maxBodyBytes) {
        const limit = GATEWAY_PATH.test(pathOf(request.url)) ? deps.maxGatewayBodyBytes : deps.maxBodyBytes;
        if (declared > limit) throw CommonErrors.payloadTooLarge(limit);
      }
    })
    // An empty query parameter (`?category=&q=`, what an HTML form sends for an untouched field)
    // means "no filter", never "invalid": drop it before validation.
    .onTransform({ as: 'global' }, ({ query }) => {
      for (const name of Object.keys(query)) if (query[name] === '') delete query[name];
    })
    // Not async: a gateway call gets its answer without a promise to await (Elysia awaits only
    // what is one), on the hottest route.
    .onParse({ as: 'global' }, ({ request }) => {
      // The gateway gets the raw bytes (it forwards them exactly); its own per-endpoint limit follows.
      // The gateway reads its own body once the caller is authenticated and the listing's limit is
      // known (readRequestBody): anonymous callers never get a byte buffered.
      const path = pathOf(request.url);
      if (GATEWAY_PATH.test(path)) return {};
      // The pages' own forms (outside /api/) post as a browser does; the API reads JSON only.
      if (!path.startsWith('/api/') && (request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
        return parseFormBody(request, deps.maxBodyBytes);
      }
      return parseJsonBody(request, deps.maxBodyBytes, deps.maxJsonDepth);
    })
    .onError({ as: 'global' }, ({ code, error, request, set }) => {
      const id = requestIdOf(request);
      const render = (e: AppError) => {
        set.status = e.status;
        return errorResponse(e, id, publicUrl);
      };
      if (error instanceof AppError) return render(error);
      // Elysia wraps what a parser throws; our parser only throws AppErrors.
      if (code === 'PARSE' && error.cause instanceof AppError) return render(error.cause);
      if (error instanceof ValidationError && error.type === 'response') {
        // Our reply did not match its own schema: a server bug, not the caller's input.
        logger.error('response failed its schema', { request_id: id, path: pathOf(request.url) });
        return render(CommonErrors.internal());
      }
      if (error instanceof ValidationError) {
        // Issues carry paths and messages only: values may be secrets (private URLs, auth headers).
        const issues = error.all.map((i) => ({
          path: 'path' in i && i.path && i.path !== 'root' ? String(i.path).replace(/^\//, '').replace(/\//g, '.') : '(root)',
          message: 'message' in i && i.message ? String(i.message) : 'invalid value',
        }));
        return render(CommonErrors.validation(error.type, issues));
      }
      if (code === 'PARSE') return render(CommonErrors.invalidJson());
      if (code === 'NOT_FOUND') {
        const page = deps.notFoundPage?.(request);
        if (page) {
          set.status = 404;
          return page;
        }
        return render(CommonErrors.routeNotFound());
      }
      logger.error('unhandled error', {
        request_id: id,
        code: String(code),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      return render(CommonErrors.internal());
    })
    .onAfterResponse({ as: 'global' }, ({ request, set, responseValue }) => {
      const status = responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200;
      deps.metrics.inc('crochet_http_requests_total', { method: request.method, status: `${Math.floor(status / 100)}xx` });
      if (!logger.enabled('info')) return;
      const meta = metaOf.get(request);
      logger.info('request', {
        request_id: meta?.id,
        method: request.method,
        path: pathOf(request.url),
        status,
        duration_ms: meta ? Math.round((performance.now() - meta.startedAt) * 100) / 100 : undefined,
      });
    });
}
