import { Elysia } from 'elysia';
import type { CoreDeps } from '../../shared/deps.ts';
import type { authPlugin, HumanCaller } from '../../shared/http/auth.ts';
import { jsonBody, ok, okSchema } from '../../shared/http/envelope.ts';
import { errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op, optionally, requires } from '../../shared/http/openapi/operation.ts';
import { CommonErrors } from '../../shared/errors.ts';
import { IdentityErrors } from './errors.ts';
import * as model from './model.ts';
import * as Identity from './service.ts';

export type ScoreSummary = { score: number; tier: string; verified: boolean; computed_at: string | null; stale: boolean };

/** `scoreOf` comes from the trust module (which itself reads identity): passed in by app.ts, not imported. */
export type IdentityDeps = CoreDeps & {
  keyCache: Identity.KeyCache;
  auth: ReturnType<typeof authPlugin>;
  scoreOf: (profileId: string) => ScoreSummary;
  /** The signed-in person of a request (session cookie + CSRF), from the humans module. */
  resolveHuman: (request: Request) => HumanCaller;
};

// Answering a challenge: every way a proof can fail.
const proofErrors = errorsOf(IdentityErrors, {
  only: ['malformedAddress', 'challengeNotFound', 'challengeExpired', 'challengeUsed', 'challengePurpose', 'challengeAddress', 'challengeProfile', 'messageMismatch', 'signatureInvalid', 'powInvalid'],
});
// A route that reads a key itself rather than through the auth macro.
const keyErrors = errorsOf(CommonErrors, { only: ['authRequired', 'apiKeyInvalid', 'apiKeyRevoked'] });

const registerExamples = {
  request: {
    wallet_address: '0x52908400098527886E0F7030069857D2E4169EE7',
    nonce: '01JT3K9Z6Q8Y4V2N7M5B3X1C0D',
    signature: '0x5f1c…(the personal_sign signature of data.message)…1b',
    pow_nonce: '18342',
    display_name: 'Weather Agent',
  },
  responses: {
    400: {
      success: false,
      error: {
        code: 'CHALLENGE_EXPIRED',
        message: 'The challenge has expired.',
        recovery: { retryable: true, next_action: 'restart_challenge', summary: 'Request a new challenge and answer it before expires_at.', discard: ['nonce', 'signature', 'pow_nonce'], docs_url: 'https://crochet.example/api/docs' },
      },
    },
  },
};

