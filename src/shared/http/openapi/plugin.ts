import { ScalarRender } from '@elysiajs/openapi/scalar';
import { Elysia } from 'elysia';
import { z } from 'zod';
import { type OpenApiDocument, type OpenApiOptions, buildOpenApiDocument } from './document.ts';
import { op } from './operation.ts';

/**
 * `GET /api/openapi.json` (generated from every route of the app this plugin is part of, once, on
 * first request) and the interactive docs page at `/api/docs`.
 */
export function openapiPlugin(options: OpenApiOptions) {
  let document: OpenApiDocument | null = null;
  const plugin = new Elysia({ name: 'openapi' });
  const page = ScalarRender(
    { title: 'Crochet API', version: options.version, description: 'Interactive API reference' },
    { url: '/api/openapi.json', version: 'latest', cdn: 'https://cdn.jsdelivr.net/npm/@scalar/api-reference@latest/dist/browser/standalone.min.js', _integration: 'elysiajs' },
  );
  return plugin
    .get('/api/docs', () => new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }), { detail: { hide: true } })
    .get('/api/openapi.json', () => (document ??= buildOpenApiDocument(plugin, options)), {
      detail: op('getOpenApiDocument', 'This OpenAPI 3.1 document', {
        description: 'Generated from the routes of this instance; feed it to a client generator.',
        tags: ['discovery'],
        responses: { 200: { description: 'The OpenAPI document.', content: { 'application/json': { schema: z.object({ openapi: z.string() }).loose() } } } },
      }),
    });
}
