import { Elysia } from 'elysia';
import scoreDoc from '../../../docs/crochet-score.md' with { type: 'text' };
import { AppError } from '../../shared/app-error.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { SWAGGER_UI } from '../../web/assets.ts';
import * as Listings from '../listings/service.ts';
import * as Surfaces from '../surfaces/service.ts';
import * as Trust from '../trust/service.ts';
import { pageResponse, type PageOptions, type Viewer } from './layout.ts';
import { humanOf, viewerOf } from './session.ts';

export { humanOf, viewerOf };
import { agentPage } from './views/agent.ts';
import { apiDocsPage, documentPage, notFoundPage } from './views/documents.ts';
import { formFields, homePage, type HomeModel } from './views/home.ts';
import { listingPage } from './views/listing.ts';

const HIDDEN = { detail: { hide: true } };
const REVIEWS_SHOWN = 20;
const AGENT_LISTINGS_SHOWN = 50;

/** What a refused search field should hold, in the form's words. */
const FIELD_HINTS: Record<string, string> = {
  q: 'Search: at most 1000 characters.',
  category: 'Category: choose one from the list.',
  pricing_model: 'Price: choose Free or Paid.',
  min_score: 'Minimum score: a whole number from 0 to 1000.',
  verified: 'Verified providers only: tick the box or leave it.',
  sort: 'Sort: choose an order from the list.',
  page: 'Page: a whole number from 1.',
  limit: 'Listings per page: a whole number from 1 to 100.',
};

const isNotFound = (error: unknown) => error instanceof AppError && error.status === 404;

/** Whether a request is a browser's page view (not an API client): HTML accepted, outside /api/. */
export function wantsHtml(request: Request): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (new URL(request.url).pathname.startsWith('/api/')) return false;
  return (request.headers.get('accept') ?? '').includes('text/html');
}

/** The HTML 404 page (status 404), for unknown pages and unknown listings or agents. */
export const notFoundResponse = (path: string, what?: string, viewer: Viewer | null = null) =>
  pageResponse({ title: 'Page not found', path, main: notFoundPage(what), status: 404, viewer });

/**
 * The marketplace's pages, rendered on the server from the same services as the API (content is
 * in the HTML; /assets/app.js only enhances). Hidden from the OpenAPI document: they are not API.
 */
export { operatorPages } from './operator.ts';
export { peoplePages } from './people.ts';

export function webModule(deps: CoreDeps) {
  // Every page knows who is signed in: the header's account links and the CSRF meta tag.
  const page = (o: PageOptions, request: Request) => pageResponse({ ...o, viewer: viewerOf(deps, humanOf(deps, request)) });
  const categories = () => Listings.listCategories(deps);
  const categoryNamer = () => {
    const names = new Map(categories().map((c) => [c.slug, c.name]));
    return (slug: string) => names.get(slug) ?? slug;
  };

  const home = (query: Record<string, unknown>, request: Request) => {
    const url = new URL(request.url);
    const form = formFields(query);
    const model: HomeModel = { categories: categories(), form, result: null, customLimit: form.limit !== undefined };
    const parsed = Listings.searchQuery.safeParse(form);
    let status = 200;
    if (!parsed.success) {
      status = 400;
      const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
      model.error = `This search could not be run. ${fields.map((f) => FIELD_HINTS[f] ?? `${f}: not a valid value.`).join(' ')}`;
    } else {
      try {
        model.result = Listings.searchListings(deps, parsed.data);
      } catch (error) {
        if (!(error instanceof AppError) || error.status !== 400) throw error;
        status = 400;
        model.error = error.message;
      }
    }
    const title = form.q ? `“${form.q}” — listings` : 'APIs for agents, paid per call';
    return page({ title, path: url.pathname, main: homePage(model), status, description: 'A marketplace of JSON APIs for agents, paid per call in USDC.' }, request);
  };

  return new Elysia({ name: 'web' })
    .get('/', ({ query, request }) => home(query, request), HIDDEN)
    .get(
      '/listings/:id',
      ({ params, path, request }) => {
        let listing: Listings.ListingView;
        try {
          listing = Listings.getListing(deps, params.id, null);
        } catch (error) {
          // A browser gets the page; an API client asking for JSON keeps the error envelope.
          if (isNotFound(error) && wantsHtml(request)) return notFoundResponse(path, 'listing', viewerOf(deps, humanOf(deps, request)));
          throw error;
        }
        const reviews = Trust.listReviews(deps, listing.id, { page: 1, limit: REVIEWS_SHOWN });
        const networks = [...new Set(deps.config.payment_routes.map((r) => r.network))];
        const main = listingPage({ listing, categoryName: categoryNamer()(listing.category), networks, reviews });
        return page({ title: listing.name, path, main, description: listing.description.slice(0, 160) }, request);
      },
      HIDDEN,
    )
    .get(
      '/agents/:id',
      ({ params, path, request }) => {
        let agent: Trust.AgentView;
        try {
          agent = Trust.getAgent(deps, params.id);
        } catch (error) {
          if (isNotFound(error) && wantsHtml(request)) return notFoundResponse(path, 'agent', viewerOf(deps, humanOf(deps, request)));
          throw error;
        }
        const listings = Listings.listOwnListings(deps, agent.id, { status: 'active', page: 1, limit: AGENT_LISTINGS_SHOWN });
        const reviews = Trust.listReviewsReceived(deps, agent.id, { page: 1, limit: REVIEWS_SHOWN });
        const main = agentPage({
          agent,
          score: Trust.getScore(deps, agent.id),
          weights: Trust.WEIGHTS_PERCENT,
          listings,
          reviews,
          reviewedListings: Listings.activeListingRefs(deps, reviews.items.map((r) => r.listing_id)),
          categoryName: categoryNamer(),
        });
        return page({ title: agent.display_name, path, main }, request);
      },
      HIDDEN,
    )
    .get('/sell', ({ path, request }) => page({ title: 'Sell on Crochet', path, main: documentPage(Surfaces.sellerOnboardingText(deps.config), { href: '/seller-onboarding', label: '/seller-onboarding' }) }, request), HIDDEN)
    .get('/for-agents', ({ path, request }) => page({ title: 'For agents', path, main: documentPage(Surfaces.skillText(deps.config), { href: '/SKILL.md', label: '/SKILL.md' }) }, request), HIDDEN)
    .get('/score', ({ path, request }) => page({ title: 'The Crochet Score', path, main: documentPage(scoreDoc) }, request), HIDDEN)
    .get('/api/docs', ({ path, request }) => page({ title: 'API reference', path, main: apiDocsPage, wide: true, styles: [SWAGGER_UI.style, '/assets/docs.css'], scripts: [SWAGGER_UI.script, '/assets/docs.js'] }, request), HIDDEN);
}
