import type { HistoryReadDeps } from '../gateway/outcomes.ts';
import * as Gateway from '../gateway/service.ts';
import * as Identity from '../identity/service.ts';
import * as Ledger from '../ledger/service.ts';
import * as Listings from '../listings/service.ts';
import * as Trust from '../trust/service.ts';

// The dashboard shows the latest of each, not whole histories (the agent's own API pages those).
const RECENT = 20;
const LISTINGS_SHOWN = 50;
const REVIEWS_PER_LISTING = 5;

/**
 * What a person sees of each agent they claimed: its listings (status and usage), reviews
 * received, score with components, recent gateway calls as buyer and seller, and ledger.
 * Read through each module's service, as the agent itself would see it.
 */
export function claimedAgents(deps: HistoryReadDeps, humanProfileId: string) {
  return Identity.claimedBy(deps, humanProfileId).map((agent) => {
    const listings = Listings.listOwnListings(deps, agent.id, { page: 1, limit: LISTINGS_SHOWN }).items;
    const reviews = listings
      .filter((l) => l.status !== 'draft')
      .flatMap((l) => Trust.listReviews(deps, l.id, { page: 1, limit: REVIEWS_PER_LISTING }).items)
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
      .slice(0, RECENT);
    return {
      profile: Identity.profileSummary(agent),
      score: Trust.getScore(deps, agent.id),
      listings,
      reviews,
      gateway_requests: Gateway.listGatewayRequests(deps, agent.id, { page: 1, limit: RECENT }).rows,
      ledger: { balance: Ledger.balances(deps, agent.id), recent_entries: Ledger.listEntries(deps, agent.id, { page: 1, limit: RECENT }).entries },
    };
  });
}
