import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, type PublicClient } from 'viem';
import * as X402 from './modules/x402/service.ts';
import { createApp } from './app.ts';
import * as Admin from './modules/admin/service.ts';
import * as Listings from './modules/listings/service.ts';
import type { Config } from './config.ts';
import { openDatabase } from './db/open.ts';
import { createRuntime, drainRuntime } from './runtime.ts';
import { loadMasterKey } from './modules/vault/master-key.ts';
import { settlePendingRotation } from './modules/vault/rotation.ts';
import { assertVaultKeyMatches, createVault } from './modules/vault/service.ts';
import { systemClock } from './shared/clock.ts';
import type { CoreDeps } from './shared/deps.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { isEvmNetwork } from './shared/wallet-address.ts';

export const DATABASE_FILE = 'crochet.db';

/**
 * Data folder, database (migrated), key and the dependencies every module is built from.
 * `overrides` lets tests swap what is external (DNS) or slow to move (the clock).
 */
export function bootstrap(
  config: Config,
  logger: Logger = createLogger(config.log_level),
  overrides: Pick<Partial<CoreDeps>, 'resolveHost' | 'clock'> = {},
) {
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  const db = openDatabase(join(config.data_dir, DATABASE_FILE));
  let master: ReturnType<typeof loadMasterKey>;
  try {
    // A `vault rotate-key` interrupted by a crash is finished or undone before the key is read.
    if (!config.master_key) {
      const settled = settlePendingRotation(config.data_dir, db.sqlite);
      if (settled !== 'none') logger.warn('vault: settled an interrupted master-key rotation', { outcome: settled });
    }
    master = loadMasterKey({ dataDir: config.data_dir, fromConfig: config.master_key });
    assertVaultKeyMatches(db.sqlite, master.key);
  } catch (error) {
    db.sqlite.close();
    throw error;
  }
  if (master.source === 'created') logger.info('created vault key file', { path: join(config.data_dir, 'master.key') });
  const evmRoute = config.payment_routes.find((r) => isEvmNetwork(r.network));
  const evmClient = evmRoute ? (createPublicClient({ transport: http(evmRoute.rpc_url) }) as PublicClient) : undefined;
  const deps: CoreDeps = {
    config,
    db,
    clock: overrides.clock ?? systemClock,
    logger,
    evmClient,
    vault: createVault(master.key),
    resolveHost: overrides.resolveHost,
  };
  return { deps, masterKey: master.key };
}

/** Starts listening; resolves a handle whose `stop()` drains in-flight requests and closes the database. */
export function startServer(config: Config, logger: Logger = createLogger(config.log_level)) {
  const { deps } = bootstrap(config, logger);
  if (config.allow_private_upstreams) {
    logger.warn('CROCHET_ALLOW_PRIVATE_UPSTREAMS is ON: http:// and loopback/private upstreams are allowed. Development and tests only — never in production.');
  }
  const runtime = createRuntime(deps);
  const app = createApp(deps, runtime).listen({
    port: config.port,
    hostname: config.host,
    // Elysia turns on Bun's development mode unless NODE_ENV=production; an operator's binary has
    // no NODE_ENV, and development mode is for dev servers (error pages, slower paths).
    development: false,
    // Elysia also sets SO_REUSEPORT: a second instance on the same port would then start and take
    // half the traffic to its own database instead of failing with "address in use".
    reusePort: false,
  });
  const server = app.server;
  if (!server) throw new Error('server did not start');
  // Each settling key's address (never the key) and a warning when its gas is low.
  void X402.refreshSettlerBalances(runtime.x402, runtime.x402Balances, logger, true);
  logger.info('listening', { url: `http://${config.host}:${server.port}`, public_url: config.public_url, data_dir: config.data_dir, mode: config.mode });
  // First run: the operator creates the first admin through this URL (SPEC §2 Operator).
  const setupUrl = Admin.openSetup({ ...deps, ...runtime });
  if (setupUrl) logger.info('no admin yet: open the setup URL to create one (valid until used or restart)', { setup_url: setupUrl });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: draining in-flight requests');
      // app.stop runs the onStop hooks (history flush, timers cleared) after the drain.
      await app.stop(false);
      // That drain waits for open connections only: calls whose buyer hung up may still be waiting
      // on their seller (at most an endpoint's timeout), and record their rows when they end.
      if (!(await drainRuntime(runtime, Listings.MAX_UPSTREAM_TIMEOUT_MS + 5_000))) {
        logger.warn('shutting down with gateway calls still running; their history rows are lost');
      }
      deps.db.sqlite.close();
      logger.info('stopped');
    })());
  return { app, server, port: server.port as number, deps, runtime, stop };
}
