/**
 * Pages for people: sign-up, sign-in, sign-out, the dashboard, claiming an agent, first-run setup.
 * Plain HTML forms that post back here and redirect (they work without script); every form of a
 * signed-in person carries the session's CSRF token, and sign-in/sign-up posts must come from this
 * site (Origin). The session token lives only in its HttpOnly cookie.
 */
import { Elysia } from 'elysia';
import type { z } from 'zod';
import { AppError } from '../../shared/app-error.ts';
import type { HumanCaller } from '../../shared/http/auth.ts';
import { clientIp } from '../../shared/http/auth.ts';
import { randomToken } from '../../shared/ids.ts';
import type { RateLimiter } from '../../shared/rate-limit.ts';
import * as Admin from '../admin/service.ts';
import type { HistoryReadDeps } from '../gateway/outcomes.ts';
import * as Humans from '../humans/service.ts';
import { setupBody, signInBody, signUpBody } from '../humans/model.ts';
import * as Identity from '../identity/service.ts';
import { pageResponse, type PageOptions } from './layout.ts';
import { field, formTokenValid, humanOf, redirect, safeNext, sameOrigin, toSignIn, viewerOf } from './session.ts';
import { formExpiredPage, setupPage, signInPage, signUpPage, tooManyAttempts } from './views/account.ts';
import { claimPage, dashboardPage } from './views/dashboard.ts';
import { fieldErrors, type FormError } from './views/forms.ts';

export type PagesDeps = Omit<Humans.SignInDeps, 'dummyHash'> & HistoryReadDeps & Admin.AdminDeps & { authIpLimiter: RateLimiter };

const HIDDEN = { detail: { hide: true } };
const ACCOUNT_LABELS = { email: 'Email', password: 'Password', display_name: 'Your name' };

/** Notices shown after a redirect, by key (never text from the address bar). */
const DONE: Record<string, string> = { claimed: 'Agent claimed: it now shows below.', signed_up: 'Welcome! Your account is ready.' };

type Ctx = { request: Request; body: unknown; server: { requestIP(r: Request): { address: string } | null } | null };

/** The form's fields as the API model reads them (only the model's own keys). */
const parse = <T extends z.ZodType>(schema: T, body: unknown) => schema.safeParse(typeof body === 'object' && body !== null ? body : {});

