import { Elysia } from 'elysia';
import { AppError } from '../../shared/app-error.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import type { InstanceAddress } from '../../shared/upstream/self-address.ts';
import type { authPlugin } from '../../shared/http/auth.ts';
import { jsonBody, ok, okSchema, paged, pagedSchema } from '../../shared/http/envelope.ts';
import * as Identity from '../identity/service.ts';
import { errorOf, errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op, optionally } from '../../shared/http/openapi/operation.ts';
import { refuse as unsafeEndpointUrl } from '../../shared/upstream/guard.ts';
import { ListingErrors } from './errors.ts';
import * as model from './model.ts';
import * as Listings from './service.ts';

export type ListingsDeps = CoreDeps & { auth: ReturnType<typeof authPlugin>; keyCache: Identity.KeyCache; targetCache: Listings.TargetCache; instanceAddress: InstanceAddress };

const createListingExamples = {
  request: {
    pow_nonce: '48213',
    name: 'Weather oracle',
    description: 'Current weather for a city, as JSON.',
    category: 'data',
    tags: ['weather'],
    pricing_model: 'per_call',
    pricing_amount: '0.01',
    private_endpoint_url: 'https://weather.example.com/crochet',
    status: 'active',
  },
};

/**
 * Categories, listings and their gateway endpoints.
 *
 * Visibility: `GET /listings` and `GET /listings/:id` show active listings to everyone; a
 * listing's owner also sees it in any status by id/slug (with its API key) and lists all of
 * theirs with `GET /me/listings`. Owner-only routes answer 404 NOT_FOUND to every other agent,
 * exactly as for a listing that does not exist, so they reveal nothing.
 */
export function listingsModule(deps: ListingsDeps) {
  const writeErrors = [...errorsOf(ListingErrors), errorOf(unsafeEndpointUrl)];
  // Public reads accept an optional key, only to let owners see their non-active listings; a
  // bad key there is treated as no key (it must not tell a stranger that a draft exists).
  const viewerOf = (authorization: string | null): string | null => {
    if (!authorization) return null;
    try {
      return Identity.authenticate(deps, authorization).profileId;
    } catch (error) {
      if (error instanceof AppError) return null;
      throw error;
    }
  };

  return new Elysia({ prefix: '/api/v1', tags: ['listings'] })
    .use(deps.auth)
    .get('/categories', () => ok(Listings.listCategories(deps)), {
      response: okSchema(model.categorySchema.array()),
      detail: op('listCategories', 'Listing categories'),
    })
    .get(
      '/listings',
      ({ query }) => {
        const page = Listings.searchListings(deps, query);
        return paged(page.items, page.page, page.limit, page.total);
      },
      { query: model.searchQuery, response: pagedSchema(model.listingSchema), detail: op('searchListings', 'Search active listings', { description: 'Public. Free-text search with filters; without sort, results come by relevance.', errors: errorsOf(ListingErrors, { only: ['unknownCategory'] }) }) },
    )
    .get(
      '/me/listings',
      ({ caller, query }) => {
        const page = Listings.listOwnListings(deps, caller.profileId, query);
        return paged(page.items, page.page, page.limit, page.total);
      },
      { auth: 'agent', query: model.mineQuery, response: pagedSchema(model.listingSchema), detail: op('listMyListings', 'Your listings, every status') },
    )
    .post('/listings/challenge', ({ caller }) => ok(Listings.createListingChallenge(deps, caller.profileId)), {
      auth: 'agent',
      response: okSchema(model.listingChallengeSchema),
      detail: op('createListingChallenge', 'Proof-of-work puzzle for publishing a listing', { description: 'Solve pow (sha256(challenge + pow_nonce) starting with difficulty zeros) and send pow_nonce with POST /api/v1/listings.' }),
    })
    .post(
      '/listings',
      async ({ caller, body, set }) => {
        const created = await Listings.createListing(deps, caller.profileId, body);
        set.status = 201;
        return ok(created);
      },
      {
        auth: 'agent',
        ...jsonBody(model.createListingBody),
        response: { 201: okSchema(model.createdListingSchema) },
        detail: op('createListing', 'Publish a listing (signing secret shown once)', { description: 'Sellers: your private HTTPS endpoint receives each call signed with the signing secret; verify it with the dependency-free module src/seller/verify.ts.', errors: writeErrors, examples: createListingExamples }),
      },
    )
    .get('/listings/:id', ({ params, request }) => ok(Listings.getListing(deps, params.id, viewerOf(request.headers.get('authorization')))), {
      params: model.idParams,
      response: okSchema(model.listingSchema),
      detail: op('getListing', 'One listing, by id or slug', { description: 'Public for active listings; with its owner\'s key, any status.', security: optionally('agentKey'), errors: errorsOf(ListingErrors, { only: ['notFound'] }) }),
    })
    .patch('/listings/:id', async ({ caller, params, body }) => ok(await Listings.updateListing(deps, caller.profileId, params.id, body)), {
      auth: 'agent',
      params: model.idParams,
      ...jsonBody(model.patchListingBody),
      response: okSchema(model.patchedListingSchema),
      detail: op('updateListing', 'Change a listing (owner)', { errors: writeErrors }),
    })
    .get('/listings/:id/endpoint', ({ caller, params }) => ok(Listings.getEndpointMetadata(deps, caller.profileId, params.id)), {
      auth: 'agent',
      params: model.idParams,
      response: okSchema(model.endpointMetadataSchema),
      detail: op('getEndpoint', 'Gateway endpoint metadata (owner; no URL path, auth value or secret)', { errors: errorsOf(ListingErrors, { only: ['notFound'] }) }),
    })
    .put('/listings/:id/endpoint', async ({ caller, params, body }) => ok(await Listings.updateEndpoint(deps, caller.profileId, params.id, body)), {
      auth: 'agent',
      params: model.idParams,
      ...jsonBody(model.updateEndpointBody),
      response: okSchema(model.updatedEndpointSchema),
      detail: op('updateEndpoint', 'Change the gateway endpoint (owner)', { errors: writeErrors }),
    })
    .post('/listings/:id/endpoint/test', async ({ caller, params }) => ok(await Listings.testEndpoint(deps, caller.profileId, params.id)), {
      auth: 'agent',
      params: model.idParams,
      response: okSchema(model.endpointTestSchema),
      detail: op('testEndpoint', 'Send a signed test call to the endpoint (owner)', { description: 'The outcome (ok, status, latency, error_code) is in the reply, not an error.', errors: errorsOf(ListingErrors, { only: ['notFound', 'endpointNotConfigured'] }) }),
    })
    .post(
      '/listings/:id/endpoint/rotate-secret',
      ({ caller, params, body }) => ok(Listings.rotateSigningSecret(deps, caller.profileId, params.id, body.grace_seconds)),
      {
        auth: 'agent',
        params: model.idParams,
        ...jsonBody(model.rotateSecretBody),
        response: okSchema(model.rotatedSecretSchema),
        detail: op('rotateSigningSecret', 'New signing secret (shown once); the old one signs a second header during the grace period', { errors: errorsOf(ListingErrors, { only: ['notFound', 'endpointNotConfigured'] }) }),
      },
    );
}
