import type { PublicClient } from 'viem';
import type { Config } from '../config.ts';
import type { DbHandle } from '../db/open.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';

/** What every module is built from. Passed in, never imported as a singleton, so each test builds a fresh app. */
export type CoreDeps = {
  config: Config;
  db: DbHandle;
  clock: Clock;
  logger: Logger;
  /** RPC client of the first EVM payment route, for smart-wallet (EIP-1271/6492) signatures. */
  evmClient?: PublicClient;
};
