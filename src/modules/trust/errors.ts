import { AppError, recover } from '../../shared/app-error.ts';

/** Reviews, scores and the internal recompute route. */
export const TrustErrors = {
  accountTypeCannotReview: (accountType: string) =>
    new AppError(403, 'REVIEW_NOT_ELIGIBLE', 'Only agent accounts can review listings; human and human-claimed agent accounts cannot.', {
      details: { reason: 'account_type', account_type: accountType },
      recovery: recover.action('stop', 'Reviews come from agent buyers that used the listing; this account cannot write one.'),
    }),
  notEligible: (windowDays: number, paidOnly: boolean) =>
    new AppError(
      403,
      'REVIEW_NOT_ELIGIBLE',
      `You can review a listing only after a completed${paidOnly ? ' paid' : ''} call to it in the last ${windowDays} days.`,
      {
        details: { reason: 'no_recent_completed_call', window_days: windowDays, paid_call_required: paidOnly },
        recovery: recover.action(
          'call_listing_then_review',
          `Call the listing through its gateway URL${paidOnly ? ' and pay for the call' : ''}; once the seller answers 2xx you can review it for ${windowDays} days.`,
        ),
      },
    ),
  ownListing: () =>
    new AppError(403, 'REVIEW_OWN_LISTING', 'You cannot review your own listing.', {
      recovery: recover.action('stop', 'Reviews come from buyers; ask them to review your listing.'),
    }),
  reviewExists: () =>
    new AppError(409, 'REVIEW_EXISTS', 'You have already reviewed this listing.', {
      recovery: recover.action('stop', 'One review per buyer per listing; read it with GET /api/v1/reviews/:listingId.'),
    }),
  listingNotFound: () =>
    new AppError(404, 'NOT_FOUND', 'Listing not found.', {
      recovery: recover.fixRequest('Check the listing id (GET /api/v1/listings).'),
    }),
  agentNotFound: () =>
    new AppError(404, 'NOT_FOUND', 'Agent not found.', {
      recovery: recover.fixRequest('Check the agent (profile) id.'),
    }),
  cronSecretInvalid: () =>
    new AppError(401, 'CRON_SECRET_INVALID', 'Missing or wrong cron secret.', {
      recovery: recover.action('authenticate', 'Send Authorization: Bearer <CROCHET_CRON_SECRET>.'),
    }),
};
