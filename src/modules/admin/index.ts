import { Elysia } from 'elysia';
import { z } from 'zod';
import { pingDatabase } from '../../db/open.ts';
import { CommonErrors } from '../../shared/errors.ts';
import type { authPlugin } from '../../shared/http/auth.ts';
import { jsonBody, ok, okSchema, paged, pagedSchema } from '../../shared/http/envelope.ts';
import { errorOf, errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op } from '../../shared/http/openapi/operation.ts';
import { HumanErrors } from '../humans/errors.ts';
import { humanSchema } from '../humans/model.ts';
import * as Humans from '../humans/service.ts';
import { ListingErrors } from '../listings/errors.ts';
import * as Listings from '../listings/service.ts';
import { PaymentErrors } from '../payments/errors.ts';
import * as Payments from '../payments/service.ts';
import * as model from './model.ts';
import * as Admin from './service.ts';
import * as Settings from './settings.ts';

export type AdminModuleDeps = Admin.AdminDeps & { auth: ReturnType<typeof authPlugin> };

const notFound = errorsOf(CommonErrors, { only: ['notFound'] });

/** The operator console's JSON API: first-run setup, overview, suspensions, categories, refunds. */
export function adminModule(deps: AdminModuleDeps) {
  return new Elysia({ prefix: '/api/v1/admin', tags: ['admin'] })
    .use(deps.auth)
    .post(
      '/setup',
      async ({ body, set }) => {
        const session = await Admin.completeSetup(deps, body);
        set.status = 201;
        set.headers['set-cookie'] = Humans.sessionCookie(deps, session.token);
        return ok(Humans.me(deps, Humans.resolveSession(deps, `${Humans.SESSION_COOKIE}=${session.token}`)));
      },
      { ...jsonBody(model.setupBody), authRateLimit: true, response: { 201: okSchema(humanSchema) }, detail: op('completeSetup', 'First run: create the first admin with the token of the logged setup URL', { description: 'Works once, and only while no admin exists. Signs the new admin in.', errors: errorsOf(HumanErrors, { only: ['setupTokenInvalid', 'emailTaken'] }) }) },
    )
    .get('/overview', () => ok(Admin.overview(deps, pingDatabase(deps.db.sqlite))), { auth: 'admin', response: okSchema(model.overviewSchema), detail: op('getAdminOverview', 'Health, version, counts, ledger head, refunds due, payment routes (RPC hosts only) and the audit log') })
    .get(
      '/listings',
      ({ query }) => {
        const { items, total } = Listings.listAllListings(deps, query);
        return paged(items, query.page, query.limit, total);
      },
      { auth: 'admin', query: model.pageQuery, response: pagedSchema(model.adminListingSchema), detail: op('listAdminListings', 'Every listing, any owner and status, newest first') },
    )
    .patch('/listings/:id', ({ human, params, body }) => ok(Admin.setListingStatus(deps, human.profileId, params.id, body.status)), {
      auth: 'admin',
      params: model.idParams,
      ...jsonBody(model.statusBody),
      response: okSchema(model.statusChangeSchema),
      detail: op('setListingStatus', 'Suspend a listing or restore it to active', { errors: errorsOf(ListingErrors, { only: ['notFound'] }) }),
    })
    .get(
      '/profiles',
      ({ query }) => {
        const { items, total } = Admin.listProfiles(deps, query);
        return paged(items, query.page, query.limit, total);
      },
      { auth: 'admin', query: model.pageQuery, response: pagedSchema(model.adminProfileSchema), detail: op('listAdminProfiles', 'Every profile (agents and people), newest first') },
    )
    .patch('/profiles/:id', ({ human, params, body }) => ok(Admin.setProfileStatus(deps, human.profileId, params.id, body.status)), {
      auth: 'admin',
      params: model.idParams,
      ...jsonBody(model.statusBody),
      response: okSchema(model.adminProfileSchema),
      detail: op('setProfileStatus', "Suspend a profile (its keys get 403 PROFILE_SUSPENDED, its listings are treated as suspended) or restore it", { errors: notFound }),
    })
    .get('/categories', () => ok(Listings.listCategories(deps)), { auth: 'admin', response: okSchema(z.array(model.categorySchema)), detail: op('listAdminCategories', 'Categories') })
    .post(
      '/categories',
      ({ human, body, set }) => {
        set.status = 201;
        return ok(Admin.addCategory(deps, human.profileId, body));
      },
      { auth: 'admin', ...jsonBody(model.categoryBody), response: { 201: okSchema(model.categorySchema) }, detail: op('addCategory', 'Add a category', { errors: errorsOf(ListingErrors, { only: ['categoryExists'] }) }) },
    )
    .patch('/categories/:slug', ({ human, params, body }) => ok(Admin.patchCategory(deps, human.profileId, params.slug, body)), {
      auth: 'admin',
      params: model.slugParams,
      ...jsonBody(model.patchCategoryBody),
      response: okSchema(model.categorySchema),
      detail: op('updateCategory', 'Rename a category, or retire it (refused while any listing uses it)', { errors: [...notFound, ...errorsOf(ListingErrors, { only: ['categoryInUse'] })] }),
    })
    .get('/settings', () => ok(Settings.getSettings(deps)), { auth: 'admin', response: okSchema(model.settingsSchema), detail: op('getSettings', 'Instance settings; values set by env, flag or config file are marked fixed') })
    .patch('/settings', ({ human, body }) => ok(Settings.patchSettings(deps, human.profileId, body)), {
      auth: 'admin',
      ...jsonBody(model.patchSettingsBody),
      response: okSchema(model.settingsSchema),
      detail: op('updateSettings', 'Change the marketplace fee (new payment intents only)', { errors: [errorOf(Settings.settingFixed)] }),
    })
    .get('/refunds', () => ok(Payments.listRefunds(deps)), { auth: 'admin', response: okSchema(z.array(model.refundSchema)), detail: op('listAdminRefunds', 'Payments owed back to buyers (the same list as `crochet refunds list`)') })
    .post('/refunds/:refundId/mark', ({ human, params, body }) => ok(Admin.markRefund(deps, human.profileId, params.refundId, body.tx_ref)), {
      auth: 'admin',
      params: model.refundParams,
      ...jsonBody(model.markBody),
      response: okSchema(model.refundSchema),
      detail: op('markRefund', 'Record a refund paid on chain (the same operation as `crochet refunds mark`)', { errors: errorsOf(PaymentErrors, { only: ['refundNotFound'] }) }),
    });
}
