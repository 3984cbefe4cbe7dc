// The payments module's surface for other modules: intents (402), the paid-call flow
// (authorize.ts), refunds and the sweep, stored replies. Every intent status change and payments
// ledger posting is made by apply.ts, from the table in lifecycle.ts.
import { eq } from 'drizzle-orm';
import type { AppError } from '../../shared/app-error.ts';
import { prefixedId } from '../../shared/ids.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { getIntent } from './intent-store.ts';
import type { PaymentsDeps } from './deps.ts';
import { PaymentErrors } from './errors.ts';
import { buildOfferedRoutes, paymentObject } from './offer.ts';
import { paidResponses, type PaymentIntent, paymentIntents } from './schema.ts';

export { authorizePaidCall, authorizeSettledPayment, completePaidCall, FORWARD_LEASE_MARGIN_MS, type PaidCallDecision } from './authorize.ts';
export type { PaymentsDeps } from './deps.ts';
export type { VerifiedTransfer } from './apply.ts';
export { getIntent } from './intent-store.ts';
export { isEvm, toAtomic, verifierKey as routeKey } from './offer.ts';
export { PaymentCodes } from './errors.ts';
export { buildVerifiers, type ChainVerifiers, verifierKey } from './offer.ts';
export { payerAddressesOf } from './payers.ts';
export { listRefunds, markRefunded, type RefundView } from './refunds.ts';
export { SWEEP_BATCH_SIZE, sweepAll, sweepExpiredIntents } from './sweep.ts';
export type { PaymentIntent } from './schema.ts';

/** Creates a payment intent for this buyer, listing and body; the caller answers 402 with `error`. */
export async function createIntent(
  deps: PaymentsDeps,
  args: { buyerId: string; sellerId: string; listingId: string; priceMicroUsd: number; bodySha256: string; origin: string | null },
): Promise<{ intent: PaymentIntent; error: AppError }> {
  const routes = await buildOfferedRoutes(deps, { priceMicroUsd: args.priceMicroUsd, sellerId: args.sellerId, buyerId: args.buyerId, origin: args.origin });
  const now = deps.clock.now();
  const intent: PaymentIntent = {
    id: prefixedId('rly_'),
    buyerId: args.buyerId,
    sellerId: args.sellerId,
    listingId: args.listingId,
    bodySha256: args.bodySha256,
    amountMicroUsd: args.priceMicroUsd,
    feeBps: deps.feeBps ? deps.feeBps() : deps.config.fee_bps,
    routes,
    status: 'open',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.config.payment_intent_ttl_seconds * 1000).toISOString(),
    settlementKey: null,
    settledNetwork: null,
    settledTxRef: null,
    settledAt: null,
    consumedAt: null,
    gatewayRequestId: null,
    refundTxRef: null,
    refundedAt: null,
    leaseId: null,
    leaseUntil: null,
  };
  deps.db.db.insert(paymentIntents).values(intent).run();
  return { intent, error: PaymentErrors.required(paymentObject(intent)) };
}

/** What a paid call's buyer paid for: the seller's status and JSON body, while kept. */
export function getPaidResponse(deps: PaymentsDeps, buyerId: string, gatewayRequestId: string): { seller_status: number; body: unknown; expires_at: string } {
  const row = deps.db.db.select().from(paidResponses).where(eq(paidResponses.gatewayRequestId, gatewayRequestId)).get();
  if (!row || row.buyerId !== buyerId || row.expiresAt <= deps.clock.now().toISOString()) throw PaymentErrors.responseNotFound();
  const text = deps.vault.open(row.bodySealed, { table: 'paid_responses', column: 'body_sealed', rowId: row.gatewayRequestId });
  return { seller_status: row.sellerStatus, body: JSON.parse(text) as unknown, expires_at: row.expiresAt };
}

/**
 * Whether a call on a suspended listing carries a payment made before the suspension: an intent
 * of this buyer and listing still open or settled. Suspension never touches money already paid
 * (SPEC §2 Operator): such a call completes once, or its intent becomes refund_due as usual.
 */
export function hasPaymentInFlight(deps: CoreDeps, args: { relayRequestId: string | null; buyerId: string; listingId: string }): boolean {
  if (!args.relayRequestId) return false;
  const intent = getIntent(deps, args.relayRequestId);
  return !!intent && intent.buyerId === args.buyerId && intent.listingId === args.listingId && (intent.status === 'open' || intent.status === 'settled');
}
