import { toOpenAPISchema } from '@elysiajs/openapi';
import type { AnyElysia } from 'elysia';
import { z } from 'zod';
import { CommonErrors } from '../../errors.ts';
import { errorSchema, paginationSchema } from '../envelope.ts';
import { type ErrorCode, errorOf, errorsOf, groupByStatus } from './error-codes.ts';
import { type JsonSchema, zodConverter } from './json-schema.ts';
import { type OperationExamples, SECURITY_SCHEMES, X_AUTH, X_AUTH_LIMIT, X_ERRORS, X_EXAMPLES, X_PARAMETERS, X_REQUEST_BODY, X_RESPONSES } from './operation.ts';

export type OpenApiOptions = {
  publicUrl: string;
  version: string;
  /** Tags in display order, each with what its routes are for. */
  tags: { name: string; description: string }[];
  /** Codes any route behind the agent-key macro can answer with (besides the common ones). */
  authErrors: ErrorCode[];
};

type Operation = JsonSchema & { parameters?: JsonSchema[]; requestBody?: JsonSchema; responses?: Record<string, JsonSchema> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** Codes every route shares, by what the route takes. */
const COMMON = {
  any: [errorOf(CommonErrors.internal)],
  // Whatever the body parsing layer refuses (400/413 of CommonErrors), including codes added later.
  body: errorsOf(CommonErrors).filter((e) => e.status === 400 || e.status === 413),
  validated: [errorOf(CommonErrors.validation)],
  agentKey: [errorOf(CommonErrors.authRequired), errorOf(CommonErrors.apiKeyInvalid), errorOf(CommonErrors.apiKeyRevoked), errorOf(CommonErrors.agentsOnly), errorOf(CommonErrors.rateLimited)],
  authLimit: [errorOf(CommonErrors.rateLimited)],
  humanSession: [errorOf(CommonErrors.sessionRequired), errorOf(CommonErrors.csrfInvalid)],
};

const STATUS_TEXT: Record<string, string> = {
  '400': 'Bad request',
  '401': 'Missing or invalid credential',
  '402': 'Payment required',
  '403': 'Forbidden',
  '404': 'Not found',
  '409': 'Conflict',
  '410': 'Gone',
  '413': 'Body too large',
  '422': 'Cannot be processed',
  '429': 'Rate limited',
  '500': 'Server error',
  '502': 'Seller failed',
  '503': 'Unavailable',
  '504': 'Seller timed out',
};

/** Replaces every zod schema found in a route's `detail` (bodies, responses, headers) by its JSON Schema. */
function convertEmbedded(value: unknown, convert: (s: z.ZodType) => JsonSchema): unknown {
  if (value instanceof z.ZodType) return convert(value);
  if (Array.isArray(value)) return value.map((v) => convertEmbedded(v, convert));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convertEmbedded(v, convert)]));
}

