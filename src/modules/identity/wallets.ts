import { and, eq } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { newId } from '../../shared/ids.ts';
import { consumeChallenge, verifyChallengeProof, type ChallengeProof } from './challenges.ts';
import { IdentityErrors } from './errors.ts';
import { type Wallet, type WalletRole, wallets } from './schema.ts';
import type { ParsedAddress } from '../../shared/wallet-address.ts';

export const ALL_ROLES: WalletRole[] = ['auth', 'recovery', 'payment', 'payout'];

export type WalletSummary = {
  id: string;
  chain: 'evm' | 'solana';
  address: string;
  roles: WalletRole[];
  status: 'active' | 'disabled';
  default_payout: boolean;
  created_at: string;
};

export const walletSummary = (w: Wallet): WalletSummary => ({
  id: w.id,
  chain: w.chain,
  address: w.address,
  roles: w.roles,
  status: w.status,
  default_payout: w.defaultPayout,
  created_at: w.createdAt,
});

export function findWalletOwner(deps: CoreDeps, addr: ParsedAddress): Wallet | undefined {
  return deps.db.db.select().from(wallets).where(and(eq(wallets.chain, addr.chain), eq(wallets.addressKey, addr.key))).get();
}

/** Inserts a wallet with all four roles; it becomes default payout of its chain family when the profile has none. Call inside a transaction. */
export function insertWallet(deps: CoreDeps, profileId: string, addr: ParsedAddress): Wallet {
  const { db } = deps.db;
  if (findWalletOwner(deps, addr)) throw IdentityErrors.walletTaken();
  const hasDefault = db.select({ id: wallets.id }).from(wallets)
    .where(and(eq(wallets.profileId, profileId), eq(wallets.chain, addr.chain), eq(wallets.defaultPayout, true))).get();
  const now = iso(deps.clock.now());
  const row: Wallet = {
    id: newId(),
    profileId,
    chain: addr.chain,
    address: addr.address,
    addressKey: addr.key,
    roles: [...ALL_ROLES],
    status: 'active',
    defaultPayout: !hasDefault,
    createdAt: now,
    updatedAt: now,
  };
  db.insert(wallets).values(row).run();
  return row;
}

export function listWallets(deps: CoreDeps, profileId: string): Wallet[] {
  return deps.db.db.select().from(wallets).where(eq(wallets.profileId, profileId)).orderBy(wallets.createdAt).all();
}

export function getWallet(deps: CoreDeps, profileId: string, walletId: string): Wallet {
  const w = deps.db.db.select().from(wallets).where(and(eq(wallets.id, walletId), eq(wallets.profileId, profileId))).get();
  if (!w) throw IdentityErrors.walletNotFound();
  return w;
}

/** Links a new wallet, proven by a `link_wallet` signature from an existing auth wallet and from the new wallet. */
export async function linkWallet(
  deps: CoreDeps,
  profileId: string,
  input: { existing: ChallengeProof; new: ChallengeProof },
): Promise<Wallet> {
  const existing = await verifyChallengeProof(deps, input.existing, { purpose: 'link_wallet', profileId });
  const fresh = await verifyChallengeProof(deps, input.new, { purpose: 'link_wallet', profileId });
  const owner = findWalletOwner(deps, existing.address);
  if (!owner || owner.profileId !== profileId || owner.status !== 'active' || !owner.roles.includes('auth')) {
    throw IdentityErrors.walletNotAuthorized();
  }
  return immediate(deps.db.sqlite, () => {
    consumeChallenge(deps, existing.challenge.id);
    consumeChallenge(deps, fresh.challenge.id);
    return insertWallet(deps, profileId, fresh.address);
  });
}

/** Changes roles, status or default payout; refuses to leave the profile without an active recovery wallet. */
export function updateWallet(
  deps: CoreDeps,
  profileId: string,
  walletId: string,
  patch: { roles?: WalletRole[]; status?: 'active' | 'disabled'; default_payout?: boolean },
): Wallet {
  return immediate(deps.db.sqlite, () => {
    const { db } = deps.db;
    const current = getWallet(deps, profileId, walletId);
    const next: Wallet = {
      ...current,
      roles: patch.roles ? ALL_ROLES.filter((r) => patch.roles?.includes(r)) : current.roles,
      status: patch.status ?? current.status,
      updatedAt: iso(deps.clock.now()),
    };
    const canPayout = next.status === 'active' && next.roles.includes('payout');
    if (patch.default_payout === true && !canPayout) throw IdentityErrors.payoutRoleRequired();
    next.defaultPayout = canPayout && (patch.default_payout ?? current.defaultPayout);

    const others = listWallets(deps, profileId).filter((w) => w.id !== walletId);
    const keepsRecovery = [...others, next].some((w) => w.status === 'active' && w.roles.includes('recovery'));
    if (!keepsRecovery) throw IdentityErrors.recoveryWalletRequired();

    if (next.defaultPayout && !current.defaultPayout) {
      db.update(wallets).set({ defaultPayout: false })
        .where(and(eq(wallets.profileId, profileId), eq(wallets.chain, next.chain), eq(wallets.defaultPayout, true))).run();
    }
    db.update(wallets)
      .set({ roles: next.roles, status: next.status, defaultPayout: next.defaultPayout, updatedAt: next.updatedAt })
      .where(eq(wallets.id, walletId)).run();
    if (current.defaultPayout && !next.defaultPayout) {
      // Hand the default to another payout wallet of the same family so payments keep a destination.
      const heir = others.find((w) => w.chain === next.chain && w.status === 'active' && w.roles.includes('payout'));
      if (heir) db.update(wallets).set({ defaultPayout: true }).where(eq(wallets.id, heir.id)).run();
    }
    return next;
  });
}

/** The default payout wallet of a profile for a chain family, if any. */
export function defaultPayoutWallet(deps: CoreDeps, profileId: string, chain: 'evm' | 'solana'): Wallet | undefined {
  return deps.db.db.select().from(wallets)
    .where(and(eq(wallets.profileId, profileId), eq(wallets.chain, chain), eq(wallets.defaultPayout, true), eq(wallets.status, 'active')))
    .get();
}
