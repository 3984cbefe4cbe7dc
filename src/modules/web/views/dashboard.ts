/** A person's dashboard (each claimed agent's listings, reviews, score, calls, ledger) and the claim page. */
import type { claimedAgents } from '../../humans/service.ts';
import { day, percent, plural, priceLabel, usd } from '../format.ts';
import { html, type Html } from '../html.ts';
import { csrfField, errorSummary, notice, textField, type FormError } from './forms.ts';
import { agentHref, listingHref, reviewArticle, scoreBadge } from './parts.ts';

type ClaimedAgent = ReturnType<typeof claimedAgents>[number];

export type DashboardModel = { name: string; email: string; agents: ClaimedAgent[]; notice?: string | null };

const COMPONENT_LABELS = [['reliability', 'Reliability'], ['volume', 'Volume'], ['accuracy', 'Accuracy'], ['reputation', 'Reputation'], ['longevity', 'Longevity']] as const;

/** A table that scrolls sideways on a phone instead of widening the page. */
const table = (label: string, head: readonly string[], rows: readonly Html[], testId: string) =>
  html`<div class="table-wrap" tabindex="0" role="region" aria-label="${label}"><table data-testid="${testId}">
  <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
  <tbody>${rows}</tbody>
</table></div>`;

const time = (iso: string) => html`<time datetime="${iso}">${day(iso)} ${iso.slice(11, 16)} UTC</time>`;

function scoreBlock(a: ClaimedAgent, n: number): Html {
  const s = a.score;
  return html`<h3 id="score-${n}">Crochet Score</h3>
<p class="big-score" data-testid="dash-score">${scoreBadge(s)}</p>
${table('Score components', ['Component', 'Value (0–1000)'], COMPONENT_LABELS.map(([k, label]) => html`<tr><th scope="row">${label}</th><td>${s.components[k]}</td></tr>`), 'dash-score-components')}`;
}

function listingsBlock(a: ClaimedAgent): Html {
  if (a.listings.length === 0) return html`<h3>Listings</h3><p>No listings yet.</p>`;
  return html`<h3>Listings</h3>
${table('Listings', ['Listing', 'Status', 'Price', 'Calls', 'Success rate', 'Rating'], a.listings.map((l) => html`<tr>
  <th scope="row">${l.status === 'active' ? html`<a href="${listingHref(l)}">${l.name}</a>` : l.name}</th>
  <td>${l.status}</td><td>${priceLabel(l)}</td><td>${l.stats.calls}</td>
  <td>${l.stats.success_rate === null ? '—' : percent(l.stats.success_rate)}</td>
  <td>${l.rating.count === 0 ? 'No reviews' : `${l.rating.average.toFixed(1)} (${plural(l.rating.count, 'review')})`}</td>
</tr>`), 'dash-listings')}`;
}

function reviewsBlock(a: ClaimedAgent): Html {
  const names = new Map(a.listings.map((l) => [l.id, l.name]));
  return html`<h3>Reviews received</h3>
${a.reviews.length === 0 ? html`<p>No reviews yet.</p>` : html`<div data-testid="dash-reviews">${a.reviews.map((r) => reviewArticle(r, html`on ${names.get(r.listing_id) ?? 'a listing'}`))}</div>`}`;
}

function requestsBlock(a: ClaimedAgent): Html {
  const names = new Map(a.listings.map((l) => [l.id, l.name]));
  if (a.gateway_requests.length === 0) return html`<h3>Recent gateway calls</h3><p>No calls yet, as buyer or seller.</p>`;
  return html`<h3>Recent gateway calls</h3>
${table('Recent gateway calls', ['When', 'As', 'Listing', 'Outcome', 'HTTP', 'Amount', 'Latency'], a.gateway_requests.map((r) => html`<tr>
  <td>${time(r.created_at)}</td><td>${r.role}</td><td>${names.get(r.listing_id) ?? r.listing_id}</td><td>${r.status}${r.error_code ? html` (<code>${r.error_code}</code>)` : ''}</td>
  <td>${r.http_status}</td><td>${r.amount_micro_usd === 0 ? 'Free' : usd((r.amount_micro_usd / 1e6).toFixed(6).replace(/0+$/, ''))}</td><td>${r.total_latency_ms} ms</td>
</tr>`), 'dash-requests')}`;
}

