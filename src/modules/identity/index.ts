import { Elysia } from 'elysia';
import type { CoreDeps } from '../../shared/deps.ts';
import type { authPlugin } from '../../shared/http/auth.ts';
import { jsonBody, ok, okSchema } from '../../shared/http/envelope.ts';
import * as model from './model.ts';
import * as Identity from './service.ts';

export type ScoreSummary = { score: number; tier: string; verified: boolean; computed_at: string | null; stale: boolean };

/** `scoreOf` comes from the trust module (which itself reads identity): passed in by app.ts, not imported. */
export type IdentityDeps = CoreDeps & { keyCache: Identity.KeyCache; auth: ReturnType<typeof authPlugin>; scoreOf: (profileId: string) => ScoreSummary };

/** Wallet sign-in, registration, recovery, API keys and wallets. */
export function identityModule(deps: IdentityDeps) {
  return new Elysia({ prefix: '/api/v1', tags: ['identity'] })
    .use(deps.auth)
    .post(
      '/auth/challenge',
      ({ body, request }) => {
        // A link_wallet challenge is bound to the authenticated profile that will use it.
        const profileId =
          body.purpose === 'link_wallet'
            ? Identity.authenticate(deps, request.headers.get('authorization')).profileId
            : body.profile_id;
        return ok(Identity.createChallenge(deps, { ...body, profile_id: profileId }));
      },
      { ...jsonBody(model.challengeBody), response: okSchema(model.challengeData), authRateLimit: true, detail: { summary: 'Start a wallet sign-in challenge' } },
    )
    .post(
      '/register',
      async ({ body, set }) => {
        const result = await Identity.register(deps, body);
        set.status = 201;
        return ok(result);
      },
      { ...jsonBody(model.registerBody), response: { 201: okSchema(model.credentialsSchema) }, authRateLimit: true, detail: { summary: 'Register an agent with a signed challenge' } },
    )
    .post('/auth/recover', async ({ body }) => ok(await Identity.recoverAccess(deps, body)), {
      ...jsonBody(model.recoverBody),
      response: okSchema(model.credentialsSchema),
      authRateLimit: true,
      detail: { summary: 'Recover a profile with its wallet: issues a new API key' },
    })
    .get('/me', ({ caller }) => ok({ ...Identity.getMe(deps, caller.profileId), score: deps.scoreOf(caller.profileId) }), {
      auth: 'agent',
      response: okSchema(model.meSchema.extend({ score: model.scoreSummarySchema })),
      detail: { summary: 'The calling profile, its wallets and its Crochet Score summary' },
    })
    .get('/api-keys', ({ caller }) => ok(Identity.listApiKeys(deps, caller.profileId)), {
      auth: 'agent',
      response: okSchema(model.keySchema.array()),
      detail: { summary: 'API keys (metadata only)' },
    })
    .post(
      '/api-keys',
      ({ caller, body, set }) => {
        set.status = 201;
        return ok(Identity.createApiKey(deps, caller.profileId, body.name));
      },
      { auth: 'agent', ...jsonBody(model.createKeyBody), response: { 201: okSchema(model.createdKeySchema) }, detail: { summary: 'Create an API key (shown once)' } },
    )
    .delete('/api-keys/:id', ({ caller, params }) => ok(Identity.revokeApiKey(deps, caller.profileId, params.id)), {
      auth: 'agent',
      params: model.idParams,
      response: okSchema(model.keySchema),
      detail: { summary: 'Revoke an API key' },
    })
    .get('/me/wallets', ({ caller }) => ok(Identity.listWallets(deps, caller.profileId).map(Identity.walletSummary)), {
      auth: 'agent',
      response: okSchema(model.walletSchema.array()),
      detail: { summary: 'Wallets of the calling profile' },
    })
    .get('/me/wallets/:id', ({ caller, params }) => ok(Identity.walletSummary(Identity.getWallet(deps, caller.profileId, params.id))), {
      auth: 'agent',
      params: model.idParams,
      response: okSchema(model.walletSchema),
      detail: { summary: 'One wallet' },
    })
    .post(
      '/me/wallets',
      async ({ caller, body, set }) => {
        const wallet = await Identity.linkWallet(deps, caller.profileId, body);
        set.status = 201;
        return ok(Identity.walletSummary(wallet));
      },
      { auth: 'agent', ...jsonBody(model.linkWalletBody), response: { 201: okSchema(model.walletSchema) }, detail: { summary: 'Link a wallet (proofs from an existing auth wallet and the new one)' } },
    )
    .patch(
      '/me/wallets/:id',
      ({ caller, params, body }) => ok(Identity.walletSummary(Identity.updateWallet(deps, caller.profileId, params.id, body))),
      { auth: 'agent', params: model.idParams, ...jsonBody(model.patchWalletBody), response: okSchema(model.walletSchema), detail: { summary: 'Change roles, status or default payout' } },
    );
}
