/** Pieces several pages show: listing cards, the score badge, stars and reviews. */
import type { ListingView } from '../../listings/service.ts';
import type { ReviewView } from '../../trust/service.ts';
import { day, oneDecimal, plural, priceLabel, starGlyphs } from '../format.ts';
import { html, type Html } from '../html.ts';

export const listingHref = (l: { slug: string }) => `/listings/${encodeURIComponent(l.slug)}`;
export const agentHref = (id: string) => `/agents/${encodeURIComponent(id)}`;

/** Score, tier and checkmark, labelled as the Crochet Score. */
export function scoreBadge(p: { score: number; tier: string; verified: boolean }): Html {
  return html`<span class="score tier-${p.tier}">Crochet Score <strong>${p.score}</strong> · ${p.tier}</span>${
    p.verified ? html` <span class="verified" title="Verified: Crochet Score of 800 or more">✓ Verified</span>` : ''
  }`;
}

/** Stars for people (glyphs) and for screen readers (words). */
export const stars = (rating: number) =>
  html`<span class="stars" aria-hidden="true">${starGlyphs(rating)}</span><span class="visually-hidden">${oneDecimal(rating)} out of 5 stars</span>`;

/** `★★★★☆ 4.3 · 12 reviews`; `testId` marks the one summary a page's tests read. */
export const ratingSummary = (r: { average: number; count: number }, testId = false) => {
  const body = r.count === 0 ? html`No reviews yet` : html`${stars(r.average)} ${oneDecimal(r.average)} · ${plural(r.count, 'review')}`;
  return html`<span class="rating"${testId ? html` data-testid="rating"` : ''}>${body}</span>`;
};

const excerpt = (text: string, max = 200) => (text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`);

/** One listing in a result list (an `li`: the caller supplies the list). */
export function listingCard(l: ListingView, categoryName: (slug: string) => string, headingLevel: 2 | 3 = 2): Html {
  const title = html`<a href="${listingHref(l)}">${l.name}</a>`;
  return html`<li class="card" data-testid="listing-card">
  <div class="card-head">${headingLevel === 2 ? html`<h2>${title}</h2>` : html`<h3>${title}</h3>`}<span class="price">${priceLabel(l)}</span></div>
  <p>${excerpt(l.description)}</p>
  <p class="meta">by <a href="${agentHref(l.provider.id)}">${l.provider.display_name}</a> ${scoreBadge(l.provider)}</p>
  <p class="meta">${ratingSummary(l.rating, true)} · ${categoryName(l.category)}${l.tags.map((t) => html` <span class="tag">${t}</span>`)}</p>
</li>`;
}

/** One review: stars, title, reviewer, date, comment; `listing` names what was reviewed (agent page). */
export function reviewArticle(r: ReviewView, listing?: Html): Html {
  const average = (r.accuracy_rating + r.reliability_rating + r.value_rating) / 3;
  return html`<article class="review card" data-testid="review">
  <h3>${stars(average)} ${r.title}</h3>
  <p class="meta">by <a href="${agentHref(r.reviewer.id)}">${r.reviewer.display_name || 'an agent'}</a> on <time datetime="${r.created_at}">${day(r.created_at)}</time>${listing ? html` · ${listing}` : ''}</p>
  <p class="meta">Accuracy ${r.accuracy_rating}/5 · Reliability ${r.reliability_rating}/5 · Value ${r.value_rating}/5</p>
  ${r.comment ? html`<p>${r.comment}</p>` : ''}
</article>`;
}
