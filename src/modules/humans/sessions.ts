import { createHash } from 'node:crypto';
import { eq, lt } from 'drizzle-orm';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import type { HumanCaller } from '../../shared/http/auth.ts';
import { newId, randomToken } from '../../shared/ids.ts';
import { humanSessions } from './schema.ts';

export const SESSION_COOKIE = 'crochet_session';
export const SESSION_TTL_MS = 7 * 86_400_000;
// Sliding expiry is written at most this often, so reading pages costs no write per request.
const SESSION_TOUCH_MS = 60_000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
/** Stored form of a session token: its SHA-256 (a 256-bit random token needs no slow hash). */
const tokenHash = (token: string) => sha256(`session:${token}`);
/** The CSRF token of a session: derived from its secret token, so it is never stored and dies with it. */
export const csrfTokenOf = (token: string) => sha256(`csrf:${token}`);

/** Starts a session for a profile; returns the raw token for the cookie (never stored). */
export function createSession(deps: CoreDeps, profileId: string): { token: string; expiresAt: string } {
  const now = deps.clock.now();
  const token = randomToken(32);
  const expiresAt = iso(new Date(now.getTime() + SESSION_TTL_MS));
  // Expired sessions are useless: prune them as new ones start.
  deps.db.db.delete(humanSessions).where(lt(humanSessions.expiresAt, iso(now))).run();
  deps.db.db.insert(humanSessions).values({ id: newId(), tokenHash: tokenHash(token), profileId, createdAt: iso(now), expiresAt, lastSeenAt: iso(now) }).run();
  return { token, expiresAt };
}

/** Reads the session token from a Cookie header. */
export function sessionTokenOf(cookieHeader: string | null): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=') || null;
  }
  return null;
}

type SessionRow = { id: string; profile_id: string; expires_at: string; last_seen_at: string; role: 'member' | 'admin'; email: string; status: string };

/** Resolves a Cookie header to the signed-in person, sliding the session's expiry; 401 otherwise. */
export function resolveSession(deps: CoreDeps, cookieHeader: string | null): HumanCaller {
  const token = sessionTokenOf(cookieHeader);
  if (!token) throw CommonErrors.sessionRequired();
  const now = deps.clock.now();
  const row = deps.db.sqlite
    .query<SessionRow, [string, string]>(
      `SELECT s.id, s.profile_id, s.expires_at, s.last_seen_at, a.role, a.email, p.status
         FROM human_sessions s JOIN human_accounts a ON a.profile_id = s.profile_id JOIN profiles p ON p.id = s.profile_id
        WHERE s.token_hash = ? AND s.expires_at > ?`,
    )
    .get(tokenHash(token), iso(now));
  // A suspended person is signed out everywhere in effect: no route accepts the session.
  if (!row || row.status !== 'active') throw CommonErrors.sessionRequired();
  if (now.getTime() - Date.parse(row.last_seen_at) > SESSION_TOUCH_MS) {
    deps.db.db
      .update(humanSessions)
      .set({ lastSeenAt: iso(now), expiresAt: iso(new Date(now.getTime() + SESSION_TTL_MS)) })
      .where(eq(humanSessions.id, row.id))
      .run();
  }
  return { profileId: row.profile_id, role: row.role, sessionId: row.id, csrfToken: csrfTokenOf(token), email: row.email };
}

/** Ends one session (sign-out). */
export function endSession(deps: CoreDeps, sessionId: string): void {
  deps.db.db.delete(humanSessions).where(eq(humanSessions.id, sessionId)).run();
}

/** Ends every session of a profile (password change), optionally keeping one. */
export function endAllSessions(deps: CoreDeps, profileId: string): void {
  deps.db.db.delete(humanSessions).where(eq(humanSessions.profileId, profileId)).run();
}

/** Set-Cookie value for a new session, or one that clears it (`token` null). */
export function sessionCookie(deps: CoreDeps, token: string | null): string {
  const secure = deps.config.public_url.startsWith('https://') ? '; Secure' : '';
  const life = token ? `Max-Age=${SESSION_TTL_MS / 1000}` : 'Max-Age=0';
  return `${SESSION_COOKIE}=${token ?? ''}; Path=/; HttpOnly; SameSite=Lax; ${life}${secure}`;
}
