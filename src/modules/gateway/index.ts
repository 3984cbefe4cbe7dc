import { Elysia } from 'elysia';
import type { authPlugin } from '../../shared/http/auth.ts';
import { ok, okSchema, paged, pagedSchema } from '../../shared/http/envelope.ts';
import { createRateLimiter } from '../../shared/rate-limit.ts';
import { systemResolver, type Resolver } from '../../shared/upstream/guard.ts';
import { cachedResolver } from '../../shared/upstream/resolver-cache.ts';
import { readRequestBody } from '../../shared/http/foundation.ts';
import { createHistoryWriter } from './history.ts';
import { trackInFlightCalls } from './in-flight.ts';
import { errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op } from '../../shared/http/openapi/operation.ts';
import { PaymentErrors } from '../payments/errors.ts';
import { GatewayErrors } from './errors.ts';
import * as model from './model.ts';
import { gatewayCallDetail } from './openapi.ts';
import * as Gateway from './service.ts';
import * as Payments from '../payments/service.ts';
import type { Metrics } from '../../shared/metrics.ts';

export type GatewayModuleDeps = Payments.PaymentsDeps & { auth: ReturnType<typeof authPlugin>; metrics: Metrics; resolveHost?: Resolver; upstreamTlsCa?: string };

/** The public gateway and the call history. */
export function gatewayModule(deps: GatewayModuleDeps) {
  const gw: Gateway.GatewayDeps = {
    ...deps,
    resolveHost: cachedResolver(deps.resolveHost ?? systemResolver, 10_000),
    history: createHistoryWriter(deps.db.sqlite, {
      onWriteError: (error, queued) =>
        deps.logger.error('gateway history write failed; retrying', { queued, error: error instanceof Error ? error.message : String(error) }),
    }),
    buyerLimiter: createRateLimiter(deps.config.rate_limit_gateway_per_min, 60_000),
    listingLimiter: createRateLimiter(deps.config.rate_limit_listing_per_min, 60_000),
  };
  const inFlight = trackInFlightCalls(deps.db.sqlite);
  return new Elysia({ prefix: '/api/v1', tags: ['gateway'] })
    .use(deps.auth)
    .onStop(() => gw.history.flush())
    .post(
      '/gateway/:listingId',
      async ({ params, request, set }) => {
        // Raw bytes, read by the service once the caller and the listing's limit are known: the
        // seller must receive exactly what the buyer sent, and the hash covers them.
        const declared = Number(request.headers.get('content-length') ?? 0);
        let reply: Gateway.GatewayReply;
        inFlight.begin();
        try {
          reply = await Gateway.handleGatewayCall(gw, {
            listingId: params.listingId,
            authorization: request.headers.get('authorization'),
            readBody: (limit) => readRequestBody(request, limit),
            declaredBytes: Number.isSafeInteger(declared) ? declared : 0,
            relayRequestId: request.headers.get('x-crochet-relay-request-id'),
            paymentTx: request.headers.get('x-crochet-payment-tx'),
            originCurrency: request.headers.get('x-crochet-origin-currency'),
          });
        } finally {
          inFlight.end();
        }
        // Through `set` rather than a Response of our own: Elysia would rebuild a returned Response
        // around its body stream to add X-Request-Id, which costs a fifth of a gateway call.
        set.status = reply.httpStatus;
        set.headers['content-type'] = 'application/json';
        set.headers['x-crochet-request-id'] = reply.requestId;
        return reply.body;
      },
      {
        params: model.gatewayParams,
        // Documentation only: declaring a body schema would make Elysia parse what must be forwarded as is.
        detail: gatewayCallDetail,
      },
    )
    .get(
      '/gateway-requests',
      ({ caller, query }) => {
        const { rows, total } = Gateway.listGatewayRequests(gw, caller.profileId, query);
        return paged(rows, query.page, query.limit, total);
      },
      { auth: 'agent', query: model.historyQuery, response: pagedSchema(model.gatewayRequestSchema), detail: op('listGatewayRequests', 'Your gateway calls, as buyer and seller') },
    )
    .get('/gateway-requests/:id', ({ caller, params }) => ok(Gateway.getGatewayRequest(gw, caller.profileId, params.id)), {
      auth: 'agent',
      params: model.requestIdParams,
      response: okSchema(model.gatewayRequestSchema),
      detail: op('getGatewayRequest', 'One gateway call (its buyer and seller only)', { errors: errorsOf(GatewayErrors, { only: ['requestNotFound'] }) }),
    })
    .get('/gateway-requests/:id/response', ({ caller, params }) => ok(Payments.getPaidResponse(gw, caller.profileId, params.id)), {
      auth: 'agent',
      params: model.requestIdParams,
      response: okSchema(model.paidResponseSchema),
      detail: op('getPaidResponse', "The seller's reply to a paid call, for its buyer, while kept (CROCHET_PAID_RESPONSE_TTL_SECONDS)", { errors: errorsOf(PaymentErrors, { only: ['responseNotFound'] }) }),
    });
}
