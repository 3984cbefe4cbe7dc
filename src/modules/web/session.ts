/**
 * The pages' view of a browser session: who is signed in (for the header and the CSRF meta tag),
 * the form CSRF check, and redirects. The session itself is the humans module's (cookie → hash).
 */
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../../shared/app-error.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import type { HumanCaller } from '../../shared/http/auth.ts';
import { SECURITY_HEADERS } from '../../web/security-headers.ts';
import * as Humans from '../humans/service.ts';
import type { Viewer } from './layout.ts';

/** The signed-in person of a request, or null for a guest (an ended or unknown session is a guest). */
export function humanOf(deps: CoreDeps, request: Request): HumanCaller | null {
  if (!(request.headers.get('cookie') ?? '').includes(Humans.SESSION_COOKIE)) return null;
  try {
    return Humans.resolveSession(deps, request.headers.get('cookie'));
  } catch (error) {
    if (error instanceof AppError && error.status === 401) return null;
    throw error;
  }
}

/** What the layout needs of a person: their name, role and the session's CSRF token. */
export function viewerOf(deps: CoreDeps, human: HumanCaller | null): Viewer | null {
  if (!human) return null;
  const me = Humans.me(deps, human);
  return { display_name: me.display_name, role: me.role, csrf_token: me.csrf_token };
}

/**
 * Whether a form post carries the session's CSRF token (hidden field `csrf_token`), compared in
 * constant time — the same secret the API takes in X-CSRF-Token.
 */
export function formTokenValid(human: HumanCaller, body: unknown): boolean {
  const sent = typeof body === 'object' && body !== null && 'csrf_token' in body ? String((body as { csrf_token: unknown }).csrf_token) : '';
  const a = Buffer.from(sent);
  const b = Buffer.from(human.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a sign-in or sign-up form was posted from this site: a browser sends Origin on every
 * POST, so a form on another site (login CSRF: signing the victim into the attacker's account)
 * is refused. There is no session yet, so no CSRF token to check.
 */
export function sameOrigin(request: Request, publicUrl: string): boolean {
  const origin = request.headers.get('origin');
  if (!origin) return false;
  const own = new Set([new URL(publicUrl).origin, new URL(request.url).origin]);
  const host = request.headers.get('host');
  if (host) own.add(`${new URL(publicUrl).protocol}//${host}`);
  return own.has(origin);
}

/** A 303 See Other (the browser follows with a GET), optionally setting the session cookie. */
export function redirect(location: string, cookie?: string): Response {
  const headers: Record<string, string> = { location, 'cache-control': 'no-store', ...SECURITY_HEADERS };
  if (cookie) headers['set-cookie'] = cookie;
  return new Response(null, { status: 303, headers });
}

/** A local path to return to after signing in; anything else (another site, `//host`) is `/dashboard`. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/dashboard';
}

/** Guests asking for a signed-in page go to sign-in, and come back after. */
export const toSignIn = (path: string) => redirect(`/signin?next=${encodeURIComponent(path)}`);

/** The form's string field (absent or non-string → ''). */
export const field = (body: unknown, name: string): string => {
  if (typeof body !== 'object' || body === null) return '';
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : '';
};
