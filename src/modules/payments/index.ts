import * as Scheduler from '../scheduler/service.ts';
import * as Payments from './service.ts';

/** The sweep's job lease outlives a stalled batch by this much; each batch renews it. */
const SWEEP_LEASE_MS = 60_000;

/**
 * One expiry sweep: settled intents left unused become refund_due; open ones expire. One process at
 * a time across the data folder (a job lease), in batches that yield; it stops after the current
 * batch once `keepGoing` says so (the server is stopping). app.ts runs it every
 * CROCHET_SWEEP_INTERVAL_SECONDS while the server listens (its timer is listed there).
 */
export async function sweepExpiredIntents(deps: Payments.PaymentsDeps, keepGoing: () => boolean = () => true): Promise<void> {
  const run = await Scheduler.runExclusive(deps, 'payments-sweep', SWEEP_LEASE_MS, (lease) => Payments.sweepAll(deps, () => keepGoing() && lease.renew()));
  if (run.ran && run.value.refundDue + run.value.expired > 0) deps.logger.info('payment intents swept', { refund_due: run.value.refundDue, expired: run.value.expired });
}
