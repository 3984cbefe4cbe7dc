import { eq } from 'drizzle-orm';
import { immediate } from '../../db/tx.ts';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { AppError, recover } from '../../shared/app-error.ts';
import { instanceSettings } from '../humans/schema.ts';
import { audit } from './audit.ts';

const FEE = 'fee_bps';

const isFixed = (deps: CoreDeps) => deps.config.fixed_keys.includes(FEE);

/** The marketplace fee in force: env/flag/file when set there, else the console's value, else the default. */
export function effectiveFeeBps(deps: CoreDeps): number {
  if (isFixed(deps)) return deps.config.fee_bps;
  const row = deps.db.db.select().from(instanceSettings).where(eq(instanceSettings.key, FEE)).get();
  return row ? Number(row.value) : deps.config.fee_bps;
}

/** Settings the console shows; `fixed` ones come from env, flag or config file and cannot be changed here. */
export function getSettings(deps: CoreDeps) {
  return {
    fee_bps: { value: effectiveFeeBps(deps), fixed: isFixed(deps), source: isFixed(deps) ? ('CROCHET_FEE_BPS' as const) : ('console' as const) },
    // Shown for context; always set by env or flag (SPEC §8).
    max_price_usd: { value: deps.config.max_price_usd, fixed: true as const },
    payment_intent_ttl_seconds: { value: deps.config.payment_intent_ttl_seconds, fixed: true as const },
  };
}

export const settingFixed = (name: string) =>
  new AppError(409, 'SETTING_FIXED', `${name} is set by the environment, a flag or the config file; change it there.`, {
    recovery: recover.action('stop', `Unset ${name} where it is configured to manage it from the console.`),
  });

/** Changes the marketplace fee (new intents only: each intent keeps the fee it was created with). */
export function patchSettings(deps: CoreDeps, actor: string, input: { fee_bps: number }) {
  if (isFixed(deps)) throw settingFixed('CROCHET_FEE_BPS');
  immediate(deps.db.sqlite, () => {
    const previous = effectiveFeeBps(deps);
    const now = iso(deps.clock.now());
    deps.db.db.insert(instanceSettings).values({ key: FEE, value: String(input.fee_bps), updatedAt: now })
      .onConflictDoUpdate({ target: instanceSettings.key, set: { value: String(input.fee_bps), updatedAt: now } }).run();
    audit(deps, actor, 'settings.fee_bps', 'settings:fee_bps', { from: previous, to: input.fee_bps });
  });
  return getSettings(deps);
}
