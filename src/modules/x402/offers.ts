// The x402 offers of an intent: one `exact` requirement per intent route whose family can settle,
// in the intent's route order (which already follows X-Crochet-Origin-Currency and min_amount).
import { declarePaymentIdentifierExtension, PAYMENT_IDENTIFIER } from '@x402/extensions/payment-identifier';
import type { CoreDeps } from '../../shared/deps.ts';
import * as Payments from '../payments/service.ts';
import type { OfferedRoute, PaymentIntent } from '../payments/schema.ts';
import { X402_VERSION } from './codec.ts';
import { bindOffer, OFFER_KEY_PURPOSE } from './offer-binding.ts';
import type { PaymentRequired, PaymentRequirements, X402Scheme, X402Schemes } from './scheme.ts';

export type X402Deps = CoreDeps & { x402: X402Schemes };

/** The gateway URL of a listing: `resource.url` of its offers. */
export const resourceUrl = (deps: CoreDeps, listingId: string) => `${deps.config.public_url}/api/v1/gateway/${encodeURIComponent(listingId)}`;

/** The scheme that settles `route`, when it offers x402. */
export function schemeOf(deps: X402Deps, route: Pick<OfferedRoute, 'network' | 'asset'>): X402Scheme | undefined {
  const scheme = deps.x402.get(Payments.routeKey(route));
  return scheme?.canOffer() ? scheme : undefined;
}

/** The requirement offered for one route of an intent (rebuilt the same way on every retry). */
export async function requirementFor(deps: X402Deps, scheme: X402Scheme, route: OfferedRoute, intent: PaymentIntent): Promise<PaymentRequirements> {
  const binding = bindOffer(deps.vault.deriveKey(OFFER_KEY_PURPOSE), {
    listingId: intent.listingId, amountAtomic: route.amount_atomic, network: route.network, expiresAt: intent.expiresAt, relayRequestId: intent.id,
  });
  return {
    scheme: 'exact',
    network: route.network as PaymentRequirements['network'],
    amount: route.amount_atomic,
    asset: route.asset,
    payTo: route.pay_to,
    maxTimeoutSeconds: scheme.maxTimeoutSeconds,
    extra: { ...(await scheme.offerExtra(route, intent)), crochet: binding },
  };
}

/**
 * The PaymentRequired of an intent (null when no route offers x402). `error`: x402's reason of the
 * refusal this fresh offer answers. A route whose scheme cannot build its offer now is left out.
 */
export async function paymentRequiredFor(deps: X402Deps, intent: PaymentIntent, error?: string): Promise<PaymentRequired | null> {
  if (deps.x402.size === 0) return null;
  const accepts: PaymentRequirements[] = [];
  for (const route of intent.routes) {
    const scheme = schemeOf(deps, route);
    if (!scheme) continue;
    try {
      accepts.push(await requirementFor(deps, scheme, route, intent));
    } catch (cause) {
      deps.logger.warn('x402 offer left out: its route could not build it', { network: route.network, error: cause instanceof Error ? cause.message : String(cause) });
    }
  }
  if (accepts.length === 0) return null;
  return {
    x402Version: X402_VERSION,
    ...(error ? { error } : {}),
    resource: { url: resourceUrl(deps, intent.listingId), mimeType: 'application/json' },
    accepts,
    extensions: { [PAYMENT_IDENTIFIER]: declarePaymentIdentifierExtension(false) },
  };
}