export function peoplePages(deps: PagesDeps) {
  // As in the API: an unknown email costs one argon2id verify too, so timing tells nothing.
  const signInDeps = { ...deps, dummyHash: Humans.hashPassword(deps, randomToken()) };
  const page = (o: PageOptions, human: HumanCaller | null) => pageResponse({ ...o, viewer: viewerOf(deps, human) });
  /** The per-IP limit of the sign-in routes; a refusal as a page with Retry-After. */
  const limited = (ctx: Ctx, render: (errors: FormError[]) => PageOptions): Response | null => {
    const wait = deps.authIpLimiter.hit(clientIp(ctx.server, ctx.request));
    return wait === null ? null : pageResponse({ ...render([tooManyAttempts(wait)]), status: 429, headers: { 'retry-after': String(wait) } });
  };
  const crossSite = (path: string) => pageResponse({ title: 'Form refused', path, main: formExpiredPage(path), status: 403 });

  const signUpView = (errors: FormError[], body: unknown, status = 400): PageOptions => ({
    title: 'Sign up', path: '/signup', status, main: signUpPage({ email: field(body, 'email'), display_name: field(body, 'display_name'), errors }),
  });
  const signInView = (errors: FormError[], body: unknown, status = 400): PageOptions => ({
    title: 'Sign in', path: '/signin', status, main: signInPage({ email: field(body, 'email'), next: field(body, 'next'), errors }),
  });

  return new Elysia({ name: 'web-people' })
    .get('/signup', ({ request }) => (humanOf(deps, request) ? redirect('/dashboard') : pageResponse(signUpView([], {}, 200))), HIDDEN)
    .post(
      '/signup',
      async (ctx) => {
        if (!sameOrigin(ctx.request, deps.config.public_url)) return crossSite('/signup');
        const refused = limited(ctx, (e) => signUpView(e, ctx.body));
        if (refused) return refused;
        const input = parse(signUpBody, ctx.body);
        if (!input.success) return pageResponse(signUpView(fieldErrors(input.error, ACCOUNT_LABELS), ctx.body));
        try {
          const session = await Humans.signUp(deps, input.data);
          return redirect('/dashboard', Humans.sessionCookie(deps, session.token));
        } catch (error) {
          if (error instanceof AppError && error.code === 'EMAIL_TAKEN') return pageResponse(signUpView([{ field: 'email', message: `${error.message} Sign in instead.` }], ctx.body, 409));
          throw error;
        }
      },
      HIDDEN,
    )
    .get(
      '/signin',
      ({ request, query }) => (humanOf(deps, request) ? redirect(safeNext(query['next'])) : pageResponse({ ...signInView([], { next: typeof query['next'] === 'string' ? query['next'] : '' }, 200) })),
      HIDDEN,
    )
    .post(
      '/signin',
      async (ctx) => {
        if (!sameOrigin(ctx.request, deps.config.public_url)) return crossSite('/signin');
        const refused = limited(ctx, (e) => signInView(e, ctx.body));
        if (refused) return refused;
        const input = parse(signInBody, ctx.body);
        if (!input.success) return pageResponse(signInView(fieldErrors(input.error, ACCOUNT_LABELS), ctx.body));
        try {
          // Always a new session: a cookie planted before sign-in is never the one after.
          const session = await Humans.signIn(signInDeps, input.data);
          return redirect(safeNext(field(ctx.body, 'next')), Humans.sessionCookie(deps, session.token));
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          if (error.code === 'RATE_LIMITED') {
            const wait = Number(error.headers?.['Retry-After'] ?? 60);
            return pageResponse({ ...signInView([tooManyAttempts(wait)], ctx.body), status: 429, headers: { 'retry-after': String(wait) } });
          }
          if (error.code === 'SIGN_IN_FAILED') return pageResponse(signInView([{ message: error.message }], ctx.body, 401));
          throw error;
        }
      },
      HIDDEN,
    )
    .post(
      '/signout',
      ({ request, body }) => {
        const human = humanOf(deps, request);
        if (!human) return redirect('/');
        if (!formTokenValid(human, body)) return page({ title: 'Form expired', path: '/signout', main: formExpiredPage('/dashboard'), status: 403 }, human);
        Humans.endSession(deps, human.sessionId);
        return redirect('/', Humans.sessionCookie(deps, null));
      },
      HIDDEN,
    )
    .get(
      '/dashboard',
      ({ request, query, path }) => {
        const human = humanOf(deps, request);
        if (!human) return toSignIn(path);
        const me = Humans.me(deps, human);
        const done = typeof query['done'] === 'string' ? DONE[query['done']] : null;
        return page({ title: 'Dashboard', path, main: dashboardPage({ name: me.display_name, email: me.email, agents: Humans.claimedAgents(deps, human.profileId), notice: done }) }, human);
      },
      HIDDEN,
    )
    .get(
      '/dashboard/claim',
      ({ request, path }) => {
        const human = humanOf(deps, request);
        if (!human) return toSignIn(path);
        return page({ title: 'Claim an agent', path, main: claimPage({ csrf: human.csrfToken }) }, human);
      },
      HIDDEN,
    )
    .post(
      '/dashboard/claim/challenge',
      (ctx) => {
        const human = humanOf(deps, ctx.request);
        if (!human) return toSignIn('/dashboard/claim');
        const view = (errors: FormError[], status: number) =>
          page({ title: 'Claim an agent', path: '/dashboard/claim', status, main: claimPage({ csrf: human.csrfToken, profile_id: field(ctx.body, 'profile_id'), wallet_address: field(ctx.body, 'wallet_address'), errors }) }, human);
        if (!formTokenValid(human, ctx.body)) return page({ title: 'Form expired', path: '/dashboard/claim', main: formExpiredPage('/dashboard/claim'), status: 403 }, human);
        const wait = deps.authIpLimiter.hit(clientIp(ctx.server, ctx.request));
        if (wait !== null) return view([tooManyAttempts(wait)], 429);
        const profileId = field(ctx.body, 'profile_id').trim();
        const wallet = field(ctx.body, 'wallet_address').trim();
        const missing: FormError[] = [
          ...(profileId ? [] : [{ field: 'profile_id', message: 'Agent profile id: enter the id of the agent to claim.' }]),
          ...(wallet ? [] : [{ field: 'wallet_address', message: 'Agent wallet address: enter one of the agent\'s wallets.' }]),
        ];
        if (missing.length > 0 || profileId.length > 64 || wallet.length > 100) return view(missing.length > 0 ? missing : [{ message: 'The profile id or wallet address is too long.' }], 400);
        // Refused before any message is issued: a profile that is unknown, a person, or already claimed.
        const agent = Identity.getProfile(deps, profileId);
        if (!agent) return view([{ field: 'profile_id', message: 'Agent profile id: no agent has this id on this marketplace.' }], 404);
        if (agent.accountType !== 'agent' || agent.claimedBy) return view([{ field: 'profile_id', message: 'Agent profile id: this profile is a person or already claimed.' }], 409);
        try {
          const challenge = Identity.createChallenge(deps, { wallet_address: wallet, purpose: 'claim_agent', profile_id: profileId, requested_by: human.profileId });
          return page({ title: 'Sign the claim', path: '/dashboard/claim', main: claimPage({ csrf: human.csrfToken, profile_id: profileId, wallet_address: wallet, challenge }) }, human);
        } catch (error) {
          if (error instanceof AppError && error.status < 500) return view([{ field: 'wallet_address', message: error.message }], error.status);
          throw error;
        }
      },
      HIDDEN,
    )
    .post(
      '/dashboard/claim',
      async (ctx) => {
        const human = humanOf(deps, ctx.request);
        if (!human) return toSignIn('/dashboard/claim');
        if (!formTokenValid(human, ctx.body)) return page({ title: 'Form expired', path: '/dashboard/claim', main: formExpiredPage('/dashboard/claim'), status: 403 }, human);
        const profileId = field(ctx.body, 'profile_id').trim();
        const proof = { wallet_address: field(ctx.body, 'wallet_address').trim(), nonce: field(ctx.body, 'nonce'), signature: field(ctx.body, 'signature').trim() };
        try {
          if (!profileId || !proof.nonce) throw new AppError(400, 'CLAIM_INCOMPLETE', 'Start with the agent and wallet to get a message to sign.');
          if (!proof.signature) throw new AppError(400, 'SIGNATURE_REQUIRED', 'Paste the wallet\'s signature of the message.');
          await Identity.claimAgent(deps, profileId, human.profileId, proof);
          return redirect('/dashboard?done=claimed');
        } catch (error) {
          if (!(error instanceof AppError) || error.status >= 500) throw error;
          // The message stays on the server; a new one is one click away with the same fields.
          const errors: FormError[] = [{ message: `${error.message} Get a new message and sign it again.` }];
          return page({ title: 'Claim an agent', path: '/dashboard/claim', status: error.status, main: claimPage({ csrf: human.csrfToken, profile_id: profileId, wallet_address: proof.wallet_address, errors }) }, human);
        }
      },
      HIDDEN,
    )
    .get(
      '/setup',
      ({ request, query, path }) => {
        const token = typeof query['token'] === 'string' ? query['token'] : '';
        const open = Admin.setupTokenValid(deps, token);
        return page({ title: 'Set up', path, status: open ? 200 : 403, main: setupPage({ token, open }) }, humanOf(deps, request));
      },
      HIDDEN,
    )
    .post(
      '/setup',
      async (ctx) => {
        if (!sameOrigin(ctx.request, deps.config.public_url)) return crossSite('/setup');
        const token = field(ctx.body, 'token');
        const view = (errors: FormError[], status: number): PageOptions => ({
          title: 'Set up', path: '/setup', status, main: setupPage({ token, open: true, email: field(ctx.body, 'email'), display_name: field(ctx.body, 'display_name'), errors }),
        });
        const refused = limited(ctx, (e) => view(e, 429));
        if (refused) return refused;
        const input = parse(setupBody, ctx.body);
        if (!input.success) return pageResponse(view(fieldErrors(input.error, ACCOUNT_LABELS), 400));
        try {
          const session = await Admin.completeSetup(deps, input.data);
          return redirect('/admin', Humans.sessionCookie(deps, session.token));
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          if (error.code === 'SETUP_TOKEN_INVALID') return pageResponse({ title: 'Set up', path: '/setup', status: 403, main: setupPage({ token: '', open: false }) });
          if (error.code === 'EMAIL_TAKEN') return pageResponse(view([{ field: 'email', message: error.message }], 409));
          throw error;
        }
      },
      HIDDEN,
    );
}
