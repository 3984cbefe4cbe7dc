/** Console pages with an action per row: listings and profiles (suspend/restore), categories, refunds. */
import { usd } from '../format.ts';
import { html, type Html } from '../html.ts';
import { adminNav, adminTable, when } from './admin.ts';
import { csrfField, errorSummary, notice, textField, type FormError } from './forms.ts';
import { agentHref } from './parts.ts';

/** What every console list page gets besides its rows. */
export type ListPage = { csrf: string; errors?: readonly FormError[]; done?: string | null; page: number; pages: number };

const hidden = (text: string) => html`<span class="visually-hidden">${text}</span>`;

function pager(path: string, p: ListPage): Html {
  if (p.pages <= 1) return html``;
  return html`<nav aria-label="Pages" class="pager">
  ${p.page > 1 ? html`<a href="${path}?page=${p.page - 1}" rel="prev">Previous</a>` : ''}
  <span>Page ${p.page} of ${p.pages}</span>
  ${p.page < p.pages ? html`<a href="${path}?page=${p.page + 1}" rel="next">Next</a>` : ''}
</nav>`;
}

/** Suspend or restore one row: a small POST form (no script needed). */
function statusForm(action: string, csrf: string, status: string, name: string): Html {
  const suspend = status !== 'suspended';
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}<input type="hidden" name="status" value="${suspend ? 'suspended' : 'active'}"><button type="submit" class="${suspend ? 'danger' : 'secondary'}">${suspend ? 'Suspend' : 'Restore'}${hidden(` ${name}`)}</button></form>`;
}

type AdminListing = { id: string; slug: string; name: string; owner_profile_id: string; status: string; created_at: string };

export function listingsAdminPage(items: readonly AdminListing[], total: number, p: ListPage): Html {
  return html`<h1>Listings</h1>
${adminNav('/admin/listings')}
${notice(p.done)}${errorSummary(p.errors ?? [])}
<p>${total} listings, newest first. A suspended listing is hidden from search and its gateway answers 409 <code>LISTING_SUSPENDED</code>; money already paid is not touched.</p>
${adminTable('All listings', ['Listing', 'Owner', 'Status', 'Created', 'Action'], items.map((l) => html`<tr data-testid="admin-listing" data-id="${l.id}">
  <th scope="row">${l.name}<br><code>${l.slug}</code></th><td><a href="${agentHref(l.owner_profile_id)}">${l.owner_profile_id}</a></td>
  <td data-testid="status">${l.status}</td><td>${when(l.created_at)}</td><td>${statusForm(`/admin/listings/${l.id}/status`, p.csrf, l.status, l.name)}</td>
</tr>`), 'admin-listings')}
${pager('/admin/listings', p)}`;
}

type AdminProfile = { id: string; display_name: string; account_type: string; status: string; created_at: string; claimed_by: string | null };

export function profilesAdminPage(items: readonly AdminProfile[], total: number, p: ListPage): Html {
  return html`<h1>Profiles</h1>
${adminNav('/admin/profiles')}
${notice(p.done)}${errorSummary(p.errors ?? [])}
<p>${total} profiles (agents and people), newest first. A suspended profile's keys get 403 <code>PROFILE_SUSPENDED</code> and its listings are treated as suspended.</p>
${adminTable('All profiles', ['Name', 'Type', 'Status', 'Created', 'Action'], items.map((x) => html`<tr data-testid="admin-profile" data-id="${x.id}">
  <th scope="row">${x.display_name}<br><code>${x.id}</code></th><td>${x.account_type}${x.claimed_by ? html`<br>claimed` : ''}</td>
  <td data-testid="status">${x.status}</td><td>${when(x.created_at)}</td><td>${statusForm(`/admin/profiles/${x.id}/status`, p.csrf, x.status, x.display_name)}</td>
</tr>`), 'admin-profiles')}
${pager('/admin/profiles', p)}`;
}

type Category = { slug: string; name: string };

export function categoriesAdminPage(items: readonly Category[], p: Omit<ListPage, 'page' | 'pages'> & { form?: { slug?: string; name?: string } }): Html {
  return html`<h1>Categories</h1>
