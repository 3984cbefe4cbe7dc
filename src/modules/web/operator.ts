/**
 * The operator console's pages under /admin: the same services as /api/v1/admin, through POST
 * forms that carry the session's CSRF token and redirect back with a notice. A guest is sent to
 * sign-in; a signed-in person who is not the operator gets the 404 page (the console is not
 * advertised to them).
 */
import { Elysia } from 'elysia';
import { pingDatabase } from '../../db/open.ts';
import { AppError } from '../../shared/app-error.ts';
import type { HumanCaller } from '../../shared/http/auth.ts';
import { categoryBody, markBody, patchSettingsBody, statusBody } from '../admin/model.ts';
import * as Admin from '../admin/service.ts';
import * as Identity from '../identity/service.ts';
import * as Listings from '../listings/service.ts';
import * as Payments from '../payments/service.ts';
import { pageResponse, type PageOptions } from './layout.ts';
import type { PagesDeps } from './people.ts';
import { field, formTokenValid, humanOf, redirect, toSignIn, viewerOf } from './session.ts';
import { formExpiredPage } from './views/account.ts';
import { overviewPage, settingsPage } from './views/admin.ts';
import { categoriesAdminPage, listingsAdminPage, profilesAdminPage, refundsAdminPage } from './views/admin-lists.ts';
import { notFoundPage } from './views/documents.ts';
import { fieldErrors, type FormError } from './views/forms.ts';

const HIDDEN = { detail: { hide: true } };
const PER_PAGE = 50;

/** Notices after a console action's redirect, by key. */
const DONE: Record<string, string> = {
  suspended: 'Suspended.',
  restored: 'Restored to active.',
  added: 'Category added.',
  renamed: 'Category renamed.',
  retired: 'Category retired.',
  saved: 'Settings saved.',
  marked: 'Refund marked as refunded.',
};

const doneOf = (query: Record<string, unknown>) => (typeof query['done'] === 'string' ? (DONE[query['done']] ?? null) : null);
const pageOf = (query: Record<string, unknown>) => {
  const n = Number(query['page']);
  return Number.isInteger(n) && n >= 1 && n <= 100_000 ? n : 1;
};

/** An AppError a form can show (4xx); anything else is a server fault and propagates. */
function asFormError(error: unknown): AppError {
  if (error instanceof AppError && error.status < 500) return error;
  throw error;
}

