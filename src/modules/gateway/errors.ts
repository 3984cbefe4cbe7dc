import { AppError, recover } from '../../shared/app-error.ts';
import { SELLER_ANSWER_CODES, UPSTREAM_FAILURE_CODES } from '../../shared/upstream/failure-codes.ts';

const sellerFailure = (status: number, code: string, message: string) =>
  new AppError(status, code, message, {
    recovery: {
      retryable: true,
      next_action: 'retry_later',
      summary: 'The seller did not answer usably. Retry later; a paid call stays paid for until its relay id expires.',
      preserve: ['relay_request_id', 'body'],
      retry_after_seconds: 5,
    },
  });

/** Codes the gateway answers with. Messages never name the seller's host or URL. */
export const GatewayErrors = {
  humansCannotCall: () =>
    new AppError(403, 'AGENTS_ONLY', 'Only agent API keys can call the gateway.', {
      recovery: { retryable: false, next_action: 'use_agent_key', summary: 'Call the gateway with an agent API key.' },
    }),
  gatewayLoop: () =>
    new AppError(400, 'GATEWAY_LOOP', 'This call was forwarded by a Crochet gateway (it carries X-Crochet-Signature); a gateway never calls a gateway.', {
      recovery: recover.action('stop', 'Point the listing at the seller\'s own service, not at a gateway URL; do not send X-Crochet-* headers.'),
    }),
  listingNotFound: () =>
    new AppError(404, 'NOT_FOUND', 'Listing not found.', { recovery: recover.action('search_listings', 'Find listings with GET /api/v1/listings.') }),
  listingNotActive: () =>
    new AppError(409, 'LISTING_NOT_ACTIVE', 'This listing is not active.', {
      recovery: { retryable: true, next_action: 'retry_later', summary: 'The seller has paused or not yet published this listing.', retry_after_seconds: 300 },
    }),
  listingSuspended: () =>
    new AppError(409, 'LISTING_SUSPENDED', 'The operator of this instance has suspended this listing (or its seller).', {
      recovery: { retryable: false, next_action: 'search_listings', summary: 'Find another listing with GET /api/v1/listings.' },
    }),
  endpointDisabled: () =>
    new AppError(409, 'ENDPOINT_DISABLED', "The listing's endpoint is disabled by its seller.", {
      recovery: { retryable: true, next_action: 'retry_later', summary: 'The seller has turned the endpoint off for now.', retry_after_seconds: 300 },
    }),
  bodyTooLarge: (limit: number) =>
    new AppError(413, 'PAYLOAD_TOO_LARGE', `The request body exceeds this listing's limit of ${limit} bytes.`, {
      details: { limit_bytes: limit },
      recovery: recover.fixRequest('Send a smaller JSON body.'),
    }),
  bodyNotJson: () =>
    new AppError(400, 'INVALID_JSON', 'The gateway forwards JSON bodies only; this body is not valid JSON.', {
      recovery: recover.fixRequest('Send a JSON body (the seller receives the exact bytes).'),
    }),
  upstreamError: () => sellerFailure(502, SELLER_ANSWER_CODES.serverError, 'The seller answered with a server error.'),
  upstreamTimeout: () => sellerFailure(504, UPSTREAM_FAILURE_CODES.timeout, 'The seller did not answer in time.'),
  upstreamInvalid: () => sellerFailure(502, UPSTREAM_FAILURE_CODES.not_json, 'The seller answered with something that is not JSON.'),
  upstreamTooDeep: () => sellerFailure(502, UPSTREAM_FAILURE_CODES.too_deep, "The seller answered with JSON nested deeper than this instance accepts."),
  upstreamTooLarge: () => sellerFailure(502, UPSTREAM_FAILURE_CODES.too_large, "The seller's answer exceeded the size limit."),
  upstreamRedirect: () => sellerFailure(502, UPSTREAM_FAILURE_CODES.redirect, 'The seller answered with a redirect, which the gateway does not follow.'),
  upstreamUnreachable: () => sellerFailure(502, UPSTREAM_FAILURE_CODES.connect_failed, 'The seller could not be reached.'),
  upstreamTls: () => sellerFailure(502, UPSTREAM_FAILURE_CODES.tls_failed, "The seller's TLS certificate could not be verified."),
  upstreamUnsafe: () => sellerFailure(502, 'UPSTREAM_UNSAFE', "The seller's endpoint currently points somewhere the gateway may not connect to."),
  requestNotFound: () =>
    new AppError(404, 'NOT_FOUND', 'Gateway request not found.', { recovery: recover.fixRequest('Use an id from X-Crochet-Request-Id or GET /api/v1/gateway-requests.') }),
};
