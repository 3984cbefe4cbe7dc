import { watchChanges } from './db/change-watch.ts';
import * as Gateway from './modules/gateway/service.ts';
import * as Identity from './modules/identity/service.ts';
import * as Listings from './modules/listings/service.ts';
import * as X402 from './modules/x402/service.ts';
import type { CoreDeps } from './shared/deps.ts';
import { createRateLimiter } from './shared/rate-limit.ts';
import { systemResolver } from './shared/upstream/guard.ts';
import { cachedResolver } from './shared/upstream/resolver-cache.ts';
import { instanceAddressOf } from './shared/upstream/self-address.ts';

/** How long the gateway reuses a DNS answer (each answer is still vetted on every call). */
const GATEWAY_DNS_TTL_MS = 10_000;

/**
 * Everything one app keeps in memory, created here and handed to the modules that use it: no
 * module holds state of its own, so two apps in one process share nothing. What must hold across
 * processes sharing a data folder lives in the database: the caches empty themselves when the
 * change counters move (src/db/change-watch.ts), and rate limits count per process.
 */
export function createRuntime(deps: CoreDeps) {
  const changes = watchChanges(deps.db.sqlite);
  const { config, logger } = deps;
  return {
    keyCache: Identity.createKeyCache(changes),
    targetCache: Listings.createTargetCache(changes),
    history: Gateway.createHistoryWriter(deps.db.sqlite, {
      onWriteError: (error, queued) =>
        logger.error('gateway history write failed; retrying', { queued, error: error instanceof Error ? error.message : String(error) }),
    }),
    gatewayCalls: Gateway.trackInFlightCalls(),
    /** This instance's own addresses, refused as upstreams (SPEC §4 "No loops"). */
    instanceAddress: instanceAddressOf(config),
    gatewayResolver: cachedResolver(deps.resolveHost ?? systemResolver, GATEWAY_DNS_TTL_MS),
    readLimiter: createRateLimiter(config.rate_limit_read_per_min, 60_000),
    writeLimiter: createRateLimiter(config.rate_limit_write_per_min, 60_000),
    authIpLimiter: createRateLimiter(config.rate_limit_auth_per_5min, 300_000),
    // Sign-in attempts per email, whatever address they come from (password guessing spread over IPs).
    signinEmailLimiter: createRateLimiter(config.rate_limit_auth_per_5min, 300_000),
    /** First-run setup token (SPEC §2 Operator): set at start while no admin exists, cleared when used. */
    setup: { token: null as string | null },
    buyerLimiter: createRateLimiter(config.rate_limit_gateway_per_min, 60_000),
    listingLimiter: createRateLimiter(config.rate_limit_listing_per_min, 60_000),
    /** x402 settlement of each route that has a settling key (its relayer's nonces live here). */
    x402: X402.buildSchemes(config),
    /** The settling keys' last balances, for /metrics. */
    x402Balances: new Map() as X402.SettlerBalances,
  };
}

export type Runtime = ReturnType<typeof createRuntime>;

/**
 * Waits (up to `timeoutMs`) for the app's running gateway calls, then writes the queued history.
 * Bun's server stop waits for open connections only, so a call whose buyer hung up may still be
 * talking to its seller; closing the database under it would lose its row (and a paid call's
 * release). False when calls were still running at the deadline.
 */
export async function drainRuntime(runtime: Runtime, timeoutMs: number): Promise<boolean> {
  const idle = await runtime.gatewayCalls.idle(timeoutMs);
  runtime.history.flush();
  return idle;
}
