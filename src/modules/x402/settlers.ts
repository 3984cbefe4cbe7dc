// The settling keys (relayer / fee payer): their addresses are logged at start, their gas balances
// checked then and every minute, and exposed in /metrics. The keys themselves never leave memory.
import type { Logger } from '../../shared/logger.ts';
import type { GaugeSample, Metrics } from '../../shared/metrics.ts';
import type { GasBalance, X402Schemes } from './scheme.ts';

/** The last balance read per route key (runtime state, made in createRuntime). */
export type SettlerBalances = Map<string, GasBalance>;

/** How often the balances are read again while the server runs. */
export const BALANCE_REFRESH_MS = 60_000;

/** Reads every settling key's balance; warns about each low one (`announce`: also log the addresses). */
export async function refreshSettlerBalances(schemes: X402Schemes, balances: SettlerBalances, logger: Logger, announce = false): Promise<void> {
  await Promise.all(
    [...schemes].map(async ([key, scheme]) => {
      if (announce) logger.info('x402 settling key', { family: scheme.family, network: scheme.network, address: scheme.settlerAddress });
      try {
        const b = await scheme.gasBalance();
        balances.set(key, b);
        if (b.low) logger.warn('x402 settling key is low on gas; x402 settlements on this route will fail once it is empty', { family: b.family, network: b.network, address: b.address, balance: formatUnits(b.balance, b.decimals), symbol: b.symbol });
      } catch (error) {
        logger.warn('x402 settling key balance unreadable', { network: scheme.network, address: scheme.settlerAddress, error: error instanceof Error ? error.message : String(error) });
      }
    }),
  );
}

/** `crochet_x402_settler_balance{family,network,address,symbol}` in whole units (ETH, SOL). */
export function registerBalanceGauge(metrics: Metrics, balances: SettlerBalances): void {
  metrics.gauge('crochet_x402_settler_balance', 'Gas / fee balance of each x402 settling key, in whole native units (last read).', (): GaugeSample[] =>
    [...balances.values()].map((b) => ({ labels: { family: b.family, network: b.network, address: b.address, symbol: b.symbol }, value: Number(formatUnits(b.balance, b.decimals)) })),
  );
}

function formatUnits(value: bigint, decimals: number): string {
  const unit = 10n ** BigInt(decimals);
  const frac = (value % unit).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${value / unit}${frac ? `.${frac}` : ''}`;
}
