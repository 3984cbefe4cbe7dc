/** Home: what this is, search with filters and sort, category navigation, results, pages. */
import type { ListingView } from '../../listings/service.ts';
import { plural } from '../format.ts';
import { html, type Html } from '../html.ts';
import { listingCard } from './parts.ts';

export type Category = { slug: string; name: string };

export type HomeModel = {
  categories: Category[];
  /** The query as the visitor sent it (strings), to refill the form. */
  form: Record<string, string>;
  /** Null when the query was refused (then `error` says why). */
  result: { items: ListingView[]; total: number; page: number; limit: number } | null;
  error?: string;
  /** Whether `limit` came from the URL (then the form and links keep it). */
  customLimit: boolean;
};

const SORT_OPTIONS: [string, string][] = [
  ['', 'Relevance'],
  ['newest', 'Newest'],
  ['popular', 'Most popular'],
  ['rating', 'Best rated'],
  ['price_low', 'Price: low to high'],
  ['price_high', 'Price: high to low'],
];
const PRICE_OPTIONS: [string, string][] = [
  ['', 'Any price'],
  ['free', 'Free'],
  ['per_call', 'Paid'],
];

const option = (value: string, label: string, selected: string) =>
  html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

const FORM_FIELDS = ['q', 'category', 'pricing_model', 'min_score', 'verified', 'sort', 'limit'] as const;

/** `/?…` with the current filters, some replaced (an empty value removes the field). */
function hrefWith(form: Record<string, string>, changes: Record<string, string>, keepLimit: boolean): string {
  const params = new URLSearchParams();
  for (const name of FORM_FIELDS) {
    if (name === 'limit' && !keepLimit) continue;
    const value = name in changes ? changes[name] : form[name];
    if (value) params.set(name, value);
  }
  if (changes.page && changes.page !== '1') params.set('page', changes.page);
  const qs = params.toString();
  return qs ? `/?${qs}` : '/';
}

function searchForm(m: HomeModel): Html {
  const f = m.form;
  return html`<form role="search" method="get" action="/" class="search">
  <div class="field grow"><label for="q">Search</label><input id="q" name="q" type="search" value="${f.q ?? ''}" placeholder="weather, translation, quotes…"></div>
  <div class="field"><label for="category">Category</label><select id="category" name="category">${option('', 'All categories', f.category ?? '')}${m.categories.map((c) =>
    option(c.slug, c.name, f.category ?? ''),
  )}</select></div>
  <div class="field"><label for="pricing_model">Price</label><select id="pricing_model" name="pricing_model">${PRICE_OPTIONS.map(([v, l]) => option(v, l, f.pricing_model ?? ''))}</select></div>
  <div class="field"><label for="min_score">Minimum score</label><input id="min_score" name="min_score" type="number" min="0" max="1000" step="1" inputmode="numeric" value="${/^\d{1,4}$/.test(f.min_score ?? '') ? f.min_score : ''}"></div>
  <div class="field"><label for="sort">Sort</label><select id="sort" name="sort">${SORT_OPTIONS.map(([v, l]) => option(v, l, f.sort ?? ''))}</select></div>
  <div class="field check"><input id="verified" name="verified" type="checkbox" value="true"${f.verified === 'true' || f.verified === '1' ? html` checked` : ''}><label for="verified">Verified providers only</label></div>
  ${m.customLimit ? html`<input type="hidden" name="limit" value="${f.limit ?? ''}">` : ''}
  <div class="field"><button type="submit">Search</button></div>
</form>`;
}

function categoryNav(m: HomeModel): Html {
  const active = m.form.category ?? '';
  const link = (slug: string, name: string) =>
    html`<li><a href="${hrefWith(m.form, { category: slug }, m.customLimit)}"${slug === active ? html` aria-current="page"` : ''}>${name}</a></li>`;
  return html`<nav aria-label="Categories" class="categories"><ul>${link('', 'All')}${m.categories.map((c) => link(c.slug, c.name))}</ul></nav>`;
}

function pagination(m: HomeModel, page: number, totalPages: number): Html {
  if (totalPages <= 1) return html``;
  const to = (p: number) => hrefWith(m.form, { page: String(p) }, m.customLimit);
  return html`<nav aria-label="Pagination" class="pager">
  ${page > 1 ? html`<a rel="prev" href="${to(page - 1)}">Previous</a>` : ''}
  <span>Page ${page} of ${totalPages}</span>
  ${page < totalPages ? html`<a rel="next" href="${to(page + 1)}">Next</a>` : ''}
</nav>`;
}

function results(m: HomeModel): Html {
  if (m.result === null) {
    return html`<p role="alert" class="error">${m.error ?? 'This search could not be run.'} <a href="/">Clear the search</a></p>`;
  }
  const { items, total, page, limit } = m.result;
  const totalPages = Math.max(1, Math.ceil(total / limit));
  const names = new Map(m.categories.map((c) => [c.slug, c.name]));
  const categoryName = (slug: string) => names.get(slug) ?? slug;
  if (items.length === 0) {
    const message = total > 0 ? `No listings on page ${page}: there ${total === 1 ? 'is' : 'are'} ${plural(total, 'listing')}.` : 'No listings match this search.';
    return html`<p data-testid="result-count" class="count">${plural(total, 'listing')}</p>
<p class="empty">${message} <a href="/">See every listing</a></p>`;
  }
  return html`<p data-testid="result-count" class="count">${plural(total, 'listing')}</p>
<ol class="results" data-testid="results">${items.map((l) => listingCard(l, categoryName))}</ol>
${pagination(m, page, totalPages)}`;
}

export function homePage(m: HomeModel): Html {
  return html`<h1>Crochet marketplace</h1>
<p class="lead">JSON APIs for agents: find one, call its gateway URL, and pay per call in USDC on chain (or nothing, when it is free).</p>
${searchForm(m)}
${categoryNav(m)}
${results(m)}`;
}

/** The visitor's query fields as strings (blank ones dropped), for the form and the API query. */
export function formFields(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...FORM_FIELDS, 'page'] as const) {
    const value = query[name];
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  return out;
}


