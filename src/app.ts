import { Elysia } from 'elysia';
import { identityModule } from './modules/identity/index.ts';
import { IdentityErrors } from './modules/identity/errors.ts';
import * as Identity from './modules/identity/service.ts';
import { adminModule } from './modules/admin/index.ts';
import * as Settings from './modules/admin/settings.ts';
import { humansModule } from './modules/humans/index.ts';
import * as Humans from './modules/humans/service.ts';
import { ledgerModule } from './modules/ledger/index.ts';
import { gatewayModule } from './modules/gateway/index.ts';
import { x402Module } from './modules/x402/index.ts';
import * as X402 from './modules/x402/service.ts';
import { listingsModule } from './modules/listings/index.ts';
import { MAX_BODY_LIMIT_BYTES } from './modules/listings/model.ts';
import { sweepExpiredIntents } from './modules/payments/index.ts';
import { recomputeScoresExclusively } from './modules/trust/index.ts';
import * as Payments from './modules/payments/service.ts';
import { surfacesModule } from './modules/surfaces/index.ts';
import { trustModule } from './modules/trust/index.ts';
import * as Trust from './modules/trust/service.ts';
import type { CoreDeps } from './shared/deps.ts';
import { authPlugin, requireHuman } from './shared/http/auth.ts';
import { foundationPlugin } from './shared/http/foundation.ts';
import { errorsOf } from './shared/http/openapi/error-codes.ts';
import { openapiPlugin } from './shared/http/openapi/plugin.ts';
import { createMetrics } from './shared/metrics.ts';
import { schedulePlugin } from './shared/schedule.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { VERSION } from './version.ts';
import { staticPlugin } from './web/static.ts';
import { notFoundResponse, wantsHtml, webModule } from './modules/web/index.ts';

export type AppDeps = CoreDeps;

const MAX_API_BODY_BYTES = 1024 * 1024;
// No endpoint may accept more than this (listings' ceiling for max_request_bytes).
const MAX_GATEWAY_BODY_BYTES = MAX_BODY_LIMIT_BYTES;

/** The document's tags, in reading order. */
const API_TAGS = [
  { name: 'discovery', description: 'What this instance offers, for agents: skill, inventories, this document. Public.' },
  { name: 'identity', description: 'Wallet challenges, registration, recovery, API keys and wallets.' },
  { name: 'listings', description: 'Find listings; sellers publish them and manage their private endpoint.' },
  { name: 'gateway', description: 'Call a listing (paying per call when it is paid) and read your call history.' },
  { name: 'humans', description: 'People: sign-up, sign-in with a session cookie (and X-CSRF-Token on changes), claiming agents, the dashboard data.' },
  { name: 'admin', description: "The instance operator's console: overview, suspensions, categories, settings, refunds, first-run setup. Admin session only." },
  { name: 'ledger', description: 'Your append-only ledger entries and balances.' },
  { name: 'trust', description: 'Reviews, public agent profiles and the Crochet Score.' },
  { name: 'operations', description: 'Health, metrics and the operator\'s internal routes.' },
];

/**
 * Builds the whole HTTP application from its dependencies; one `.use()` per module. Its in-memory
 * state (caches, history writer, running calls, limiters) is `runtime`: made here unless the
 * caller passes its own, to drain it on stop (server.ts) or flush it (tests).
 */
export function createApp(deps: AppDeps, runtime: Runtime = createRuntime(deps)) {
  const { config } = deps;
  const core = { ...deps, ...runtime };
  const resolveSession = (cookie: string | null) => Humans.resolveSession(core, cookie);
  const auth = authPlugin({ ...runtime, authenticate: (header) => Identity.authenticate(core, header), resolveSession });
  const metrics = createMetrics();
  X402.registerBalanceGauge(metrics, runtime.x402Balances);
  const modules = { ...core, auth };
  // One set of chain verifiers, shared by the gateway and the sweep (forwarding leases are in the database).
  const payments: Payments.PaymentsDeps = { ...deps, verifiers: Payments.buildVerifiers(config.payment_routes), verifying: new Map(), feeBps: () => Settings.effectiveFeeBps(deps) };

  // The text surfaces list the routes from the generated OpenAPI document of this very app.
  let self: { handle(request: Request): Promise<Response> } | null = null;
  const openapiDocument = async () => (await (self as NonNullable<typeof self>).handle(new Request('http://localhost/api/openapi.json'))).json();

  const app = new Elysia()
    .use(foundationPlugin({ logger: deps.logger, metrics, publicUrl: config.public_url, maxBodyBytes: MAX_API_BODY_BYTES, maxGatewayBodyBytes: MAX_GATEWAY_BODY_BYTES, maxJsonDepth: config.max_json_depth,
      // Browsers get an HTML page for an unknown address; API clients keep the JSON envelope.
      notFoundPage: (request) => (wantsHtml(request) ? notFoundResponse(new URL(request.url).pathname) : undefined),
    }))
    .use(openapiPlugin({ publicUrl: config.public_url, version: VERSION, tags: API_TAGS, authErrors: errorsOf(IdentityErrors, { only: ['profileSuspended'] }) }))
    .use(staticPlugin())
    .use(webModule(deps))
    .use(surfacesModule({ ...deps, metrics, openapiDocument }))
    .use(identityModule({ ...modules, scoreOf: (id) => Trust.getScore(deps, id), resolveHuman: (request) => requireHuman(resolveSession, request) }))
    .use(humansModule(modules))
    .use(adminModule(modules))
    .use(ledgerModule(modules))
    .use(listingsModule(modules))
    .use(gatewayModule({ ...core, ...payments, auth, metrics }))
    .use(x402Module(core))
    .use(trustModule(modules))
    // Every background timer of the app: they run while the server listens.
    .use(
      schedulePlugin(deps.logger, [
        { name: 'payment sweep', everyMs: config.sweep_interval_seconds * 1000, run: (keepGoing) => sweepExpiredIntents(payments, keepGoing) },
        { name: 'score recompute', everyMs: Trust.RECOMPUTE_INTERVAL_MS, run: () => recomputeScoresExclusively(core) },
        { name: 'x402 settler balances', everyMs: X402.BALANCE_REFRESH_MS, run: () => X402.refreshSettlerBalances(runtime.x402, runtime.x402Balances, deps.logger) },
      ]),
    );
  self = app;
  return app;
}

export type App = ReturnType<typeof createApp>;
