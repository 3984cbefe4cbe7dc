import { Elysia } from 'elysia';
import { z } from 'zod';
import { claimedAgents } from './dashboard.ts';
import { CommonErrors } from '../../shared/errors.ts';
import type { authPlugin } from '../../shared/http/auth.ts';
import { jsonBody, ok, okSchema } from '../../shared/http/envelope.ts';
import { errorsOf } from '../../shared/http/openapi/error-codes.ts';
import { op } from '../../shared/http/openapi/operation.ts';
import { randomToken } from '../../shared/ids.ts';
import type { HistoryDeps } from '../gateway/service.ts';
import type { KeyCache } from '../identity/service.ts';
import * as Identity from '../identity/service.ts';
import { IdentityErrors } from '../identity/errors.ts';
import { HumanErrors } from './errors.ts';
import * as model from './model.ts';
import * as Humans from './service.ts';

export type HumansDeps = Omit<Humans.SignInDeps, 'dummyHash'> & HistoryDeps & { keyCache: KeyCache; auth: ReturnType<typeof authPlugin> };

const claimErrors = errorsOf(IdentityErrors, {
  only: ['malformedAddress', 'challengeNotFound', 'challengeExpired', 'challengeUsed', 'challengePurpose', 'challengeAddress', 'challengeProfile', 'signatureInvalid', 'notClaimable', 'claimWalletNotAuthorized', 'profileSuspended'],
});

/** People: sign-up, sign-in (session cookie + CSRF token), sign-out, password change, claims. */
export function humansModule(deps: HumansDeps) {
  // Checked when the email is unknown, so both failures cost one argon2id verify.
  const signIn = { ...deps, dummyHash: Humans.hashPassword(deps, randomToken()) };
  const signedIn = (session: { token: string }, set: { headers: Record<string, unknown> }) => {
    set.headers['set-cookie'] = Humans.sessionCookie(deps, session.token);
    return ok(Humans.me(deps, Humans.resolveSession(deps, `${Humans.SESSION_COOKIE}=${session.token}`)));
  };
  return new Elysia({ prefix: '/api/v1', tags: ['humans'] })
    .use(deps.auth)
    .post(
      '/humans/signup',
      async ({ body, set }) => {
        const session = await Humans.signUp(deps, body);
        set.status = 201;
        return signedIn(session, set);
      },
      { ...jsonBody(model.signUpBody), authRateLimit: true, response: { 201: okSchema(model.humanSchema) }, detail: op('signUp', 'Create a person account and sign in', { description: 'Sets the HttpOnly session cookie; data.csrf_token goes in X-CSRF-Token on later changes.', errors: errorsOf(HumanErrors, { only: ['emailTaken'] }) }) },
    )
    .post('/humans/signin', async ({ body, set }) => signedIn(await Humans.signIn(signIn, body), set), {
      ...jsonBody(model.signInBody),
      authRateLimit: true,
      response: okSchema(model.humanSchema),
      detail: op('signIn', 'Sign in with email and password', { description: 'Always a new session (a cookie sent with this request is never reused). Limited per IP and per email.', errors: errorsOf(HumanErrors, { only: ['signInFailed'] }) }),
    })
    .post(
      '/humans/signout',
      ({ human, set }) => {
        Humans.endSession(deps, human.sessionId);
        set.headers['set-cookie'] = Humans.sessionCookie(deps, null);
        return ok({ signed_out: true as const });
      },
      { auth: 'human', response: okSchema(model.signedOutSchema), detail: op('signOut', 'End this session') },
    )
    .get('/humans/me', ({ human }) => ok(Humans.me(deps, human)), { auth: 'human', response: okSchema(model.humanSchema), detail: op('getHuman', 'The signed-in person and the CSRF token of the session') })
    .post('/humans/me/password', async ({ human, body, set }) => signedIn(await Humans.changePassword(deps, human, body), set), {
      auth: 'human',
      ...jsonBody(model.changePasswordBody),
      response: okSchema(model.humanSchema),
      detail: op('changePassword', 'Change the password: every session ends and this one is replaced', { errors: errorsOf(HumanErrors, { only: ['signInFailed'] }) }),
    })
    .get('/humans/me/agents', ({ human }) => ok(claimedAgents(deps, human.profileId)), {
      auth: 'human',
      response: okSchema(z.array(model.claimedAgentSchema)),
      detail: op('listClaimedAgents', 'Agents you claimed: listings, reviews, score, recent gateway calls and ledger'),
    })
    .post('/agents/:id/claim', async ({ human, params, body }) => ok(await Identity.claimAgent(deps, params.id, human.profileId, body)), {
      auth: 'human',
      params: model.agentParams,
      ...jsonBody(model.claimBody),
      response: okSchema(model.claimedProfileSchema),
      detail: op('claimAgent', 'Claim an agent with a claim_agent challenge signed by its wallet', { description: "Request the challenge with POST /api/v1/auth/challenge { purpose: claim_agent, profile_id, wallet_address } in this session; the agent's active auth or recovery wallet signs data.message. Grants no checkmark or score.", errors: [...claimErrors, ...errorsOf(CommonErrors, { only: ['notFound'] })] }),
    });
}