${adminNav('/admin/categories')}
${notice(p.done)}${errorSummary(p.errors ?? [])}
<p>Renaming keeps the slug (listings and search use it). A category cannot be retired while any listing uses it: move those listings first.</p>
${adminTable('Categories', ['Slug', 'Name', 'Rename', 'Retire'], items.map((c) => html`<tr data-testid="admin-category" data-slug="${c.slug}">
  <th scope="row"><code>${c.slug}</code></th><td>${c.name}</td>
  <td><form method="post" action="/admin/categories/${c.slug}" class="inline">${csrfField(p.csrf)}<label class="visually-hidden" for="rename-${c.slug}">New name for ${c.name}</label><input id="rename-${c.slug}" name="name" type="text" value="${c.name}" required maxlength="60"><button type="submit" class="secondary">Rename${hidden(` ${c.name}`)}</button></form></td>
  <td><form method="post" action="/admin/categories/${c.slug}" class="inline">${csrfField(p.csrf)}<input type="hidden" name="retired" value="true"><button type="submit" class="danger">Retire${hidden(` ${c.name}`)}</button></form></td>
</tr>`), 'admin-categories')}
<section class="card" aria-labelledby="add-h">
  <h2 id="add-h">Add a category</h2>
  <form method="post" action="/admin/categories" class="stack" novalidate>
    ${csrfField(p.csrf)}
    ${textField({ name: 'slug', label: 'Slug', value: p.form?.slug, errors: p.errors, hint: 'Lowercase letters, digits and dashes; it never changes.' })}
    ${textField({ name: 'name', label: 'Name', value: p.form?.name, errors: p.errors, id: 'new-name' })}
    <button type="submit">Add the category</button>
  </form>
</section>`;
}

type Refund = { refund_id: string; kind: string; buyer_id: string; listing_id: string; amount: string; network: string | null; payment_tx_ref: string | null; held_by: string | null; due_since: string; payable_after: string };

export function refundsAdminPage(items: readonly Refund[], p: Omit<ListPage, 'page' | 'pages'>): Html {
  return html`<h1>Refunds due</h1>
${adminNav('/admin/refunds')}
${notice(p.done)}${errorSummary(p.errors ?? [])}
<p>Payments owed back to buyers. Pay each on chain from the wallet that holds it, then record the transaction here (the same as <code>crochet refunds mark</code>).</p>
${items.length === 0
    ? html`<p class="empty">No refunds are due.</p>`
    : adminTable('Refunds due', ['Refund', 'Buyer', 'Amount', 'Paid with', 'Due since', 'Mark refunded'], items.map((r) => html`<tr data-testid="admin-refund" data-id="${r.refund_id}">
  <th scope="row"><code>${r.refund_id}</code><br>${r.kind}${r.held_by ? `, held by ${r.held_by}` : ''}</th><td><a href="${agentHref(r.buyer_id)}">${r.buyer_id}</a></td><td>${usd(r.amount)}</td>
  <td>${r.network ?? '—'}${r.payment_tx_ref ? html`<br><code>${r.payment_tx_ref}</code>` : ''}</td><td>${when(r.due_since)}</td>
  <td><form method="post" action="/admin/refunds/${r.refund_id}/mark" class="inline">${csrfField(p.csrf)}<label class="visually-hidden" for="tx-${r.refund_id}">Refund transaction for ${r.refund_id}</label><input id="tx-${r.refund_id}" name="tx_ref" type="text" required maxlength="200" placeholder="transaction hash"><button type="submit">Mark refunded${hidden(` ${r.refund_id}`)}</button></form></td>
</tr>`), 'admin-refunds')}`;
}