export function operatorPages(deps: PagesDeps) {
  const page = (o: PageOptions, human: HumanCaller) => pageResponse({ ...o, viewer: viewerOf(deps, human) });

  /** The operator of a request, or the response a guest (sign-in) or another person (404) gets. */
  const operator = (request: Request, path: string): HumanCaller | Response => {
    const human = humanOf(deps, request);
    if (!human) return toSignIn(path);
    if (human.role !== 'admin') return pageResponse({ title: 'Page not found', path, main: notFoundPage(), status: 404, viewer: viewerOf(deps, human) });
    return human;
  };
  /** As `operator`, for a form post: also the CSRF token, or a 403 page and nothing changed. */
  const operatorPost = (request: Request, body: unknown, back: string): HumanCaller | Response => {
    const who = operator(request, back);
    if (who instanceof Response) return who;
    if (!formTokenValid(who, body)) return page({ title: 'Form expired', path: back, main: formExpiredPage(back), status: 403 }, who);
    return who;
  };

  const listingsView = (human: HumanCaller, n: number, extra: { errors?: FormError[]; done?: string | null; status?: number } = {}) => {
    const { items, total } = Listings.listAllListings(deps, { page: n, limit: PER_PAGE });
    const main = listingsAdminPage(items, total, { csrf: human.csrfToken, page: n, pages: Math.max(1, Math.ceil(total / PER_PAGE)), errors: extra.errors, done: extra.done });
    return page({ title: 'Listings — console', path: '/admin/listings', main, status: extra.status }, human);
  };
  const profilesView = (human: HumanCaller, n: number, extra: { errors?: FormError[]; done?: string | null; status?: number } = {}) => {
    const { items, total } = Admin.listProfiles(deps, { page: n, limit: PER_PAGE });
    const main = profilesAdminPage(items, total, { csrf: human.csrfToken, page: n, pages: Math.max(1, Math.ceil(total / PER_PAGE)), errors: extra.errors, done: extra.done });
    return page({ title: 'Profiles — console', path: '/admin/profiles', main, status: extra.status }, human);
  };
  const categoriesView = (human: HumanCaller, extra: { errors?: FormError[]; done?: string | null; status?: number; form?: { slug?: string; name?: string } } = {}) =>
    page({ title: 'Categories — console', path: '/admin/categories', status: extra.status, main: categoriesAdminPage(Listings.listCategories(deps), { csrf: human.csrfToken, ...extra }) }, human);
  const settingsView = (human: HumanCaller, extra: { errors?: FormError[]; done?: string | null; status?: number } = {}) =>
    page({ title: 'Settings — console', path: '/admin/settings', status: extra.status, main: settingsPage(Admin.getSettings(deps), human.csrfToken, extra.errors, extra.done) }, human);
  const refundsView = (human: HumanCaller, extra: { errors?: FormError[]; done?: string | null; status?: number } = {}) =>
    page({ title: 'Refunds — console', path: '/admin/refunds', status: extra.status, main: refundsAdminPage(Payments.listRefunds(deps), { csrf: human.csrfToken, ...extra }) }, human);

  return new Elysia({ name: 'web-operator' })
    .get(
      '/admin',
      ({ request, path }) => {
        const human = operator(request, path);
        if (human instanceof Response) return human;
        const o = Admin.overview(deps, pingDatabase(deps.db.sqlite));
        const actors = Identity.getProfiles(deps, [...new Set(o.audit_log.map((a) => a.actor_profile_id))]);
        const names = new Map([...actors].map(([id, p]) => [id, Identity.profileSummary(p).display_name]));
        return page({ title: 'Operator console', path, main: overviewPage(o, names) }, human);
      },
      HIDDEN,
    )
    .get('/admin/listings', ({ request, path, query }) => {
      const human = operator(request, path);
      return human instanceof Response ? human : listingsView(human, pageOf(query), { done: doneOf(query) });
    }, HIDDEN)
    .post('/admin/listings/:id/status', ({ request, body, params }) => {
      const human = operatorPost(request, body, '/admin/listings');
      if (human instanceof Response) return human;
      const input = statusBody.safeParse({ status: field(body, 'status') });
      if (!input.success) return listingsView(human, 1, { errors: [{ message: 'Choose suspend or restore.' }], status: 400 });
      try {
        Admin.setListingStatus(deps, human.profileId, params.id, input.data.status);
        return redirect(`/admin/listings?done=${input.data.status === 'suspended' ? 'suspended' : 'restored'}`);
      } catch (error) {
        const e = asFormError(error);
        return listingsView(human, 1, { errors: [{ message: e.message }], status: e.status });
      }
    }, HIDDEN)
    .get('/admin/profiles', ({ request, path, query }) => {
      const human = operator(request, path);
      return human instanceof Response ? human : profilesView(human, pageOf(query), { done: doneOf(query) });
    }, HIDDEN)
    .post('/admin/profiles/:id/status', ({ request, body, params }) => {
      const human = operatorPost(request, body, '/admin/profiles');
      if (human instanceof Response) return human;
      const input = statusBody.safeParse({ status: field(body, 'status') });
      if (!input.success) return profilesView(human, 1, { errors: [{ message: 'Choose suspend or restore.' }], status: 400 });
      if (params.id === human.profileId) return profilesView(human, 1, { errors: [{ message: 'You cannot suspend your own operator account.' }], status: 409 });
      try {
        Admin.setProfileStatus(deps, human.profileId, params.id, input.data.status);
        return redirect(`/admin/profiles?done=${input.data.status === 'suspended' ? 'suspended' : 'restored'}`);
      } catch (error) {
        const e = asFormError(error);
        return profilesView(human, 1, { errors: [{ message: e.message }], status: e.status });
      }
    }, HIDDEN)
    .get('/admin/categories', ({ request, path, query }) => {
      const human = operator(request, path);
      return human instanceof Response ? human : categoriesView(human, { done: doneOf(query) });
    }, HIDDEN)
    .post('/admin/categories', ({ request, body }) => {
      const human = operatorPost(request, body, '/admin/categories');
      if (human instanceof Response) return human;
      const form = { slug: field(body, 'slug'), name: field(body, 'name') };
      const input = categoryBody.safeParse(form);
      if (!input.success) {
        const errors = fieldErrors(input.error, { slug: 'Slug', name: 'Name' }).map((e) => (e.field === 'name' ? { ...e, field: 'new-name' } : e));
        return categoriesView(human, { errors, status: 400, form });
      }
      try {
        Admin.addCategory(deps, human.profileId, input.data);
        return redirect('/admin/categories?done=added');
      } catch (error) {
        const e = asFormError(error);
        return categoriesView(human, { errors: [{ field: 'slug', message: e.message }], status: e.status, form });
      }
    }, HIDDEN)
    .post('/admin/categories/:slug', ({ request, body, params }) => {
      const human = operatorPost(request, body, '/admin/categories');
      if (human instanceof Response) return human;
      const retire = field(body, 'retired') === 'true';
      const name = field(body, 'name').trim();
      if (!retire && (name.length < 1 || name.length > 60)) return categoriesView(human, { errors: [{ message: 'A category name has 1 to 60 characters.' }], status: 400 });
      try {
        Admin.patchCategory(deps, human.profileId, params.slug, retire ? { retired: true } : { name });
        return redirect(`/admin/categories?done=${retire ? 'retired' : 'renamed'}`);
      } catch (error) {
        // e.g. 409 CATEGORY_IN_USE: retiring is refused while listings use the category.
        const e = asFormError(error);
        return categoriesView(human, { errors: [{ message: e.message }], status: e.status });
      }
    }, HIDDEN)
    .get('/admin/settings', ({ request, path, query }) => {
      const human = operator(request, path);
      return human instanceof Response ? human : settingsView(human, { done: doneOf(query) });
    }, HIDDEN)
    .post('/admin/settings', ({ request, body }) => {
      const human = operatorPost(request, body, '/admin/settings');
      if (human instanceof Response) return human;
      const raw = field(body, 'fee_bps').trim();
      const input = patchSettingsBody.safeParse({ fee_bps: /^\d{1,6}$/.test(raw) ? Number(raw) : raw });
      if (!input.success) return settingsView(human, { errors: [{ field: 'fee_bps', message: 'Fee: a whole number of basis points from 0 to 10000.' }], status: 400 });
      try {
        Admin.patchSettings(deps, human.profileId, input.data);
        return redirect('/admin/settings?done=saved');
      } catch (error) {
        const e = asFormError(error);
        return settingsView(human, { errors: [{ message: e.message }], status: e.status });
      }
    }, HIDDEN)
    .get('/admin/refunds', ({ request, path, query }) => {
      const human = operator(request, path);
      return human instanceof Response ? human : refundsView(human, { done: doneOf(query) });
    }, HIDDEN)
    .post('/admin/refunds/:refundId/mark', ({ request, body, params }) => {
      const human = operatorPost(request, body, '/admin/refunds');
      if (human instanceof Response) return human;
      const input = markBody.safeParse({ tx_ref: field(body, 'tx_ref') });
      if (!input.success) return refundsView(human, { errors: [{ field: `tx-${params.refundId}`, message: 'Refund transaction: enter the hash or signature of the refund payment.' }], status: 400 });
      try {
        Admin.markRefund(deps, human.profileId, params.refundId, input.data.tx_ref);
        return redirect('/admin/refunds?done=marked');
      } catch (error) {
        const e = asFormError(error);
        return refundsView(human, { errors: [{ message: e.message }], status: e.status });
      }
    }, HIDDEN);
}
