import type { PaymentRouteConfig } from '../../config.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { microToDecimalString, parseUsdToMicro } from '../../shared/money.ts';
import * as Identity from '../identity/service.ts';
import { createEvmVerifier, type EvmVerifier } from './evm-verifier.ts';
import { PaymentErrors } from './errors.ts';
import { newSolanaReference } from './reference.ts';
import type { OfferedRoute, PaymentIntent } from './schema.ts';
import { createSolanaVerifier, type SolanaVerifier } from './solana-verifier.ts';
import { paymentRpcUnavailable } from './verification-result.ts';
import { isEvmNetwork } from '../../shared/wallet-address.ts';

export type ChainVerifiers = { evm: Map<string, EvmVerifier>; solana: Map<string, SolanaVerifier> };

/**
 * The key of a route's verifier: network and asset. Two routes may share a network (USDC and
 * another stablecoin on one chain); keyed by network alone, one route's payments would be checked
 * against the other's token and amount.
 */
export const verifierKey = (r: { network: string; asset: string }) => `${r.network}|${isEvm(r.network) ? r.asset.toLowerCase() : r.asset}`;

/** One verifier per configured route, keyed by `verifierKey`. */
export function buildVerifiers(routes: readonly PaymentRouteConfig[]): ChainVerifiers {
  const evm = new Map<string, EvmVerifier>();
  const solana = new Map<string, SolanaVerifier>();
  for (const r of routes) {
    if (isEvm(r.network)) {
      evm.set(verifierKey(r), createEvmVerifier({ network: r.network, rpcUrl: r.rpc_url, asset: r.asset as `0x${string}`, decimals: r.decimals, confirmations: r.confirmations ?? 1 }));
    } else {
      solana.set(verifierKey(r), createSolanaVerifier({ network: r.network, rpcUrl: r.rpc_url, mint: r.asset, decimals: r.decimals, commitment: r.commitment ?? 'finalized' }));
    }
  }
  return { evm, solana };
}

export const isEvm = isEvmNetwork;

/** Micro-USD → the asset's atomic units; rounds up when the asset has fewer than 6 decimals, so a seller is never underpaid. */
export function toAtomic(micro: number, decimals: number): bigint {
  const m = BigInt(micro);
  if (decimals >= 6) return m * 10n ** BigInt(decimals - 6);
  const unit = 10n ** BigInt(6 - decimals);
  return (m + unit - 1n) / unit;
}

/**
 * The routes a new intent offers, in the order the buyer asked for with X-Crochet-Origin-Currency:
 * `SOL`/`SOLANA` puts Solana first; `ETH`/`EVM`/`BASE` or an `eip155:` id keeps EVM only.
 * Routes whose minimum exceeds the price are left out (SPEC §5 step 1).
 */
export async function buildOfferedRoutes(
  deps: CoreDeps & { verifiers: ChainVerifiers },
  args: { priceMicroUsd: number; sellerId: string; buyerId: string; origin: string | null },
): Promise<OfferedRoute[]> {
  const routes = deps.config.payment_routes;
  if (routes.length === 0) throw PaymentErrors.notConfigured();
  const origin = args.origin?.trim().toUpperCase() ?? '';
  const evmOnly = ['ETH', 'EVM', 'BASE'].includes(origin) || origin.startsWith('EIP155:');
  let candidates = routes.filter((r) => parseUsdToMicro(r.min_amount) <= args.priceMicroUsd);
  if (evmOnly) {
    candidates = candidates.filter((r) => isEvm(r.network));
    const exact = candidates.filter((r) => r.network.toUpperCase() === origin);
    if (exact.length > 0) candidates = exact;
  } else if (origin === 'SOL' || origin === 'SOLANA') {
    candidates = [...candidates.filter((r) => !isEvm(r.network)), ...candidates.filter((r) => isEvm(r.network))];
  }

  // Chain heads are read for all EVM routes at once; a route whose head cannot be read is skipped.
  const prepared = await Promise.all(
    candidates.map(async (r): Promise<{ route: OfferedRoute } | { failure: unknown }> => {
      const family = isEvm(r.network) ? 'evm' : 'solana';
      const route: OfferedRoute = {
        network: r.network,
        asset: r.asset,
        decimals: r.decimals,
        pay_to: Identity.defaultPayoutWallet(deps, args.sellerId, family)?.address ?? r.treasury,
        amount_atomic: toAtomic(args.priceMicroUsd, r.decimals).toString(),
        min_amount: microToDecimalString(parseUsdToMicro(r.min_amount)),
      };
      if (family === 'solana') return { route: { ...route, reference: newSolanaReference() } };
      try {
        const verifier = deps.verifiers.evm.get(verifierKey(r));
        if (!verifier) throw new Error('no verifier');
        // Without the current head the "paid after the intent" rule cannot be enforced.
        return { route: { ...route, after_block: (await verifier.headBlock()).toString() } };
      } catch (error) {
        deps.logger.warn('payment route skipped: chain head unavailable', { network: r.network, error: error instanceof Error ? error.message : String(error) });
        return { failure: error };
      }
    }),
  );
  const offered = prepared.flatMap((p) => ('route' in p ? [p.route] : []));
  const rpcFailure = prepared.find((p): p is { failure: unknown } => 'failure' in p)?.failure ?? null;
  if (offered.length === 0 && rpcFailure !== null) throw paymentRpcUnavailable(rpcFailure);
  if (offered.length === 0) {
    const hasSolana = Identity.listWallets(deps, args.buyerId).some((w) => w.chain === 'solana' && w.status === 'active');
    throw PaymentErrors.routeMinimumNotMet(hasSolana);
  }
  return offered;
}

/** The SPEC §5 `payment` object of a 402. */
export function paymentObject(intent: PaymentIntent) {
  return {
    relay_request_id: intent.id,
    listing_id: intent.listingId,
    amount: microToDecimalString(intent.amountMicroUsd),
    amount_atomic: String(intent.amountMicroUsd),
    currency: 'USD',
    expires_at: intent.expiresAt,
    body_sha256: intent.bodySha256,
    routes: intent.routes.map(({ after_block: _internal, ...route }) => route),
  };
}
