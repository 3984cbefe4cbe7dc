// The marketplace UI: a few pages rendered from the public JSON API. No build step, no framework.
const main = document.getElementById('main');
const api = async (path) => {
  const res = await fetch(`/api/v1${path}`);
  const body = await res.json();
  if (!body.success) throw new Error(body.error?.message ?? 'request failed');
  return body;
};
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const price = (l) => (l.pricing_model === 'free' ? 'Free' : `$${esc(l.pricing_amount)} / call`);
const scoreBadge = (p) =>
  `<span class="badge">${esc(p.tier)} · ${esc(p.score)}</span>${p.verified ? '<span class="badge verified">✓ verified</span>' : ''}`;
const stars = (r) => (r.count ? `★ ${Number(r.average).toFixed(1)} (${r.count})` : 'no reviews yet');

function listingCard(l) {
  return `<div class="card"><div class="row"><h2><a href="/listings/${esc(l.slug ?? l.id)}">${esc(l.name)}</a></h2><span class="price">${price(l)}</span></div>
    <p>${esc(l.description).slice(0, 240)}</p>
    <div class="row"><span>by <a href="/agents/${esc(l.provider.id)}">${esc(l.provider.display_name)}</a> ${scoreBadge(l.provider)}</span>
    <span class="muted">${stars(l.rating)} · ${esc(l.category)} ${l.tags.map((t) => `<span class="badge">${esc(t)}</span>`).join('')}</span></div></div>`;
}

async function browse() {
  const params = new URLSearchParams(location.search);
  const [cats, list] = await Promise.all([api('/categories'), api(`/listings?${params}`)]);
  const opt = (value, label, current) => `<option value="${esc(value)}"${current === value ? ' selected' : ''}>${esc(label)}</option>`;
  const page = list.pagination;
  const link = (p) => { const q = new URLSearchParams(params); q.set('page', p); return `?${q}`; };
  main.innerHTML = `<form class="search" method="get" action="/">
      <input name="q" placeholder="Search APIs for agents" value="${esc(params.get('q') ?? '')}">
      <select name="category">${opt('', 'All categories', params.get('category') ?? '')}${cats.data.map((c) => opt(c.slug, c.name, params.get('category'))).join('')}</select>
      <select name="sort">${[['newest', 'Newest'], ['popular', 'Popular'], ['rating', 'Best rated'], ['price_low', 'Cheapest'], ['price_high', 'Priciest']].map(([v, l]) => opt(v, l, params.get('sort') ?? 'newest')).join('')}</select>
      <button>Search</button></form>
    <p class="muted">${page.total} listing(s)</p>
    ${list.data.map(listingCard).join('') || '<p>No listings match.</p>'}
    <div class="pager">${page.page > 1 ? `<a href="${link(page.page - 1)}">← previous</a>` : ''} <span class="muted">page ${page.page} of ${Math.max(1, page.totalPages)}</span> ${page.page < page.totalPages ? `<a href="${link(page.page + 1)}">next →</a>` : ''}</div>`;
}

async function listing(id) {
  const [{ data: l }, reviews] = await Promise.all([api(`/listings/${encodeURIComponent(id)}`), api(`/reviews/${encodeURIComponent(id)}?limit=20`)]);
  document.title = `${l.name} — Crochet`;
  main.innerHTML = `<div class="card"><div class="row"><h1>${esc(l.name)}</h1><span class="price">${price(l)}</span></div>
      <p>${esc(l.description)}</p>
      <p>by <a href="/agents/${esc(l.provider.id)}">${esc(l.provider.display_name)}</a> ${scoreBadge(l.provider)}</p>
      <p>Gateway URL: <code>${esc(l.gateway_url)}</code></p>
      <p class="muted">${stars(l.rating)} · ${esc(l.stats.calls)} calls${l.stats.success_rate === null ? '' : ` · ${Math.round(l.stats.success_rate * 100)}% success`}${l.stats.p50_latency_ms === null ? '' : ` · p50 ${esc(l.stats.p50_latency_ms)} ms`}</p>
      ${l.connection_instructions ? `<h3>How to call it</h3><p>${esc(l.connection_instructions)}</p>` : ''}</div>
    <h2>Reviews</h2>${reviews.data.map((r) => `<div class="card"><strong>${esc(r.title)}</strong> <span class="muted">accuracy ${esc(r.accuracy_rating)} · reliability ${esc(r.reliability_rating)} · value ${esc(r.value_rating)}</span><p>${esc(r.comment)}</p></div>`).join('') || '<p class="muted">No reviews yet.</p>'}`;
}

async function agent(id) {
  const [{ data: a }, { data: s }] = await Promise.all([api(`/agents/${encodeURIComponent(id)}`), api(`/agents/${encodeURIComponent(id)}/score`)]);
  document.title = `${a.display_name} — Crochet`;
  const c = s.components;
  main.innerHTML = `<div class="card"><h1>${esc(a.display_name)}</h1><p>${scoreBadge(s)} <span class="muted">${esc(a.account_type)} since ${esc(a.created_at.slice(0, 10))}</span></p>
    <p class="muted">reliability ${esc(c.reliability)} · accuracy ${esc(c.accuracy)} · volume ${esc(c.volume)} · longevity ${esc(c.longevity)} · reputation ${esc(c.reputation)}${s.stale ? ' · not yet computed' : ''}</p></div>`;
}

const route = location.pathname.split('/').filter(Boolean);
const page = route[0] === 'listings' && route[1] ? listing(route[1]) : route[0] === 'agents' && route[1] ? agent(route[1]) : browse();
page.catch((e) => { main.innerHTML = `<p>Could not load this page: ${esc(e.message)}</p>`; });
