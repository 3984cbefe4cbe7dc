// The x402 module's surface for other modules (SPEC §5 "x402 interoperability"): the schemes of the
// configured routes, the PAYMENT-REQUIRED of an intent, and the x402 paid-call authorization.
import type { Config } from '../../config.ts';
import type { AppError } from '../../shared/app-error.ts';
import * as Payments from '../payments/service.ts';
import type { PaymentIntent } from '../payments/schema.ts';
import { encodePaymentRequired } from './codec.ts';
import { createEvmScheme, createRelayerNonces } from './evm-scheme.ts';
import { createSolanaSchemeFactory } from './svm/scheme.ts';
import { paymentRequiredFor, type X402Deps } from './offers.ts';
import type { X402SchemeFactory, X402Schemes } from './scheme.ts';

export { HEADER_PAYMENT_REQUIRED, HEADER_PAYMENT_RESPONSE, HEADER_PAYMENT_SIGNATURE } from './codec.ts';
export { X402_REFUSAL_CODES, X402Errors } from './errors.ts';
export { paymentRequiredFor, resourceUrl, type X402Deps } from './offers.ts';
export { authorizeX402Call, hasX402PaymentInFlight, type SettleDeps, type X402Authorized, X402Refused } from './settle.ts';
export type { GasBalance, X402Scheme, X402Schemes } from './scheme.ts';
export { BALANCE_REFRESH_MS, refreshSettlerBalances, registerBalanceGauge, type SettlerBalances } from './settlers.ts';

/** The scheme factories of every chain family, given the config (its settling keys). */
export function schemeFactories(config: Config): X402SchemeFactory[] {
  const nonces = createRelayerNonces();
  return [(route) => createEvmScheme(config, route, nonces), createSolanaSchemeFactory(config)];
}

/** One scheme per configured route that can settle x402 (a family without a key has none). */
export function buildSchemes(config: Config, factories: X402SchemeFactory[] = schemeFactories(config)): X402Schemes {
  const schemes: X402Schemes = new Map();
  for (const route of config.payment_routes) {
    for (const make of factories) {
      const scheme = make(route);
      if (scheme) {
        schemes.set(Payments.routeKey(route), scheme);
        break;
      }
    }
  }
  return schemes;
}

/**
 * `error` with the x402 headers of a 402 for `intent` (PAYMENT-REQUIRED, Cache-Control: no-store),
 * `reason` as the offer's `error`. Unchanged when no route offers x402.
 */
export async function withPaymentRequired(deps: X402Deps, error: AppError, intent: PaymentIntent, reason?: string): Promise<Record<string, string>> {
  const required = await paymentRequiredFor(deps, intent, reason);
  if (!required) return { ...error.headers };
  return { ...error.headers, 'PAYMENT-REQUIRED': encodePaymentRequired(required), 'Cache-Control': 'no-store' };
}