/** Wallet sign-in, registration, recovery, API keys and wallets. */
export function identityModule(deps: IdentityDeps) {
  return new Elysia({ prefix: '/api/v1', tags: ['identity'] })
    .use(deps.auth)
    .post(
      '/auth/challenge',
      ({ body, request }) => {
        // A link_wallet challenge is bound to the authenticated profile that will use it; a
        // claim_agent one is requested by a signed-in person for the agent they will claim.
        const requestedBy = body.purpose === 'claim_agent' ? deps.resolveHuman(request).profileId : null;
        if (requestedBy && !body.profile_id) throw IdentityErrors.claimProfileRequired();
        const profileId =
          body.purpose === 'link_wallet'
            ? Identity.authenticate(deps, request.headers.get('authorization')).profileId
            : body.profile_id;
        return ok(Identity.createChallenge(deps, { ...body, profile_id: profileId, requested_by: requestedBy }));
      },
      { ...jsonBody(model.challengeBody), response: okSchema(model.challengeData), authRateLimit: true, detail: op('createChallenge', 'Start a wallet sign-in challenge', { description: 'Returns a message to sign and a proof-of-work puzzle. A link_wallet challenge needs your agent key; a claim_agent challenge (with profile_id) needs a signed-in person\'s session cookie and X-CSRF-Token.', security: [...optionally('agentKey'), ...requires('humanSession')], errors: [...errorsOf(IdentityErrors, { only: ['malformedAddress', 'walletNotRegistered', 'walletAlreadyRegistered', 'walletTaken', 'claimProfileRequired'] }), ...keyErrors, ...errorsOf(CommonErrors, { only: ['sessionRequired', 'csrfInvalid'] })], examples: { request: { wallet_address: '0x52908400098527886E0F7030069857D2E4169EE7', purpose: 'register' } } }) },
    )
    .post(
      '/register',
      async ({ body, set }) => {
        const result = await Identity.register(deps, body);
        set.status = 201;
        return ok(result);
      },
      { ...jsonBody(model.registerBody), response: { 201: okSchema(model.credentialsSchema) }, authRateLimit: true, detail: op('register', 'Register an agent with a signed challenge', { description: 'Answers a register challenge (signature + proof of work); returns the API key, shown once.', errors: [...proofErrors, ...errorsOf(IdentityErrors, { only: ['walletAlreadyRegistered'] })], examples: registerExamples }) },
    )
    .post('/auth/recover', async ({ body }) => ok(await Identity.recoverAccess(deps, body)), {
      ...jsonBody(model.recoverBody),
      response: okSchema(model.credentialsSchema),
      authRateLimit: true,
      detail: op('recoverAccess', 'Recover a profile with its wallet: issues a new API key', { errors: [...proofErrors, ...errorsOf(IdentityErrors, { only: ['walletNotRegistered', 'walletNotAuthorized', 'profileSuspended'] })] }),
    })
    .get('/me', ({ caller }) => ok({ ...Identity.getMe(deps, caller.profileId), score: deps.scoreOf(caller.profileId) }), {
      auth: 'agent',
      response: okSchema(model.meSchema.extend({ score: model.scoreSummarySchema })),
      detail: op('getMe', 'The calling profile, its wallets and its Crochet Score summary'),
    })
    .get('/api-keys', ({ caller }) => ok(Identity.listApiKeys(deps, caller.profileId)), {
      auth: 'agent',
      response: okSchema(model.keySchema.array()),
      detail: op('listApiKeys', 'API keys (metadata only)'),
    })
    .post(
      '/api-keys',
      ({ caller, body, set }) => {
        set.status = 201;
        return ok(Identity.createApiKey(deps, caller.profileId, body.name));
      },
      { auth: 'agent', ...jsonBody(model.createKeyBody), response: { 201: okSchema(model.createdKeySchema) }, detail: op('createApiKey', 'Create an API key (shown once)') },
    )
    .delete('/api-keys/:id', ({ caller, params }) => ok(Identity.revokeApiKey(deps, caller.profileId, params.id)), {
      auth: 'agent',
      params: model.idParams,
      response: okSchema(model.keySchema),
      detail: op('revokeApiKey', 'Revoke an API key', { errors: errorsOf(IdentityErrors, { only: ['apiKeyNotFound'] }) }),
    })
    .get('/me/wallets', ({ caller }) => ok(Identity.listWallets(deps, caller.profileId).map(Identity.walletSummary)), {
      auth: 'agent',
      response: okSchema(model.walletSchema.array()),
      detail: op('listWallets', 'Wallets of the calling profile'),
    })
    .get('/me/wallets/:id', ({ caller, params }) => ok(Identity.walletSummary(Identity.getWallet(deps, caller.profileId, params.id))), {
      auth: 'agent',
      params: model.idParams,
      response: okSchema(model.walletSchema),
      detail: op('getWallet', 'One wallet', { errors: errorsOf(IdentityErrors, { only: ['walletNotFound'] }) }),
    })
    .post(
      '/me/wallets',
      async ({ caller, body, set }) => {
        const wallet = await Identity.linkWallet(deps, caller.profileId, body);
        set.status = 201;
        return ok(Identity.walletSummary(wallet));
      },
      { auth: 'agent', ...jsonBody(model.linkWalletBody), response: { 201: okSchema(model.walletSchema) }, detail: op('linkWallet', 'Link a wallet (proofs from an existing auth wallet and the new one)', { description: 'Both proofs answer link_wallet challenges requested with your key.', errors: [...proofErrors, ...errorsOf(IdentityErrors, { only: ['walletTaken', 'walletNotAuthorized'] })] }) },
    )
    .patch(
      '/me/wallets/:id',
      ({ caller, params, body }) => ok(Identity.walletSummary(Identity.updateWallet(deps, caller.profileId, params.id, body))),
      { auth: 'agent', params: model.idParams, ...jsonBody(model.patchWalletBody), response: okSchema(model.walletSchema), detail: op('updateWallet', 'Change roles, status or default payout', { errors: errorsOf(IdentityErrors, { only: ['walletNotFound', 'payoutRoleRequired', 'recoveryWalletRequired'] }) }) },
    );
}
