import { Elysia } from 'elysia';
import type { CoreDeps } from '../../shared/deps.ts';
import type { authPlugin } from '../../shared/http/auth.ts';
import { jsonBody, ok, okSchema, paged, pagedSchema } from '../../shared/http/envelope.ts';
import * as Scheduler from '../scheduler/service.ts';
import * as model from './model.ts';
import * as Trust from './service.ts';

export type TrustDeps = CoreDeps & { auth: ReturnType<typeof authPlugin> };

/**
 * Reviews, agent profiles with their Crochet Score, and the recompute: on a schedule while the
 * server listens, and on demand through the internal route (for an external cron).
 */
export function trustModule(deps: TrustDeps) {
  let timer: ReturnType<typeof setInterval> | null = null;
  // One process at a time across the data folder (a job lease); the recompute is idempotent anyway.
  const scheduled = async () => {
    try {
      const run = await Scheduler.runExclusive(deps, 'score-recompute', Trust.RECOMPUTE_INTERVAL_MS, () => Trust.recomputeScores(deps));
      if (run.ran) deps.logger.info('scores recomputed', { ...run.value });
    } catch (error) {
      deps.logger.error('score recompute failed', { error: error instanceof Error ? error.message : String(error) });
    }
  };

  return new Elysia({ prefix: '/api/v1', tags: ['trust'] })
    .use(deps.auth)
    .onStart(() => {
      timer ??= setInterval(scheduled, Trust.RECOMPUTE_INTERVAL_MS);
    })
    .onStop(() => {
      if (timer) clearInterval(timer);
      timer = null;
    })
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
        detail: { summary: 'Review a listing you called (completed, and paid when the listing is paid) in the last 30 days' },
      },
    )
    .get(
      '/reviews/:listingId',
      ({ params, query }) => {
        const { items, total } = Trust.listReviews(deps, params.listingId, query);
        return paged(items, query.page, query.limit, total);
      },
      { params: model.listingParams, query: model.reviewsQuery, response: pagedSchema(model.reviewSchema), detail: { summary: 'Reviews of a listing, newest first' } },
    )
    .get('/agents/:id', ({ params }) => ok(Trust.getAgent(deps, params.id)), {
      params: model.agentParams,
      response: okSchema(model.agentSchema),
      detail: { summary: 'Public agent profile with its score summary' },
    })
    .get('/agents/:id/score', ({ params }) => ok(Trust.getScore(deps, params.id)), {
      params: model.agentParams,
      response: okSchema(model.scoreSchema),
      detail: { summary: 'Crochet Score of an agent: score, tier, checkmark and components' },
    })
    .post(
      '/internal/recompute-scores',
      ({ request }) => {
        Trust.assertCronSecret(deps, request.headers.get('authorization'));
        return ok(Trust.recomputeScores(deps));
      },
      {
        response: okSchema(model.recomputeSchema),
        detail: {
          summary: 'Recompute every score now (Authorization: Bearer <CROCHET_CRON_SECRET>); answers once done',
          description: '404 when CROCHET_CRON_SECRET is not set; 401 without it or with a wrong one.',
        },
      },
    );
}
