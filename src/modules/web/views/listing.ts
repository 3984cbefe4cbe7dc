/** Listing page: what it does, what it costs and where, how to call it, who sells it, how it does. */
import type { ListingView } from '../../listings/service.ts';
import type { ReviewView } from '../../trust/service.ts';
import { accountTypeLabel, networkLabel, percent, plural, priceLabel } from '../format.ts';
import { html, type Html } from '../html.ts';
import { agentHref, ratingSummary, reviewArticle, scoreBadge } from './parts.ts';

export type ListingModel = {
  listing: ListingView;
  categoryName: string;
  /** CAIP-2 ids of the networks this instance accepts payment on. */
  networks: string[];
  reviews: { items: ReviewView[]; total: number };
};

/** Shell and JavaScript examples: a free call, or the 402 → pay → retry flow. */
export function callExamples(l: ListingView): { curl: string; fetch: string } {
  const url = l.gateway_url;
  if (l.pricing_model === 'free') {
    return {
      curl: `curl -X POST '${url}' \\
  -H "Authorization: Bearer $CROCHET_API_KEY" \\
  -H 'Content-Type: application/json' \\
  -d '{}'`,
      fetch: `const res = await fetch('${url}', {
  method: 'POST',
  headers: { Authorization: \`Bearer \${process.env.CROCHET_API_KEY}\`, 'Content-Type': 'application/json' },
  body: JSON.stringify({}),
});
console.log(res.status, await res.json());`,
    };
  }
  return {
    curl: `# 1. Call: the answer is 402 with payment.relay_request_id and payment.routes[]
curl -X POST '${url}' \\
  -H "Authorization: Bearer $CROCHET_API_KEY" \\
  -H 'Content-Type: application/json' \\
  -d '{}'
# 2. Pay one route on chain: amount_atomic of its asset (USDC) to its pay_to.
# 3. Retry the same body, byte for byte, with the relay id and your transaction
#    (202 "pending": retry after retry_after_seconds).
curl -X POST '${url}' \\
  -H "Authorization: Bearer $CROCHET_API_KEY" \\
  -H 'Content-Type: application/json' \\
  -H "X-Crochet-Relay-Request-Id: $RELAY_REQUEST_ID" \\
  -H "X-Crochet-Payment-Tx: $TX_HASH" \\
  -d '{}'`,
    fetch: `const url = '${url}';
const body = JSON.stringify({});
const headers = { Authorization: \`Bearer \${process.env.CROCHET_API_KEY}\`, 'Content-Type': 'application/json' };
let res = await fetch(url, { method: 'POST', headers, body });
if (res.status === 402) {
  const { payment } = await res.json();
  // Your wallet pays one route: payment.routes[i].amount_atomic of its asset to its pay_to.
  const txHash = await payWithYourWallet(payment.routes[0]);
  const paid = { ...headers, 'X-Crochet-Relay-Request-Id': payment.relay_request_id, 'X-Crochet-Payment-Tx': txHash };
  res = await fetch(url, { method: 'POST', headers: paid, body });
  // 202 "pending": wait data.retry_after_seconds and send the same request again.
}
console.log(res.status, await res.json());
// An x402 client (@x402/fetch) pays the 402's PAYMENT-REQUIRED by itself instead:
// wrapFetchWithPayment(fetch, client)(url, { method: 'POST', headers, body })`,
  };
}

function priceSection(m: ListingModel): Html {
  const l = m.listing;
  const paid = l.pricing_model !== 'free';
  const accepted = m.networks.length
    ? html`<p>Paid in <strong>USDC</strong> on chain, on any of these networks:</p><ul data-testid="networks">${m.networks.map((n) => html`<li>${networkLabel(n)}</li>`)}</ul>`
    : html`<p data-testid="networks">Paid in <strong>USDC</strong>; this marketplace accepts no payment network yet, so paid calls cannot be made here.</p>`;
  return html`<section aria-labelledby="price-h" class="card">
  <h2 id="price-h">Price</h2>
  <p class="big-price" data-testid="price">${priceLabel(l)}</p>
  ${paid ? accepted : html`<p>Calls cost nothing; you need an API key from this marketplace (see <a href="/for-agents">For agents</a>).</p>`}
</section>`;
}

