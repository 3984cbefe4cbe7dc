import { timingSafeEqual } from 'node:crypto';
import { immediate } from '../../db/tx.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { randomToken } from '../../shared/ids.ts';
import { microToDecimalString } from '../../shared/money.ts';
import type { KeyDeps } from '../identity/service.ts';
import * as Identity from '../identity/service.ts';
import * as Ledger from '../ledger/service.ts';
import * as Listings from '../listings/service.ts';
import type { TargetDeps } from '../listings/service.ts';
import * as Payments from '../payments/service.ts';
import { HumanErrors } from '../humans/errors.ts';
import * as Humans from '../humans/service.ts';
import { audit, recentAudit } from './audit.ts';
import { VERSION } from '../../version.ts';

export type AdminDeps = KeyDeps & TargetDeps & { setup: { token: string | null } };

/**
 * Opens first-run setup when no admin exists: a fresh random token, valid until used or the
 * process ends. Returns the URL to log, or null when an admin exists.
 */
export function openSetup(deps: CoreDeps & { setup: { token: string | null } }): string | null {
  if (Humans.adminExists(deps)) return null;
  deps.setup.token = randomToken(32);
  return `${deps.config.public_url.replace(/\/$/, '')}/setup?token=${deps.setup.token}`;
}

const sameToken = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export { effectiveFeeBps, getSettings, patchSettings } from './settings.ts';

/** Whether `token` opens first-run setup now (the logged token, unused, and still no admin). */
export function setupTokenValid(deps: CoreDeps & { setup: { token: string | null } }, token: string): boolean {
  const expected = deps.setup.token;
  return !!expected && sameToken(token, expected) && !Humans.adminExists(deps);
}

/** First-run setup: creates the first admin with the logged token, once. */
export async function completeSetup(deps: AdminDeps, input: { token: string; email: string; password: string; display_name: string }) {
  const expected = deps.setup.token;
  if (!expected || !sameToken(input.token, expected) || Humans.adminExists(deps)) throw HumanErrors.setupTokenInvalid();
  // Used at once, before the slow hash: two racing requests cannot both create an admin.
  deps.setup.token = null;
  let profile: Awaited<ReturnType<typeof Humans.createAccount>>;
  try {
    profile = await Humans.createAccount(deps, input, 'admin');
  } catch (error) {
    // Nothing was created (e.g. the email is taken): the operator may retry with the same URL.
    if (!Humans.adminExists(deps)) deps.setup.token = expected;
    throw error;
  }
  audit(deps, profile.id, 'admin.setup', `profile:${profile.id}`, { email: Humans.normalizeEmail(input.email) });
  return Humans.createSession(deps, profile.id);
}

/** `crochet admin create`: an admin account (not signed in). */
export async function createAdmin(deps: CoreDeps, input: { email: string; password: string; display_name: string }) {
  const profile = await Humans.createAccount(deps, input, 'admin');
  audit(deps, profile.id, 'admin.create_cli', `profile:${profile.id}`, { email: Humans.normalizeEmail(input.email) });
  return profile;
}

/** Host of an RPC URL: the path or query may carry a provider key, so only the host is shown. */
const hostOnly = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
};

export function overview(deps: AdminDeps, databaseOk: boolean) {
  const { sqlite } = deps.db;
  const profiles = sqlite.query<{ account_type: string; status: string; n: number }, []>('SELECT account_type, status, COUNT(*) AS n FROM profiles GROUP BY account_type, status').all();
  const refunds = Payments.listRefunds(deps);
  const dueMicro = refunds.reduce((sum, r) => sum + r.amount_micro_usd, 0);
  return {
    health: { status: databaseOk ? ('ok' as const) : ('degraded' as const), database: databaseOk ? ('ok' as const) : ('unavailable' as const) },
    version: VERSION,
    counts: { profiles, listings: Listings.countListings(deps) },
    ledger_head: Ledger.formatLedgerHead(Ledger.readLedgerHead(sqlite)),
    refunds_due: { count: refunds.length, total_micro_usd: dueMicro, total: microToDecimalString(dueMicro) },
    payment_routes: deps.config.payment_routes.map((r) => ({ network: r.network, asset: r.asset, rpc_host: hostOnly(r.rpc_url), treasury: r.treasury })),
    audit_log: recentAudit(deps),
  };
}

export function setListingStatus(deps: AdminDeps, actor: string, listingId: string, status: 'suspended' | 'active') {
  return immediate(deps.db.sqlite, () => {
    const result = Listings.setListingStatusByOperator(deps, listingId, status);
    audit(deps, actor, status === 'suspended' ? 'listing.suspend' : 'listing.restore', `listing:${result.id}`, { previous_status: result.previous_status });
    return result;
  });
}

export function setProfileStatus(deps: AdminDeps, actor: string, profileId: string, status: 'suspended' | 'active') {
  return immediate(deps.db.sqlite, () => {
    const result = Identity.setProfileStatus(deps, profileId, status);
    Listings.forgetOwnerTargets(deps, profileId);
    audit(deps, actor, status === 'suspended' ? 'profile.suspend' : 'profile.restore', `profile:${profileId}`);
    return result;
  });
}

export function markRefund(deps: AdminDeps, actor: string, refundId: string, txRef: string) {
  return immediate(deps.db.sqlite, () => {
    const refund = Payments.markRefunded(deps, refundId, txRef);
    audit(deps, actor, 'refund.mark', `refund:${refundId}`, { tx_ref: txRef, amount_micro_usd: refund.amount_micro_usd });
    return refund;
  });
}

export function addCategory(deps: AdminDeps, actor: string, input: { slug: string; name: string }) {
  return immediate(deps.db.sqlite, () => {
    const c = Listings.addCategory(deps, input);
    audit(deps, actor, 'category.add', `category:${c.slug}`, { name: c.name });
    return c;
  });
}

export function patchCategory(deps: AdminDeps, actor: string, slug: string, input: { name?: string; retired?: true }) {
  return immediate(deps.db.sqlite, () => {
    if (input.retired) {
      const c = Listings.retireCategory(deps, slug);
      audit(deps, actor, 'category.retire', `category:${slug}`);
      return c;
    }
    const c = Listings.renameCategory(deps, slug, input.name ?? '');
    audit(deps, actor, 'category.rename', `category:${slug}`, { name: c.name });
    return c;
  });
}

export function listProfiles(deps: CoreDeps, q: { page: number; limit: number }) {
  const { sqlite } = deps.db;
  const total = sqlite.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM profiles').get()?.n ?? 0;
  const ids = sqlite.query<{ id: string }, [number, number]>('SELECT id FROM profiles ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?').all(q.limit, (q.page - 1) * q.limit);
  const found = Identity.getProfiles(deps, ids.map((r) => r.id));
  return { items: ids.flatMap((r) => (found.get(r.id) ? [Identity.profileSummary(found.get(r.id)!)] : [])), total };
}
