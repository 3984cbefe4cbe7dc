import type { PublicClient } from 'viem';
import type { Config } from '../config.ts';
import type { DbHandle } from '../db/open.ts';
import type { Vault } from '../modules/vault/service.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import type { Resolver } from './upstream/guard.ts';

/** What every module is built from. Passed in, never imported as a singleton, so each test builds a fresh app. */
export type CoreDeps = {
  config: Config;
  db: DbHandle;
  clock: Clock;
  logger: Logger;
  /** RPC client of the first EVM payment route, for smart-wallet (EIP-1271/6492) signatures. */
  evmClient?: PublicClient;
  /** Seals and opens secrets at rest with the loaded master key. */
  vault: Vault;
  /** DNS for upstream URL checks; `systemResolver` when absent (tests inject a fake one). */
  resolveHost?: Resolver;
};
