import type { DocumentDecoration } from 'elysia';
import type { ErrorCode } from './error-codes.ts';

/**
 * Security schemes of the document. A credential is one line here plus one entry in
 * `CREDENTIALS` (e.g. the human session of issue 12: `humanSession: { type: 'apiKey', in: 'cookie', … }`).
 */
export const SECURITY_SCHEMES = {
  agentKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'am_k_…',
    description: 'An agent API key: `Authorization: Bearer am_k_…`. Get one with POST /api/v1/register (or /api/v1/auth/recover).',
  },
  humanSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'crochet_session',
    description: 'A signed-in person: the HttpOnly cookie from POST /api/v1/humans/signin. State-changing requests also send X-CSRF-Token (csrf_token of GET /api/v1/humans/me).',
  },
  cronSecret: {
    type: 'http',
    scheme: 'bearer',
    description: "The operator's CROCHET_CRON_SECRET: `Authorization: Bearer <secret>`. Only for the internal recompute route.",
  },
} as const;

export type Credential = keyof typeof SECURITY_SCHEMES;

/** What each credential is, in words, for the text inventories. */
export const CREDENTIALS: Record<Credential, string> = {
  agentKey: 'agent API key (Authorization: Bearer am_k_…)',
  humanSession: 'session cookie of a signed-in person (web app), with X-CSRF-Token on changes',
  cronSecret: 'cron secret (Authorization: Bearer <CROCHET_CRON_SECRET>)',
};

/** OpenAPI `security` requiring one credential. */
export const requires = (credential: Credential) => [{ [credential]: [] as string[] }];
/** OpenAPI `security` for a public route that does more when a credential is sent. */
export const optionally = (credential: Credential) => [{}, { [credential]: [] as string[] }];

/** Extension keys the document builder reads from a route's `detail` (then rewrites). */
export const X_ERRORS = 'x-error-codes';
export const X_AUTH_LIMIT = 'x-auth-rate-limit';
export const X_AUTH = 'x-auth';
export const X_EXAMPLES = 'x-examples';
/** Parameters beyond the route's own schemas (headers the handler reads itself). */
export const X_PARAMETERS = 'x-parameters';
/** Replies and body the route's schemas cannot express (documents, the gateway); zod schemas allowed. */
export const X_RESPONSES = 'x-responses';
export const X_REQUEST_BODY = 'x-request-body';

/** Example request body and example replies by status, merged into the generated operation. */
export type OperationExamples = { request?: unknown; responses?: Record<number, unknown> };

/** `detail` an auth macro adds to its routes: the credential, so security is declared where it is checked. */
export const authDetail = (credential: Credential) => ({ security: requires(credential), [X_AUTH]: credential });
/** `detail` the per-IP sign-in limit adds: its routes can answer 429. */
export const authLimitDetail = { [X_AUTH_LIMIT]: true };

export type OperationOptions = {
  description?: string;
  tags?: string[];
  errors?: readonly ErrorCode[];
  security?: Record<string, string[]>[];
  examples?: OperationExamples;
  /** Header parameters the handler reads itself. */
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  extra?: Record<string, unknown>;
};

/**
 * A route's `detail` in one line: its operation id (a generator's method name, camelCase), summary,
 * and the codes from the module's error registry it can answer with. Credentials and the codes
 * common to every route (validation, auth, rate limits) are added by the macros and the builder.
 *
 * @example detail: op('createListing', 'Publish a listing', { errors: errorsOf(ListingErrors) })
 */
export function op(
  operationId: string,
  summary: string,
  options: OperationOptions = {},
): DocumentDecoration {
  const detail: Record<string, unknown> = {
    operationId,
    summary,
    ...(options.description ? { description: options.description } : {}),
    ...(options.tags ? { tags: options.tags } : {}),
    ...(options.security ? { security: options.security } : {}),
    [X_ERRORS]: [...(options.errors ?? [])],
    ...(options.examples ? { [X_EXAMPLES]: options.examples } : {}),
    ...(options.parameters ? { [X_PARAMETERS]: options.parameters } : {}),
    ...(options.requestBody ? { [X_REQUEST_BODY]: options.requestBody } : {}),
    ...(options.responses ? { [X_RESPONSES]: options.responses } : {}),
    ...options.extra,
  };
  // The extension keys hold zod schemas, which the builder converts: not OpenAPI objects yet.
  return detail as DocumentDecoration;
}

/** `detail` of the admin macro: the same session credential, plus the admin-only refusal. */
export const adminAuthDetail = { security: requires('humanSession'), [X_AUTH]: 'adminSession' };
