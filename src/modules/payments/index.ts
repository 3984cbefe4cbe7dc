import * as Payments from './service.ts';

/**
 * One expiry sweep: settled intents left unused become refund_due; open ones expire. app.ts runs
 * it every CROCHET_SWEEP_INTERVAL_SECONDS while the server listens (its timer is listed there).
 */
export function sweepExpiredIntents(deps: Payments.PaymentsDeps): void {
  const result = Payments.sweepExpiredIntents(deps);
  if (result.refundDue + result.expired > 0) deps.logger.info('payment intents swept', { refund_due: result.refundDue, expired: result.expired });
}
