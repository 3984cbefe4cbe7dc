import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

const DEFS = '#/$defs/';
const COMPONENTS = '#/components/schemas/';

/** Rewrites zod's local `#/$defs/X` references to the document's `#/components/schemas/X`. */
function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (!value || typeof value !== 'object') return value;
  const out: JsonSchema = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof child === 'string' && child.startsWith(DEFS) ? COMPONENTS + child.slice(DEFS.length) : relink(child);
  }
  return out;
}

/**
 * zod → JSON Schema for the document. Schemas named with `.meta({ id: 'Listing' })` become
 * `components.schemas.Listing` (collected into `components`) and are referenced from every route.
 */
export function zodConverter(components: Record<string, JsonSchema>) {
  return (schema: z.ZodType): JsonSchema => {
    const { $schema: _dialect, $defs, ...rest } = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as JsonSchema;
    for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) components[name] ??= relink(def) as JsonSchema;
    return relink(rest) as JsonSchema;
  };
}