function ledgerBlock(a: ClaimedAgent): Html {
  const { balance, recent_entries } = a.ledger;
  return html`<h3>Ledger</h3>
<dl class="stats" data-testid="dash-balance">
  <div><dt>Seller balance</dt><dd>${usd(balance.seller.balance)}</dd></div>
  <div><dt>Earned (gross)</dt><dd>${usd(balance.seller.gross)}</dd></div>
  <div><dt>Marketplace fees</dt><dd>${usd(balance.seller.fees)}</dd></div>
  <div><dt>Paid as buyer</dt><dd>${usd(balance.buyer.paid)}</dd></div>
  <div><dt>Refunds due</dt><dd>${usd(balance.buyer.refund_due)}</dd></div>
</dl>
${recent_entries.length === 0 ? html`<p>No ledger entries yet.</p>` : table('Recent ledger entries', ['When', 'Entry', 'Amount', 'Network', 'Transaction'], recent_entries.map((e) => html`<tr>
  <td>${time(e.created_at)}</td><td>${e.entry_type}</td><td>${usd(e.amount)}</td><td>${e.network ?? '—'}</td><td>${e.tx_ref ? html`<code>${e.tx_ref}</code>` : '—'}</td>
</tr>`), 'dash-ledger')}`;
}

function agentSection(a: ClaimedAgent, n: number): Html {
  return html`<section class="card" aria-labelledby="agent-${n}" data-testid="claimed-agent">
  <h2 id="agent-${n}"><a href="${agentHref(a.profile.id)}">${a.profile.display_name}</a></h2>
  <p class="meta">Profile id <code>${a.profile.id}</code> · ${a.profile.status === 'active' ? 'active' : html`<strong>${a.profile.status}</strong>`}</p>
  ${scoreBlock(a, n)}
  ${listingsBlock(a)}
  ${reviewsBlock(a)}
  ${requestsBlock(a)}
  ${ledgerBlock(a)}
</section>`;
}

export function dashboardPage(m: DashboardModel): Html {
  return html`<h1>Your dashboard</h1>
<p class="meta">Signed in as ${m.name} (${m.email}).</p>
${notice(m.notice)}
<p><a href="/dashboard/claim">Claim an agent you run</a></p>
${m.agents.length === 0
    ? html`<p class="empty">You have not claimed an agent yet. Claiming shows its listings, reviews, score, calls and ledger here; it changes nothing about the agent's score or checkmark.</p>`
    : m.agents.map((a, i) => agentSection(a, i + 1))}`;
}

export type ClaimModel = {
  csrf: string;
  profile_id?: string;
  wallet_address?: string;
  errors?: readonly FormError[];
  /** Set once the challenge was issued: the exact message the wallet must sign. */
  challenge?: { nonce: string; message: string; expires_at: string };
};

const CLAIM_LABELS = html`<ol class="steps"><li>Enter the agent's profile id and one of its auth or recovery wallets.</li><li>Sign the exact message shown with that wallet (personal_sign on EVM, an ed25519 message signature on Solana).</li><li>Paste the signature to complete the claim.</li></ol>`;

/** Step 1 asks for the agent and wallet; step 2 shows the message to sign and takes the signature. */
export function claimPage(m: ClaimModel): Html {
  if (!m.challenge) {
    return html`<h1>Claim an agent</h1>
${CLAIM_LABELS}
<form method="post" action="/dashboard/claim/challenge" class="stack card" novalidate>
  ${errorSummary(m.errors ?? [])}
  ${csrfField(m.csrf)}
  ${textField({ name: 'profile_id', label: 'Agent profile id', value: m.profile_id, errors: m.errors, hint: 'The id of the agent\'s profile (GET /api/v1/me as the agent, or the end of its agent page address).' })}
  ${textField({ name: 'wallet_address', label: 'Agent wallet address', value: m.wallet_address, errors: m.errors, hint: 'An EVM address (0x…) or a Solana address of the agent.' })}
  <button type="submit">Get the message to sign</button>
</form>`;
  }
  const c = m.challenge;
  return html`<h1>Claim an agent</h1>
${CLAIM_LABELS}
<form method="post" action="/dashboard/claim" class="stack card" novalidate>
  ${errorSummary(m.errors ?? [])}
  ${csrfField(m.csrf)}
  <input type="hidden" name="profile_id" value="${m.profile_id ?? ''}">
  <input type="hidden" name="wallet_address" value="${m.wallet_address ?? ''}">
  <input type="hidden" name="nonce" value="${c.nonce}">
  <h2 id="message-h">Message to sign</h2>
  <p>Sign exactly this text, every line, with wallet <code>${m.wallet_address ?? ''}</code> before ${time(c.expires_at)}:</p>
  <pre data-testid="claim-message" tabindex="0" aria-labelledby="message-h">${c.message}</pre>
  <div class="field">
    <label for="signature">Signature</label>
    <p class="hint" id="signature-hint">0x… hex from an EVM wallet, or base58 (or base64) from a Solana wallet.</p>
    ${m.errors?.find((e) => e.field === 'signature') ? html`<p class="field-error" id="signature-error">${m.errors.find((e) => e.field === 'signature')?.message}</p>` : ''}
    <textarea id="signature" name="signature" rows="3" required aria-describedby="signature-hint${m.errors?.some((e) => e.field === 'signature') ? ' signature-error' : ''}"></textarea>
  </div>
  <button type="submit">Claim this agent</button>
</form>
<p><a href="/dashboard/claim">Start again</a></p>`;
}
