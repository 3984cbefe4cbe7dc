/** The operator console's overview and settings pages (lists with actions are in admin-lists.ts). */
import type { getSettings, overview } from '../../admin/service.ts';
import { day, usd } from '../format.ts';
import { html, type Html } from '../html.ts';
import { csrfField, errorSummary, notice, textField, type FormError } from './forms.ts';

export const ADMIN_SECTIONS = [
  { href: '/admin', label: 'Overview' },
  { href: '/admin/listings', label: 'Listings' },
  { href: '/admin/profiles', label: 'Profiles' },
  { href: '/admin/categories', label: 'Categories' },
  { href: '/admin/settings', label: 'Settings' },
  { href: '/admin/refunds', label: 'Refunds' },
] as const;

/** The console's own navigation, under the page heading. */
export const adminNav = (path: string) => html`<nav aria-label="Operator console" class="subnav"><ul>${ADMIN_SECTIONS.map(
  (s) => html`<li><a href="${s.href}"${s.href === path ? html` aria-current="page"` : ''}>${s.label}</a></li>`,
)}</ul></nav>`;

export const when = (iso: string) => html`<time datetime="${iso}">${day(iso)} ${iso.slice(11, 19)} UTC</time>`;

export const adminTable = (label: string, head: readonly string[], rows: readonly Html[], testId: string) =>
  html`<div class="table-wrap" tabindex="0" role="region" aria-label="${label}"><table data-testid="${testId}">
  <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
  <tbody>${rows}</tbody>
</table></div>`;

type Overview = ReturnType<typeof overview>;

const detailsText = (d: Record<string, unknown>) =>
  Object.entries(d)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');

export function overviewPage(o: Overview, actorNames: Map<string, string>): Html {
  const profiles = o.counts.profiles;
  const listingCounts = Object.entries(o.counts.listings);
  return html`<h1>Operator console</h1>
${adminNav('/admin')}
<div class="columns">
<section class="card" aria-labelledby="health-h" data-testid="admin-health">
  <h2 id="health-h">Health</h2>
  <dl class="stats">
    <div><dt>Status</dt><dd>${o.health.status}</dd></div>
    <div><dt>Database</dt><dd>${o.health.database}</dd></div>
    <div><dt>Version</dt><dd>${o.version}</dd></div>
    <div><dt>Refunds due</dt><dd data-testid="refunds-due">${o.refunds_due.count} · ${usd(o.refunds_due.total)}</dd></div>
  </dl>
  <p class="meta">Ledger head <code data-testid="ledger-head">${o.ledger_head}</code></p>
</section>
<section class="card" aria-labelledby="counts-h" data-testid="admin-counts">
  <h2 id="counts-h">Counts</h2>
  ${adminTable('Profiles by type and status', ['Profiles', 'Status', 'Count'], profiles.map((p) => html`<tr><th scope="row">${p.account_type}</th><td>${p.status}</td><td>${p.n}</td></tr>`), 'profile-counts')}
  ${adminTable('Listings by status', ['Listings', 'Count'], listingCounts.map(([status, n]) => html`<tr><th scope="row">${status}</th><td>${n}</td></tr>`), 'listing-counts')}
</section>
</div>
<section aria-labelledby="routes-h" class="block">
  <h2 id="routes-h">Payment routes</h2>
  ${o.payment_routes.length === 0
    ? html`<p>No payment routes: only free listings can be called.</p>`
    : adminTable('Payment routes', ['Network', 'Asset', 'RPC host', 'Treasury'], o.payment_routes.map((r) => html`<tr><th scope="row">${r.network}</th><td><code>${r.asset}</code></td><td>${r.rpc_host}</td><td><code>${r.treasury}</code></td></tr>`), 'payment-routes')}
  <p class="meta">RPC addresses show their host only: the rest of the URL may carry a provider key.</p>
</section>
<section aria-labelledby="audit-h" class="block">
  <h2 id="audit-h">Audit log</h2>
  ${o.audit_log.length === 0
    ? html`<p>No operator changes yet.</p>`
    : adminTable('Audit log, newest first', ['When', 'Who', 'Action', 'Target', 'Details'], o.audit_log.map((a) => html`<tr><td>${when(a.created_at)}</td><td>${actorNames.get(a.actor_profile_id) ?? a.actor_profile_id}</td><th scope="row"><code>${a.action}</code></th><td><code>${a.target}</code></td><td>${detailsText(a.details)}</td></tr>`), 'audit-log')}
  <p class="meta">Append-only: entries cannot be changed or removed.</p>
</section>`;
}

type Settings = ReturnType<typeof getSettings>;

export function settingsPage(s: Settings, csrf: string, errors: readonly FormError[] = [], done?: string | null): Html {
  const fee = s.fee_bps;
  return html`<h1>Settings</h1>
${adminNav('/admin/settings')}
${notice(done)}
<section class="card" aria-labelledby="fee-h">
  <h2 id="fee-h">Marketplace fee</h2>
  <p>The share of each paid call kept by the marketplace, in basis points (100 = 1%). A change applies to new payment intents only.</p>
  ${fee.fixed
    ? html`<p data-testid="fee-fixed">Fixed at <strong>${fee.value}</strong> basis points by <code>${fee.source}</code>: change it where it is set (environment, flag or config file) and restart.</p>`
    : html`<form method="post" action="/admin/settings" class="stack" novalidate>
    ${errorSummary(errors)}
    ${csrfField(csrf)}
    ${textField({ name: 'fee_bps', label: 'Fee (basis points, 0–10000)', type: 'number', value: String(fee.value), errors, extra: html` min="0" max="10000" step="1" inputmode="numeric"` })}
    <button type="submit">Save the fee</button>
  </form>`}
</section>
<section class="card" aria-labelledby="fixed-h">
  <h2 id="fixed-h">Set by the environment</h2>
  <dl class="stats" data-testid="fixed-settings">
    <div><dt>Highest price per call (fixed)</dt><dd>${usd(s.max_price_usd.value)}</dd></div>
    <div><dt>Payment intent lifetime (fixed)</dt><dd>${s.payment_intent_ttl_seconds.value} s</dd></div>
  </dl>
  <p class="meta">These come from <code>CROCHET_*</code> variables or flags and cannot be changed here.</p>
</section>`;
}
