import { Elysia } from 'elysia';
import * as Payments from './service.ts';

/**
 * The expiry sweep, run in-process every CROCHET_SWEEP_INTERVAL_SECONDS while the server listens:
 * settled intents left unused become refund_due; open ones expire.
 */
export function paymentsModule(deps: Payments.PaymentsDeps) {
  let timer: ReturnType<typeof setInterval> | null = null;
  const sweep = () => {
    try {
      const result = Payments.sweepExpiredIntents(deps);
      if (result.refundDue + result.expired > 0) deps.logger.info('payment intents swept', { refund_due: result.refundDue, expired: result.expired });
    } catch (error) {
      deps.logger.error('payment sweep failed', { error: error instanceof Error ? error.message : String(error) });
    }
  };
  return new Elysia({ name: 'payments-sweep' })
    .onStart(() => {
      timer ??= setInterval(sweep, deps.config.sweep_interval_seconds * 1000);
    })
    .onStop(() => {
      if (timer) clearInterval(timer);
      timer = null;
    });
}
