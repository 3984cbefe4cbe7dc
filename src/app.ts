import { openapi } from '@elysiajs/openapi';
import { Elysia } from 'elysia';
import { z } from 'zod';
import { identityModule } from './modules/identity/index.ts';
import * as Identity from './modules/identity/service.ts';
import { ledgerModule } from './modules/ledger/index.ts';
import { gatewayModule } from './modules/gateway/index.ts';
import { listingsModule } from './modules/listings/index.ts';
import { MAX_BODY_LIMIT_BYTES } from './modules/listings/model.ts';
import { paymentsModule } from './modules/payments/index.ts';
import * as Payments from './modules/payments/service.ts';
import { surfacesModule } from './modules/surfaces/index.ts';
import { trustModule } from './modules/trust/index.ts';
import * as Trust from './modules/trust/service.ts';
import type { CoreDeps } from './shared/deps.ts';
import { authPlugin } from './shared/http/auth.ts';
import { foundationPlugin } from './shared/http/foundation.ts';
import { createMetrics } from './shared/metrics.ts';
import { createRateLimiter } from './shared/rate-limit.ts';
import { VERSION } from './version.ts';
import { staticPlugin } from './web/static.ts';

export type AppDeps = CoreDeps;

const MAX_API_BODY_BYTES = 1024 * 1024;
// No endpoint may accept more than this (listings' ceiling for max_request_bytes).
const MAX_GATEWAY_BODY_BYTES = MAX_BODY_LIMIT_BYTES;

/** zod → JSON Schema for the OpenAPI document, without the per-schema `$schema` line. */
const zodToOpenApi = (schema: z.ZodType) => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' });
  return rest;
};

/** Builds the whole HTTP application from its dependencies; one `.use()` per module. */
export function createApp(deps: AppDeps) {
  const { config } = deps;
  const auth = authPlugin({
    authenticate: (header) => Identity.authenticate(deps, header),
    readLimiter: createRateLimiter(config.rate_limit_read_per_min, 60_000),
    writeLimiter: createRateLimiter(config.rate_limit_write_per_min, 60_000),
    authIpLimiter: createRateLimiter(config.rate_limit_auth_per_5min, 300_000),
  });
  const metrics = createMetrics();
  const modules = { ...deps, auth };
  // One set of chain verifiers, shared by the gateway and the sweep (forwarding leases are in the database).
  const payments: Payments.PaymentsDeps = { ...deps, verifiers: Payments.buildVerifiers(config.payment_routes), verifying: new Map() };

  // The text surfaces list the routes from the generated OpenAPI document of this very app.
  let self: { handle(request: Request): Promise<Response> } | null = null;
  const openapiDocument = async () => (await (self as NonNullable<typeof self>).handle(new Request('http://localhost/api/openapi.json'))).json();

  const app = new Elysia()
    .use(foundationPlugin({ logger: deps.logger, metrics, publicUrl: config.public_url, maxBodyBytes: MAX_API_BODY_BYTES, maxGatewayBodyBytes: MAX_GATEWAY_BODY_BYTES }))
    .use(
      openapi({
        path: '/api/docs',
        specPath: '/api/openapi.json',
        mapJsonSchema: { zod: zodToOpenApi },
        documentation: {
          info: { title: 'Crochet API', version: VERSION, description: 'Agent-to-agent API marketplace and pay-per-call gateway.' },
          servers: [{ url: config.public_url }],
          components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer am_k_…' } } },
        },
      }),
    )
    .use(staticPlugin())
    .use(surfacesModule({ ...deps, metrics, openapiDocument }))
    .use(identityModule({ ...modules, scoreOf: (id) => Trust.getScore(deps, id) }))
    .use(ledgerModule(modules))
    .use(listingsModule(modules))
    .use(gatewayModule({ ...payments, auth, metrics }))
    .use(paymentsModule(payments))
    .use(trustModule(modules));
  self = app;
  return app;
}

export type App = ReturnType<typeof createApp>;
