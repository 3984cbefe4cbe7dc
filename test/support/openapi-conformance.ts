import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Checks real replies against the OpenAPI document: every 2xx and 4xx reply of a documented
 * operation must have a documented status, match its schema, and (errors) carry a code the
 * operation lists in `x-error-codes`. `createTestApp` runs it on every call, so every integration
 * test doubles as a drift test.
 */
type Json = Record<string, unknown>;
type Operation = Json & { responses?: Record<string, { content?: Record<string, { schema?: Json }> }>; 'x-error-codes'?: Record<string, string[]>; 'x-seller-replies'?: string };
export type OpenApiDoc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Json> } };

const COMPONENTS_ID = 'crochet:components';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** `#/components/schemas/X` → the same schema inside the one ajv schema that holds all components. */
function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${COMPONENTS_ID}#/$defs/`) : relink(v)]),
  );
}

/** A Crochet `{ success, … }` reply, as opposed to a seller's own JSON relayed by the gateway. */
function isEnvelope(text: string): boolean {
  try {
    const body: unknown = JSON.parse(text);
    return !!body && typeof body === 'object' && typeof (body as Json).success === 'boolean';
  } catch {
    return false;
  }
}

type Route = { method: string; template: string; pattern: RegExp; params: number; operation: Operation };

export function createConformance(doc: OpenApiDoc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: relink(doc.components.schemas) as Json });
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      routes.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), params: (template.match(/\{/g) ?? []).length, operation });
    }
  }
  // A literal segment wins over a parameter (`/listings/challenge` before `/listings/{id}`).
  routes.sort((a, b) => a.params - b.params);
  const validators = new Map<Json, ValidateFunction>();
  const validatorOf = (schema: Json) => {
    let v = validators.get(schema);
    if (!v) validators.set(schema, (v = ajv.compile(relink(schema) as Json)));
    return v;
  };

  /** The documented operation serving `method path`, if any. */
  const find = (method: string, path: string) => routes.find((r) => r.method === method && r.pattern.test(path.split('?')[0] ?? path));

  const checked = new Set<string>();
  return {
    find,
    /** `METHOD /template → status` of every reply checked so far (coverage of the drift check). */
    checked,
    /** A list of problems with this reply (empty when it matches the document). */
    check(method: string, path: string, status: number, contentType: string | null, text: string): string[] {
      const route = find(method.toUpperCase(), path);
      if (!route || status < 200 || status >= 500 || (status >= 300 && status < 400)) return [];
      const where = `${method.toUpperCase()} ${route.template} → ${status}`;
      checked.add(where);
      const envelope = isEnvelope(text);
      // The gateway passes the seller's own 2xx/4xx replies through: any status, any JSON.
      if (route.operation['x-seller-replies'] && !envelope) return [];
      const response = route.operation.responses?.[String(status)] ?? route.operation.responses?.default;
      if (!response) return [`${where}: status not documented`];
      const media = (contentType ?? '').split(';')[0]!.trim();
      const content = response.content ?? {};
      if (Object.keys(content).length > 0 && !content[media]) return [`${where}: content type ${media} not documented (${Object.keys(content).join(', ')})`];
      if (media !== 'application/json' || !content[media]?.schema) return [];
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return [`${where}: body is not JSON`];
      }
      const validate = validatorOf(content[media]!.schema!);
      if (!validate(body)) return [`${where}: body does not match the documented schema: ${ajv.errorsText(validate.errors)}`];
      const code = envelope ? ((body as { error?: { code?: string } }).error?.code ?? null) : null;
      const codes = route.operation['x-error-codes']?.[String(status)];
      if (status >= 400 && code && !codes?.includes(code)) return [`${where}: error code ${code} not in x-error-codes (${(codes ?? []).join(', ') || 'none'})`];
      return [];
    },
  };
}

export type Conformance = ReturnType<typeof createConformance>;
