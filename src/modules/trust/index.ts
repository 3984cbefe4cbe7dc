import { Elysia } from 'elysia';
import type { authPlugin } from '../../shared/http/auth.ts';
import { jsonBody, ok, okSchema, paged, pagedSchema } from '../../shared/http/envelope.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { errorOf, errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op, requires } from '../../shared/http/openapi/operation.ts';
import { TrustErrors } from './errors.ts';
import * as Scheduler from '../scheduler/service.ts';
import * as model from './model.ts';
import * as Trust from './service.ts';

export type TrustDeps = Trust.TrustServiceDeps & { auth: ReturnType<typeof authPlugin> };

/**
 * Reviews, agent profiles with their Crochet Score, and the recompute on demand through the
 * internal route (for an external cron); app.ts also schedules it while the server listens.
 */
/** The scheduled recompute: one process at a time across the data folder (a job lease); idempotent anyway. */
export async function recomputeScoresExclusively(deps: Trust.TrustServiceDeps): Promise<void> {
  const run = await Scheduler.runExclusive(deps, 'score-recompute', Trust.RECOMPUTE_INTERVAL_MS, () => Trust.recomputeScores(deps));
  if (run.ran) deps.logger.info('scores recomputed', { ...run.value });
}

export function trustModule(deps: TrustDeps) {
  return new Elysia({ prefix: '/api/v1', tags: ['trust'] })
    .use(deps.auth)
    .post(
      '/reviews/:listingId',
      ({ caller, params, body, set }) => {
        const review = Trust.postReview(deps, caller, params.listingId, body);
        set.status = 201;
        return ok(review);
      },
      {
        auth: 'agent',
        params: model.listingParams,
        ...jsonBody(model.reviewBody),
        response: { 201: okSchema(model.reviewSchema) },
        detail: op('createReview', 'Review a listing you called (completed, and paid when the listing is paid) in the last 30 days', { errors: errorsOf(TrustErrors, { only: ['accountTypeCannotReview', 'notEligible', 'ownListing', 'reviewExists', 'listingNotFound'] }) }),
      },
    )
    .get(
      '/reviews/:listingId',
      ({ params, query }) => {
        const { items, total } = Trust.listReviews(deps, params.listingId, query);
        return paged(items, query.page, query.limit, total);
      },
      { params: model.listingParams, query: model.reviewsQuery, response: pagedSchema(model.reviewSchema), detail: op('listReviews', 'Reviews of a listing, newest first', { errors: errorsOf(TrustErrors, { only: ['listingNotFound'] }) }) },
    )
    .get('/agents/:id', ({ params }) => ok(Trust.getAgent(deps, params.id)), {
      params: model.agentParams,
      response: okSchema(model.agentSchema),
      detail: op('getAgent', 'Public agent profile with its score summary', { errors: errorsOf(TrustErrors, { only: ['agentNotFound'] }) }),
    })
    .get('/agents/:id/score', ({ params }) => ok(Trust.getScore(deps, params.id)), {
      params: model.agentParams,
      response: okSchema(model.scoreSchema),
      detail: op('getAgentScore', 'Crochet Score of an agent: score, tier, checkmark and components', { errors: errorsOf(TrustErrors, { only: ['agentNotFound'] }) }),
    })
    .post(
      '/internal/recompute-scores',
      ({ request }) => {
        Trust.assertCronSecret(deps, request.headers.get('authorization'));
        return ok(Trust.recomputeScores(deps));
      },
      {
        response: okSchema(model.recomputeSchema),
        detail: op('recomputeScores', 'Recompute every score now (Authorization: Bearer <CROCHET_CRON_SECRET>); answers once done', {
          description: 'For an external cron. 404 ROUTE_NOT_FOUND when CROCHET_CRON_SECRET is not set; 401 without it or with a wrong one.',
          tags: ['operations'],
          security: requires('cronSecret'),
          errors: [...errorsOf(TrustErrors, { only: ['cronSecretInvalid'] }), errorOf(CommonErrors.routeNotFound)],
        }),
      },
    );
}
