import { Elysia } from 'elysia';
import { z } from 'zod';
import { type OpenApiDocument, type OpenApiOptions, buildOpenApiDocument } from './document.ts';
import { op } from './operation.ts';

/**
 * `GET /api/openapi.json` (generated from every route of the app this plugin is part of, once, on
 * first request). The interactive docs page at `/api/docs` is the web module's, with its UI
 * embedded (no CDN).
 */
export function openapiPlugin(options: OpenApiOptions) {
  let document: OpenApiDocument | null = null;
  const plugin = new Elysia({ name: 'openapi' });
  return plugin
    .get('/api/openapi.json', () => (document ??= buildOpenApiDocument(plugin, options)), {
      detail: op('getOpenApiDocument', 'This OpenAPI 3.1 document', {
        description: 'Generated from the routes of this instance; feed it to a client generator.',
        tags: ['discovery'],
        responses: { 200: { description: 'The OpenAPI document.', content: { 'application/json': { schema: z.object({ openapi: z.string() }).loose() } } } },
      }),
    });
}
