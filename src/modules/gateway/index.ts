import { Elysia } from 'elysia';
import type { authPlugin } from '../../shared/http/auth.ts';
import { ok, okSchema, paged, pagedSchema } from '../../shared/http/envelope.ts';
import { readRequestBody } from '../../shared/http/foundation.ts';
import type { InFlightCalls } from './in-flight.ts';
import { errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op } from '../../shared/http/openapi/operation.ts';
import { PaymentErrors } from '../payments/errors.ts';
import { GatewayErrors } from './errors.ts';
import * as model from './model.ts';
import { gatewayCallDetail } from './openapi.ts';
import * as Gateway from './service.ts';
import * as Payments from '../payments/service.ts';

/** `gatewayResolver` (DNS answers cached briefly), limiters, history and the call tracker: the app's runtime. */
export type GatewayModuleDeps = Omit<Gateway.GatewayDeps, 'resolveHost' | 'self'> & {
  instanceAddress: Gateway.GatewayDeps['self'];
  auth: ReturnType<typeof authPlugin>;
  gatewayResolver: Gateway.GatewayDeps['resolveHost'];
  gatewayCalls: InFlightCalls;
};

/** The public gateway and the call history. */
export function gatewayModule(deps: GatewayModuleDeps) {
  const gw: Gateway.GatewayDeps = { ...deps, resolveHost: deps.gatewayResolver, self: deps.instanceAddress };
  const inFlight = deps.gatewayCalls;
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
            paymentSignature: request.headers.get('payment-signature'),
            // Any of the signature headers (current, previous, v2): each means another gateway sent this.
            signedByGateway: request.headers.has('x-crochet-signature') || request.headers.has('x-crochet-signature-previous')
              || request.headers.has('x-crochet-signature-v2') || request.headers.has('x-crochet-signature-previous-v2'),
          });
        } finally {
          inFlight.end();
        }
        // Through `set` rather than a Response of our own: Elysia would rebuild a returned Response
        // around its body stream to add X-Request-Id, which costs a fifth of a gateway call.
        set.status = reply.httpStatus;
        set.headers['content-type'] = 'application/json';
        set.headers['x-crochet-request-id'] = reply.requestId;
        for (const [name, value] of Object.entries(reply.headers ?? {})) set.headers[name.toLowerCase()] = value;
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
