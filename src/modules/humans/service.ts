import { eq } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { CommonErrors } from '../../shared/errors.ts';
import type { HumanCaller } from '../../shared/http/auth.ts';
import type { RateLimiter } from '../../shared/rate-limit.ts';
import * as Identity from '../identity/service.ts';
import { HumanErrors } from './errors.ts';
import { type HumanAccount, humanAccounts } from './schema.ts';
import { createSession, endAllSessions } from './sessions.ts';

export { claimedAgents } from './dashboard.ts';
export { createSession, csrfTokenOf, endSession, resolveSession, sessionCookie, SESSION_COOKIE } from './sessions.ts';

/** What sign-in needs beyond the core: the per-email limiter and a hash to check when the email is unknown. */
export type SignInDeps = CoreDeps & { signinEmailLimiter: RateLimiter; dummyHash: Promise<string> };

/** Normal form of an email address: one account per address however it is typed. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** argon2id with the configured cost (tests lower the cost, never the algorithm). */
export function hashPassword(deps: CoreDeps, password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: deps.config.password_memory_kib, timeCost: deps.config.password_time_cost });
}

export function findAccount(deps: CoreDeps, email: string): HumanAccount | undefined {
  return deps.db.db.select().from(humanAccounts).where(eq(humanAccounts.email, normalizeEmail(email))).get();
}

/** Creates a person's profile and credentials (role `member`, or `admin` for the operator). */
export async function createAccount(deps: CoreDeps, input: { email: string; password: string; display_name: string }, role: HumanAccount['role'] = 'member') {
  const email = normalizeEmail(input.email);
  if (findAccount(deps, email)) throw HumanErrors.emailTaken();
  const passwordHash = await hashPassword(deps, input.password);
  return immediate(deps.db.sqlite, () => {
    if (findAccount(deps, email)) throw HumanErrors.emailTaken();
    const profile = Identity.insertHumanProfile(deps, input.display_name);
    const now = iso(deps.clock.now());
    deps.db.db.insert(humanAccounts).values({ profileId: profile.id, email, passwordHash, role, createdAt: now, passwordChangedAt: now }).run();
    return profile;
  });
}

/** Sign-up: the account and its first session. */
export async function signUp(deps: CoreDeps, input: { email: string; password: string; display_name: string }) {
  const profile = await createAccount(deps, input);
  return createSession(deps, profile.id);
}

/**
 * Sign-in: a fresh session (never one the browser brought, so a planted cookie cannot be
 * fixed). Unknown email and wrong password answer the same error after the same work.
 */
export async function signIn(deps: SignInDeps, input: { email: string; password: string }) {
  const email = normalizeEmail(input.email);
  const wait = deps.signinEmailLimiter.hit(email);
  if (wait !== null) throw CommonErrors.rateLimited(wait);
  const account = findAccount(deps, email);
  const valid = await Bun.password.verify(input.password, account?.passwordHash ?? (await deps.dummyHash));
  if (!account || !valid) throw HumanErrors.signInFailed();
  const profile = Identity.getProfile(deps, account.profileId);
  if (!profile || profile.status !== 'active') throw HumanErrors.signInFailed();
  return createSession(deps, account.profileId);
}

/** Changes the password after checking the current one; every session of the person ends. */
export async function changePassword(deps: CoreDeps, human: HumanCaller, input: { current_password: string; new_password: string }) {
  const account = findAccount(deps, human.email);
  if (!account || !(await Bun.password.verify(input.current_password, account.passwordHash))) throw HumanErrors.signInFailed();
  const passwordHash = await hashPassword(deps, input.new_password);
  immediate(deps.db.sqlite, () => {
    deps.db.db.update(humanAccounts).set({ passwordHash, passwordChangedAt: iso(deps.clock.now()) }).where(eq(humanAccounts.profileId, account.profileId)).run();
    endAllSessions(deps, account.profileId);
  });
  return createSession(deps, account.profileId);
}

/** The signed-in person, with the CSRF token their state-changing requests must carry. */
export function me(deps: CoreDeps, human: HumanCaller) {
  const profile = Identity.getProfile(deps, human.profileId);
  if (!profile) throw CommonErrors.sessionRequired();
  return { ...Identity.profileSummary(profile), email: human.email, role: human.role, csrf_token: human.csrfToken };
}

/** Whether the instance has an operator yet (first-run setup is open until it does). */
export function adminExists(deps: CoreDeps): boolean {
  return !!deps.db.db.select({ id: humanAccounts.profileId }).from(humanAccounts).where(eq(humanAccounts.role, 'admin')).get();
}
