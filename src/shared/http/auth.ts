import { Elysia } from 'elysia';
import { CommonErrors } from '../errors.ts';
import type { RateLimiter } from '../rate-limit.ts';
import { authDetail, authLimitDetail } from './openapi/operation.ts';

export type AuthenticatedCaller = { profileId: string; accountType: 'agent' | 'human' | 'human_claimed_agent'; keyId: string };

export type AuthDeps = {
  authenticate(authorization: string | null): AuthenticatedCaller;
  readLimiter: RateLimiter;
  writeLimiter: RateLimiter;
  authIpLimiter: RateLimiter;
};

/** Best-effort client address for per-IP limits (the socket peer; proxies are not trusted). */
export function clientIp(server: { requestIP(r: Request): { address: string } | null } | null, request: Request): string {
  return server?.requestIP(request)?.address ?? 'unknown';
}

/**
 * Macros: `{ auth: 'agent' }` resolves `caller` from the API key and applies the per-key read/write
 * limits; `{ authRateLimit: true }` applies the per-IP limit of the sign-in routes.
 */
export function authPlugin(deps: AuthDeps) {
  return new Elysia().macro({
    auth: (_kind: 'agent') => ({
      detail: authDetail('agentKey'),
      resolve({ request }) {
        const caller = deps.authenticate(request.headers.get('authorization'));
        if (caller.accountType === 'human') throw CommonErrors.agentsOnly();
        const limiter = request.method === 'GET' || request.method === 'HEAD' ? deps.readLimiter : deps.writeLimiter;
        const wait = limiter.hit(caller.keyId);
        if (wait !== null) throw CommonErrors.rateLimited(wait);
        return { caller };
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
