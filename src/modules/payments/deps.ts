import type { CoreDeps } from '../../shared/deps.ts';
import type { ChainVerifiers } from './offer.ts';
import type { PaymentVerification } from './verification-result.ts';

/** A verdict and the route network it came from. */
export type RoutedVerification = PaymentVerification & { network: string | null };

/**
 * What the payments module is built from. The forwarding claim is not here: it is a lease in the
 * database (payment_intents.lease_id / lease_until), so every process sharing the data folder sees it.
 */
export type PaymentsDeps = CoreDeps & {
  verifiers: ChainVerifiers;
  /** Verifications under way in this process, shared by concurrent retries of one intent (saves RPC calls only). */
  verifying: Map<string, Promise<RoutedVerification>>;
  /** The marketplace fee now (the operator may change it in the console unless env/flag fix it). */
  feeBps?: () => number;
};