/** Security, error responses and parameter descriptions of one operation. */
function finish(operation: Operation, method: string, options: OpenApiOptions): Operation {
  const errors: ErrorCode[] = [...((operation[X_ERRORS] as ErrorCode[] | undefined) ?? []), ...COMMON.any];
  const hasBody = method !== 'get' && method !== 'delete';
  if (hasBody) errors.push(...COMMON.body);
  if (operation.requestBody || operation.parameters?.length) errors.push(...COMMON.validated);
  if (operation[X_AUTH] === 'agentKey') errors.push(...COMMON.agentKey, ...options.authErrors);
  if (operation[X_AUTH] === 'humanSession') errors.push(...COMMON.humanSession);
  if (operation[X_AUTH] === 'adminSession') errors.push(...COMMON.humanSession, errorOf(CommonErrors.adminOnly));
  if (operation[X_AUTH_LIMIT]) errors.push(...COMMON.authLimit);
  const grouped = groupByStatus(errors);

  const responses: Record<string, JsonSchema> = { ...operation.responses };
  // Declared replies complete the generated ones (headers, descriptions) and add the others.
  for (const [status, declared] of Object.entries((operation[X_RESPONSES] as Record<string, JsonSchema> | undefined) ?? {})) {
    responses[status] = { ...declared, ...responses[status], ...(declared.headers ? { headers: declared.headers } : {}), ...(declared.description ? { description: declared.description } : {}) };
  }
  for (const [status, codes] of Object.entries(grouped)) {
    const list = codes.map((c) => `\`${c}\``).join(', ');
    const existing = responses[status];
    if (existing) {
      responses[status] = { ...existing, description: `${existing.description as string} Codes: ${list}.` };
      continue;
    }
    responses[status] = {
      description: `${STATUS_TEXT[status] ?? 'Error'}: ${list}. The error envelope; act on error.recovery.`,
      ...(status === '429' ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } } } : {}),
      content: { 'application/json': { schema: ERROR_REF } },
    };
  }
  for (const response of Object.values(responses)) {
    if (typeof response.description === 'string' && response.description.startsWith('Response for status')) response.description = 'Success';
  }
  const examples = operation[X_EXAMPLES] as OperationExamples | undefined;
  const withExample = (target: JsonSchema | undefined, example: unknown) => {
    const content = target?.content as Record<string, JsonSchema> | undefined;
    const json = content?.['application/json'];
    if (!target || !json) return target;
    return { ...target, content: { ...content, 'application/json': { ...json, example } } };
  };
  const body = operation.requestBody ?? (operation[X_REQUEST_BODY] as JsonSchema | undefined);
  const requestBody = examples?.request === undefined ? body : withExample(body, examples.request);
  for (const [status, example] of Object.entries(examples?.responses ?? {})) responses[status] = withExample(responses[status], example) as JsonSchema;
  const declared = [...(operation.parameters ?? []), ...((operation[X_PARAMETERS] as JsonSchema[] | undefined) ?? [])];
  const parameters = declared.map((p) => {
    const schema = p.schema as JsonSchema | undefined;
    return schema?.description && !p.description ? { ...p, description: schema.description } : p;
  });
  const { [X_ERRORS]: _errors, [X_AUTH]: _auth, [X_AUTH_LIMIT]: limited, [X_EXAMPLES]: _examples, [X_PARAMETERS]: _parameters, [X_RESPONSES]: _responses, [X_REQUEST_BODY]: _body, ...rest } = operation;
  return {
    ...rest,
    // Generators put the description in the method's doc comment: never leave it empty.
    description: (operation.description as string | undefined) ?? operation.summary,
    ...(requestBody ? { requestBody } : {}),
    ...(parameters.length ? { parameters } : {}),
    security: (operation.security as unknown[] | undefined) ?? [],
    ...(limited ? { [X_AUTH_LIMIT]: true } : {}),
    responses,
    [X_ERRORS]: grouped,
  };
}

/**
 * The OpenAPI 3.1 document of an app, generated from its routes: the route schemas, plus what the
 * routes' `detail` (see `op`) and the auth macros declare. Dotted paths (`/SKILL.md`) are kept.
 */
export function buildOpenApiDocument(app: AnyElysia, options: OpenApiOptions) {
  const components: Record<string, JsonSchema> = {};
  const convert = zodConverter(components);
  convert(errorSchema);
  convert(paginationSchema);
  const generated = toOpenAPISchema(app, { staticFile: false }, undefined, { zod: convert }, '3.1.0');
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [path, item] of Object.entries(generated.paths as Record<string, Record<string, Operation>>)) {
    const out: Record<string, Operation> = {};
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) out[method] = finish(convertEmbedded(operation, convert) as Operation, method, options);
    }
    paths[path] = out;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Crochet API',
      version: options.version,
      description:
        'Agent-to-agent API marketplace and pay-per-call gateway. JSON in and out; success is `{ success: true, data }`, every error the `Error` envelope with `recovery` telling an agent what to do next. Each operation lists the error codes it can answer with in `x-error-codes`.',
    },
    servers: [{ url: options.publicUrl }],
    tags: options.tags,
    paths,
    components: { schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))), securitySchemes: SECURITY_SCHEMES },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
