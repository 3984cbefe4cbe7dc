import { Elysia } from 'elysia';
import * as Scheduler from '../scheduler/service.ts';
import * as Payments from './service.ts';

/** The sweep's job lease outlives a stalled batch by this much; each batch renews it. */
const SWEEP_LEASE_MS = 60_000;

/**
 * The expiry sweep, run every CROCHET_SWEEP_INTERVAL_SECONDS while the server listens: settled
 * intents left unused become refund_due; open ones expire. One process at a time across the data
 * folder (a job lease); a sweep still running when the next tick comes is not started twice.
 */
export function paymentsModule(deps: Payments.PaymentsDeps) {
  let timer: ReturnType<typeof setInterval> | null = null;
  let running = false;
  let stopped = false;
  const sweep = async () => {
    if (running || stopped) return;
    running = true;
    try {
      const run = await Scheduler.runExclusive(deps, 'payments-sweep', SWEEP_LEASE_MS, (lease) => Payments.sweepAll(deps, () => !stopped && lease.renew()));
      if (run.ran && run.value.refundDue + run.value.expired > 0) deps.logger.info('payment intents swept', { refund_due: run.value.refundDue, expired: run.value.expired });
    } catch (error) {
      deps.logger.error('payment sweep failed', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      running = false;
    }
  };
  return new Elysia({ name: 'payments-sweep' })
    .onStart(() => {
      stopped = false;
      timer ??= setInterval(sweep, deps.config.sweep_interval_seconds * 1000);
    })
    .onStop(() => {
      // A sweep under way stops after its current batch (the database closes after the drain).
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
    });
}
