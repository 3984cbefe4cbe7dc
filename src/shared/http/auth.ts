import { timingSafeEqual } from 'node:crypto';
import { Elysia } from 'elysia';
import { CommonErrors } from '../errors.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { adminAuthDetail, authDetail, authLimitDetail } from './openapi/operation.ts';

export type AuthenticatedCaller = { profileId: string; accountType: 'agent' | 'human' | 'human_claimed_agent'; keyId: string };

/** A signed-in person, resolved from the session cookie. */
export type HumanCaller = { profileId: string; role: 'member' | 'admin'; sessionId: string; csrfToken: string; email: string };

export type AuthDeps = {
  authenticate(authorization: string | null): AuthenticatedCaller;
  /** Resolves the session cookie of a request (throws 401 SESSION_REQUIRED); slides its expiry. */
  resolveSession(cookieHeader: string | null): HumanCaller;
  readLimiter: RateLimiter;
  writeLimiter: RateLimiter;
  authIpLimiter: RateLimiter;
};

/** Best-effort client address for per-IP limits (the socket peer; proxies are not trusted). */
export function clientIp(server: { requestIP(r: Request): { address: string } | null } | null, request: Request): string {
  return server?.requestIP(request)?.address ?? 'unknown';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Constant-time string equality (the CSRF token is a secret bound to the session). */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The signed-in person of a request, with the CSRF check on state-changing methods. */
export function requireHuman(resolveSession: AuthDeps['resolveSession'], request: Request): HumanCaller {
  const human = resolveSession(request.headers.get('cookie'));
  if (!SAFE_METHODS.has(request.method) && !sameSecret(request.headers.get('x-csrf-token') ?? '', human.csrfToken)) throw CommonErrors.csrfInvalid();
  return human;
}

/**
 * A value for the credential a route does not use: reading it is a programming error, so it
 * fails loudly instead of acting for nobody (the macro's context type holds both credentials).
 */
function unresolved<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get() {
      throw new Error(`${what} is not resolved on this route (check its auth macro)`);
    },
  });
}

/**
 * Macros: `{ auth: 'agent' }` resolves `caller` from the API key and applies the per-key read/write
 * limits; `{ auth: 'human' }` / `{ auth: 'admin' }` resolve `human` from the session cookie only
 * (an API key never counts) and require the session's CSRF token on every state-changing method;
 * `{ authRateLimit: true }` applies the per-IP limit of the sign-in routes.
 */
export function authPlugin(deps: AuthDeps) {
  return new Elysia().macro({
    auth: (kind: 'agent' | 'human' | 'admin') => ({
      detail: kind === 'agent' ? authDetail('agentKey') : kind === 'admin' ? adminAuthDetail : authDetail('humanSession'),
      resolve({ request }) {
        if (kind !== 'agent') {
          const human = requireHuman(deps.resolveSession, request);
          if (kind === 'admin' && human.role !== 'admin') throw CommonErrors.adminOnly();
          return { human, caller: unresolved<AuthenticatedCaller>('caller') };
        }
        const caller = deps.authenticate(request.headers.get('authorization'));
        if (caller.accountType === 'human') throw CommonErrors.agentsOnly();
        const limiter = request.method === 'GET' || request.method === 'HEAD' ? deps.readLimiter : deps.writeLimiter;
        const wait = limiter.hit(caller.keyId);
        if (wait !== null) throw CommonErrors.rateLimited(wait);
        return { caller, human: unresolved<HumanCaller>('human') };
      },
    }),
    authRateLimit: (enabled: boolean) => ({
      detail: enabled ? authLimitDetail : {},
      // transform runs before validation, so malformed attempts count too.
      transform({ request, server }) {
        if (!enabled) return;
        const wait = deps.authIpLimiter.hit(clientIp(server, request));
        if (wait !== null) throw CommonErrors.rateLimited(wait);
      },
    }),
  });
}
