import { AppError, recover, type Recovery } from '../../shared/app-error.ts';

const restart = (summary: string): Recovery => ({
  retryable: true,
  next_action: 'restart_challenge',
  summary,
  discard: ['pow_nonce'],
});

// The same codes as the sign-in challenges: an agent handles a stale puzzle the same way anywhere.
const challengeError = (code: string, message: string, summary: string) =>
  new AppError(400, code, message, { recovery: restart(summary) });

export const ListingErrors = {
  /** Owner-only routes answer 404 to everyone else, so they reveal nothing about other listings. */
  notFound: () =>
    new AppError(404, 'NOT_FOUND', 'Listing not found.', {
      recovery: recover.fixRequest('Check the listing id or slug; GET /api/v1/listings searches active listings, GET /api/v1/me/listings lists yours.'),
    }),
  categoryExists: () =>
    new AppError(409, 'CATEGORY_EXISTS', 'A category with this slug exists.', { recovery: recover.fixRequest('Choose another slug.') }),
  categoryInUse: (listings: number) =>
    new AppError(409, 'CATEGORY_IN_USE', `${listings} listing(s) are filed under this category; it cannot be retired while used.`, {
      details: { listings },
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Rename it instead, or wait until no listing uses it.' },
    }),
  unknownCategory: () =>
    new AppError(400, 'UNKNOWN_CATEGORY', 'No category has this slug.', {
      recovery: recover.fixRequest('Use a slug from GET /api/v1/categories.'),
    }),
  invalidPrice: (message: string) =>
    new AppError(400, 'INVALID_PRICE', message, {
      recovery: recover.fixRequest('free listings cost 0; per_call listings cost more than 0 and at most the instance maximum, with at most 6 decimals.', {
        preserve: ['pricing_model'],
      }),
    }),
  listingSuspended: () =>
    new AppError(409, 'LISTING_SUSPENDED', 'The operator has suspended this listing; its status cannot be changed by its seller.', {
      recovery: { retryable: false, next_action: 'contact_operator', summary: 'Ask the operator of this instance to restore it.' },
    }),
  endpointUrlRequired: () =>
    new AppError(400, 'ENDPOINT_URL_REQUIRED', 'An active listing needs private_endpoint_url.', {
      recovery: recover.fixRequest('Send private_endpoint_url (an https:// URL of your service), or keep the listing in draft.'),
    }),
  challengeNotFound: () =>
    challengeError('CHALLENGE_NOT_FOUND', 'You have no open listing challenge.', 'Request one with POST /api/v1/listings/challenge and solve its pow.'),
  challengeExpired: () =>
    challengeError('CHALLENGE_EXPIRED', 'The listing challenge has expired.', 'Request a new one with POST /api/v1/listings/challenge and answer before pow.expires_at.'),
  challengeUsed: () =>
    challengeError('CHALLENGE_ALREADY_USED', 'This pow_nonce answered a listing challenge that was already used.', 'Each listing challenge works once: request a new one with POST /api/v1/listings/challenge.'),
  powInvalid: () =>
    challengeError('POW_INVALID', 'pow_nonce does not solve any of your open listing challenges.', 'Find pow_nonce so that sha256(pow.challenge + pow_nonce) starts with pow.difficulty zeros.'),
  invalidAuthHeader: (message: string) =>
    new AppError(400, 'INVALID_UPSTREAM_AUTH_HEADER', message, {
      recovery: recover.fixRequest('Use an ordinary header name such as Authorization or X-Api-Key, and a value without line breaks.'),
    }),
  upstreamAuthIncomplete: (message: string) =>
    new AppError(400, 'UPSTREAM_AUTH_INCOMPLETE', message, {
      recovery: recover.fixRequest('Send upstream_auth_header_name and upstream_auth_header_value together, or both null to remove them.'),
    }),
  endpointNotConfigured: () =>
    new AppError(409, 'ENDPOINT_NOT_CONFIGURED', 'This listing has no private endpoint URL yet.', {
      recovery: recover.action('configure_endpoint', 'Set private_endpoint_url with PUT /api/v1/listings/:id/endpoint first.'),
    }),
};
