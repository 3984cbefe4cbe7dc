// x402 Bazaar discovery (GET /discovery/resources, the path `withBazaar(facilitatorClient)` reads):
// the active paid listings, each with one `exact` requirement per route that settles x402. These
// describe the price only; a call to the resource answers 402 with the offer bound to an intent.
import { microToDecimalString, parseUsdToMicro } from '../../shared/money.ts';
import * as Identity from '../identity/service.ts';
import * as Listings from '../listings/service.ts';
import * as Payments from '../payments/service.ts';
import { X402_VERSION } from './codec.ts';
import { resourceUrl, type X402Deps } from './offers.ts';
import type { PaymentRequirements } from './scheme.ts';

export type DiscoveryQuery = { limit: number; offset: number; network?: string; scheme?: string; payTo?: string; type?: string };

export type DiscoveryResource = {
  resource: string;
  type: 'http';
  x402Version: number;
  accepts: PaymentRequirements[];
  lastUpdated: string;
  description: string;
  mimeType: string;
  serviceName: string;
  tags: string[];
  metadata: { listing_id: string; slug: string; category: string; price: string };
};

/** One page of discoverable resources (x402 DiscoveryResourcesResponse). */
export function listDiscoveryResources(deps: X402Deps, q: DiscoveryQuery) {
  const empty = { x402Version: X402_VERSION, items: [] as DiscoveryResource[], pagination: { limit: q.limit, offset: q.offset, total: 0 } };
  // Only HTTP resources and the `exact` scheme here; no route settling x402 → nothing to discover.
  if ((q.type && q.type !== 'http') || (q.scheme && q.scheme !== 'exact') || deps.x402.size === 0) return empty;
  const page = Listings.listPaidListings(deps, { limit: q.limit, offset: q.offset });
  const items = page.items.map((l): DiscoveryResource => ({
    resource: resourceUrl(deps, l.id),
    type: 'http',
    x402Version: X402_VERSION,
    accepts: acceptsOf(deps, l),
    lastUpdated: l.updatedAt,
    description: l.description.slice(0, 500),
    mimeType: 'application/json',
    serviceName: l.name.slice(0, 100),
    tags: [l.category, ...l.tags].slice(0, 10),
    metadata: { listing_id: l.id, slug: l.slug, category: l.category, price: microToDecimalString(l.priceMicroUsd) },
  }));
  const filtered = items
    .map((i) => ({ ...i, accepts: i.accepts.filter((a) => (!q.network || a.network === q.network) && (!q.payTo || a.payTo.toLowerCase() === q.payTo.toLowerCase())) }))
    .filter((i) => i.accepts.length > 0);
  return { x402Version: X402_VERSION, items: filtered, pagination: { limit: q.limit, offset: q.offset, total: page.total } };
}

/** The requirements a call would be offered (route order of config, min_amount applied), unbound. */
function acceptsOf(deps: X402Deps, l: Listings.PaidListingRef): PaymentRequirements[] {
  const out: PaymentRequirements[] = [];
  for (const route of deps.config.payment_routes) {
    const scheme = deps.x402.get(Payments.routeKey(route));
    if (!scheme?.canOffer() || parseUsdToMicro(route.min_amount) > l.priceMicroUsd) continue;
    const family = Payments.isEvm(route.network) ? 'evm' : 'solana';
    out.push({
      scheme: 'exact',
      network: route.network as PaymentRequirements['network'],
      amount: Payments.toAtomic(l.priceMicroUsd, route.decimals).toString(),
      asset: route.asset,
      payTo: Identity.defaultPayoutWallet(deps, l.ownerProfileId, family)?.address ?? route.treasury,
      maxTimeoutSeconds: scheme.maxTimeoutSeconds,
      extra: {},
    });
  }
  return out;
}
