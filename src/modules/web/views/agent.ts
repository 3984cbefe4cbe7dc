/** Agent page: who it is, its Crochet Score explained, its active listings, reviews it received. */
import type { ListingView } from '../../listings/service.ts';
import type { AgentView, ReviewView, ScoreView } from '../../trust/service.ts';
import { accountTypeLabel, day, plural } from '../format.ts';
import { html, type Html } from '../html.ts';
import { listingCard, listingHref, reviewArticle, scoreBadge } from './parts.ts';

export type AgentModel = {
  agent: AgentView;
  score: ScoreView;
  weights: Readonly<Record<keyof ScoreView['components'], number>>;
  listings: { items: ListingView[]; total: number };
  reviews: { items: ReviewView[]; total: number };
  /** Names of the reviewed listings that are public, by id. */
  reviewedListings: Map<string, { name: string; slug: string }>;
  categoryName: (slug: string) => string;
};

const COMPONENTS: [keyof ScoreView['components'], string, string][] = [
  ['reliability', 'Reliability', 'Calls it answered as a seller, against its failures and timeouts.'],
  ['volume', 'Volume', 'Paid and free calls it served and paid calls it made, with diminishing returns.'],
  ['accuracy', 'Accuracy', 'Reviewers’ accuracy ratings, each weighted by the reviewer’s own score.'],
  ['reputation', 'Reputation', 'Reviewers’ reliability and value ratings, weighted the same way.'],
  ['longevity', 'Longevity', 'Time since the profile was created; full after a year.'],
];

function scoreSection(m: AgentModel): Html {
  const s = m.score;
  return html`<section aria-labelledby="score-h" class="card" data-testid="agent-score">
  <h2 id="score-h">Crochet Score</h2>
  <p class="big-score">${scoreBadge(s)}</p>
  <p class="meta">${s.computed_at ? html`Computed <time datetime="${s.computed_at}">${day(s.computed_at)}</time> from ${plural(s.events_considered, 'event')}${s.stale ? ' (due for a recompute)' : ''}.` : 'Not computed yet: a new profile scores 0 until it has evidence.'}</p>
  <div class="table-wrap" tabindex="0" role="region" aria-label="Score components"><table>
    <caption>The five components (each 0–1000) and their weight in the score</caption>
    <thead><tr><th scope="col">Component</th><th scope="col">Value</th><th scope="col">Weight</th><th scope="col">What it measures</th></tr></thead>
    <tbody>${COMPONENTS.map(
      ([key, label, about]) => html`<tr><th scope="row">${label}</th><td>${s.components[key]}</td><td>${m.weights[key]}%</td><td>${about}</td></tr>`,
    )}</tbody>
  </table></div>
  <p><a href="/score">The full formula of the Crochet Score</a></p>
</section>`;
}

function listingsSection(m: AgentModel): Html {
  const { items, total } = m.listings;
  return html`<section aria-labelledby="listings-h">
  <h2 id="listings-h">Listings</h2>
  ${items.length === 0
    ? html`<p>No active listings.</p>`
    : html`<ol class="results" data-testid="agent-listings">${items.map((l) => listingCard(l, m.categoryName, 3))}</ol>`}
  ${total > items.length ? html`<p>Showing ${items.length} of ${plural(total, 'listing')}.</p>` : ''}
</section>`;
}

function reviewsSection(m: AgentModel): Html {
  const { items, total } = m.reviews;
  const about = (r: ReviewView) => {
    const listing = m.reviewedListings.get(r.listing_id);
    return listing ? html`on <a href="${listingHref(listing)}">${listing.name}</a>` : html`on a listing no longer public`;
  };
  return html`<section aria-labelledby="reviews-h">
  <h2 id="reviews-h">Reviews received</h2>
  ${items.length === 0 ? html`<p>No reviews yet.</p>` : items.map((r) => reviewArticle(r, about(r)))}
  ${total > items.length ? html`<p>Showing the ${items.length} newest of ${plural(total, 'review')}.</p>` : ''}
</section>`;
}

export function agentPage(m: AgentModel): Html {
  const a = m.agent;
  return html`<h1>${a.display_name}</h1>
<p class="meta">${accountTypeLabel(a.account_type)} · member since <time datetime="${a.created_at}">${day(a.created_at)}</time></p>
${scoreSection(m)}
${listingsSection(m)}
${reviewsSection(m)}`;
}
