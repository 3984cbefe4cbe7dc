/**
 * Builds every profile's formula inputs from score events, marking self-dealing:
 * - a buyer and a seller that are the same profile, or that share a wallet (a wallet one owns and
 *   the other owns or paid from), are *linked*: their calls, purchases and reviews between them
 *   add nothing to either side;
 * - a buyer whose every completed call (within the horizon) went to one seller is *concentrated*:
 *   its calls and reviews add nothing to that seller (its failures still count against it).
 * Endpoint tests go to the formula as they are (with whether the listing was active); it decides
 * what they weigh.
 */
import type { CoreDeps } from '../../shared/deps.ts';
import * as Identity from '../identity/service.ts';
import * as Payments from '../payments/service.ts';
import { EVENT_HORIZON_DAYS, type ScoreInputs, type SellerOutcome } from './formula.ts';

const DAY_MS = 86_400_000;

const OUTCOME: Record<string, SellerOutcome> = {
  seller_completed: 'completed',
  seller_rejected: 'rejected',
  seller_failed: 'failed',
  seller_timeout: 'timeout',
};

const isEndpointTest = (kind: string) => kind === 'endpoint_test_passed' || kind === 'endpoint_test_failed';

/** A review as evidence, before the reviewer's score is known. */
export type ReviewEvidence = Omit<ScoreInputs['reviews'][number], 'reviewerScore'> & { reviewerId: string };

export type ProfileEvidence = {
  profileId: string;
  profileCreatedAt: string;
  sellerCalls: ScoreInputs['sellerCalls'];
  endpointTests: ScoreInputs['endpointTests'];
  purchases: ScoreInputs['purchases'];
  reviews: ReviewEvidence[];
  eventsConsidered: number;
};

type CallGroup = { profileId: string; kind: string; counterpartyId: string; paid: number; live: number; day: string; n: number };
type ReviewRow = { sellerId: string; reviewerId: string; accuracy: number; reliability: number; value: number; at: string };

/** Links between profiles through wallets, looked up once per profile per run. */
function walletLinks(deps: CoreDeps) {
  const cache = new Map<string, Set<string>>();
  const addressesOf = (profileId: string): Set<string> => {
    let set = cache.get(profileId);
    if (set) return set;
    set = new Set(Identity.listWallets(deps, profileId).map((w) => `${w.chain}:${w.addressKey}`));
    for (const payer of Payments.payerAddressesOf(deps, profileId)) {
      const parsed = Identity.parseWalletAddress(payer);
      if (parsed) set.add(`${parsed.chain}:${parsed.key}`);
    }
    cache.set(profileId, set);
    return set;
  };
  return (a: string, b: string): boolean => {
    if (a === b) return true;
    const other = addressesOf(b);
    for (const address of addressesOf(a)) if (other.has(address)) return true;
    return false;
  };
}

/**
 * Evidence for every profile that has events in the horizon, is the other side of one, or
 * already has a snapshot (so its score ages instead of freezing). Profiles that no longer exist
 * and human accounts are left out.
 */
export function gatherEvidence(deps: CoreDeps): Map<string, ProfileEvidence> {
  const { sqlite } = deps.db;
  const horizon = new Date(deps.clock.now().getTime() - EVENT_HORIZON_DAYS * DAY_MS).toISOString();
  // Grouped by UTC day: recency is measured from the day's start, and the rows stay few. `live`:
  // the listing was active (recorded for endpoint tests only; 0 for every other event).
  const groups = sqlite
    .query<CallGroup, [string]>(
      `SELECT profile_id AS profileId, kind, counterparty_id AS counterpartyId, value_micro_usd > 0 AS paid,
         COALESCE(listing_status = 'active', 0) AS live, substr(occurred_at, 1, 10) AS day, COUNT(*) AS n
       FROM score_events WHERE occurred_at >= ? AND kind != 'review_received'
       GROUP BY profile_id, kind, counterparty_id, paid, live, day ORDER BY profile_id, kind, counterparty_id, paid, live, day`,
    )
    .all(horizon);
  const reviewRows = sqlite
    .query<ReviewRow, [string]>(
      `SELECT e.profile_id AS sellerId, e.counterparty_id AS reviewerId, r.accuracy_rating AS accuracy,
         r.reliability_rating AS reliability, r.value_rating AS value, e.occurred_at AS at
       FROM score_events e JOIN reviews r ON r.id = e.source_id
       WHERE e.kind = 'review_received' AND e.occurred_at >= ? ORDER BY e.occurred_at, r.id`,
    )
    .all(horizon);
  const snapshotIds = sqlite.query<{ id: string }, []>('SELECT profile_id AS id FROM score_snapshots').all().map((r) => r.id);

  const linked = walletLinks(deps);
  // Distinct unlinked sellers each buyer completed calls with.
  const sellersOfBuyer = new Map<string, Set<string>>();
  for (const g of groups) {
    if (g.kind !== 'seller_completed' || linked(g.counterpartyId, g.profileId)) continue;
    const set = sellersOfBuyer.get(g.counterpartyId) ?? new Set<string>();
    set.add(g.profileId);
    sellersOfBuyer.set(g.counterpartyId, set);
  }
  const concentrated = (buyerId: string) => (sellersOfBuyer.get(buyerId)?.size ?? 0) <= 1;
  const discountedForSeller = (sellerId: string, buyerId: string) => linked(buyerId, sellerId) || concentrated(buyerId);

  const ids = new Set<string>(snapshotIds);
  // Endpoint tests alone put no profile on the scoreboard: without a snapshot a profile shows 0,
  // and running a test (a pass, or a failure while setting up) must not be what changes that.
  for (const g of groups) if (!isEndpointTest(g.kind)) ids.add(g.profileId).add(g.counterpartyId);
  for (const r of reviewRows) ids.add(r.sellerId).add(r.reviewerId);

  const evidence = new Map<string, ProfileEvidence>();
  for (const id of [...ids].sort()) {
    const profile = Identity.getProfile(deps, id);
    if (!profile || profile.accountType === 'human') continue;
    evidence.set(id, {
      profileId: id, profileCreatedAt: profile.createdAt, sellerCalls: [], endpointTests: [], purchases: [], reviews: [], eventsConsidered: 0,
    });
  }
  for (const g of groups) {
    const e = evidence.get(g.profileId);
    if (!e) continue;
    const at = `${g.day}T00:00:00.000Z`;
    e.eventsConsidered += g.n;
    const outcome = OUTCOME[g.kind];
    if (outcome) {
      e.sellerCalls.push({ outcome, paid: g.paid === 1, discounted: discountedForSeller(g.profileId, g.counterpartyId), count: g.n, at });
    } else if (g.kind === 'buyer_paid') {
      e.purchases.push({ discounted: linked(g.profileId, g.counterpartyId), count: g.n, at });
    } else if (isEndpointTest(g.kind)) {
      e.endpointTests.push({ ok: g.kind === 'endpoint_test_passed', listingActive: g.live === 1, count: g.n, at });
    }
  }
  for (const r of reviewRows) {
    const e = evidence.get(r.sellerId);
    if (!e) continue;
    e.eventsConsidered += 1;
    const { sellerId: _seller, ...rest } = r;
    e.reviews.push({ ...rest, discounted: discountedForSeller(r.sellerId, r.reviewerId) });
  }
  return evidence;
}