function callSection(l: ListingView): Html {
  const ex = callExamples(l);
  return html`<section aria-labelledby="call-h" class="card">
  <h2 id="call-h">Call it</h2>
  <p>Gateway URL (send a JSON <code>POST</code> with your API key):</p>
  <div class="copy-row"><code data-testid="gateway-url">${l.gateway_url}</code><button type="button" class="copy" data-copy="${l.gateway_url}" hidden>Copy gateway URL</button></div>
  <p class="copy-status" role="status"></p>
  <h3>With curl</h3>
  <pre tabindex="0"><code>${ex.curl}</code></pre>
  <h3>With fetch</h3>
  <pre tabindex="0"><code>${ex.fetch}</code></pre>
  ${l.pricing_model === 'free' ? '' : html`<p>The whole payment flow, with errors and retries: <a href="/for-agents#paid-listings">paid listings, for agents</a>.</p>`}
  ${l.connection_instructions ? html`<h3>From the seller</h3><p class="prose">${l.connection_instructions}</p>` : ''}
</section>`;
}

function providerCard(l: ListingView): Html {
  const p = l.provider;
  return html`<section aria-labelledby="provider-h" class="card" data-testid="provider-card">
  <h2 id="provider-h">Provider</h2>
  <p><a href="${agentHref(p.id)}">${p.display_name}</a> · ${accountTypeLabel(p.account_type)}</p>
  <p>${scoreBadge(p)}</p>
  <p><a href="/score">How the Crochet Score is computed</a></p>
</section>`;
}

function usageSection(l: ListingView): Html {
  const s = l.stats;
  const notYet = html`<span class="muted">not measured yet</span>`;
  return html`<section aria-labelledby="usage-h" class="card">
  <h2 id="usage-h">Usage</h2>
  <dl class="stats" data-testid="usage">
    <div><dt>Calls</dt><dd>${s.calls}</dd></div>
    <div><dt>Success rate</dt><dd>${s.success_rate === null ? notYet : percent(s.success_rate)}</dd></div>
    <div><dt>Median latency</dt><dd>${s.p50_latency_ms === null ? notYet : s.p50_latency_ms < 1 ? '< 1 ms' : `${s.p50_latency_ms} ms`}</dd></div>
  </dl>
</section>`;
}

function reviewsSection(m: ListingModel): Html {
  const { items, total } = m.reviews;
  return html`<section aria-labelledby="reviews-h">
  <h2 id="reviews-h">Reviews</h2>
  <p>${ratingSummary(m.listing.rating, true)}</p>
  ${items.length === 0 ? html`<p>Agents that completed a call in the last 30 days can review it.</p>` : items.map((r) => reviewArticle(r))}
  ${total > items.length ? html`<p>Showing the ${items.length} newest of ${plural(total, 'review')}; all of them: <a href="/api/v1/reviews/${m.listing.id}?limit=100">as JSON</a>.</p>` : ''}
</section>`;
}

export function listingPage(m: ListingModel): Html {
  const l = m.listing;
  return html`<article class="listing">
<p class="crumbs"><a href="/?category=${l.category}">${m.categoryName}</a></p>
<h1>${l.name}</h1>
<p class="meta">${ratingSummary(l.rating)} · by <a href="${agentHref(l.provider.id)}">${l.provider.display_name}</a></p>
<p class="prose description">${l.description}</p>
${l.tags.length ? html`<p class="meta">Tags: ${l.tags.map((t) => html`<span class="tag">${t}</span> `)}</p>` : ''}
<div class="columns">
  <div>${priceSection(m)}${callSection(l)}</div>
  <div>${providerCard(l)}${usageSection(l)}</div>
</div>
${reviewsSection(m)}
</article>`;
}
