import { z } from 'zod';
import { paginationQuery } from '../../shared/http/envelope.ts';
import { claimedProfileSchema, setupBody } from '../humans/model.ts';

export { setupBody };

export const statusBody = z.object({ status: z.enum(['suspended', 'active']).describe('suspended hides and refuses it; active restores it.') });
export const idParams = z.object({ id: z.string().min(1).max(64).describe('Listing or profile id.') });
export const slugParams = z.object({ slug: z.string().min(1).max(64).describe('Category slug.') });
export const refundParams = z.object({ refundId: z.string().min(1).max(200).describe('refund_id from GET /api/v1/admin/refunds.') });
export const pageQuery = z.object(paginationQuery);
export const markBody = z.object({ tx_ref: z.string().trim().min(1).max(200).describe('The on-chain transaction (hash or signature) that paid the refund.') });
export const categoryBody = z.object({
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'expected lowercase letters, digits and dashes').describe('Stable identifier used by listings and search.'),
  name: z.string().trim().min(1).max(60).describe('Display name.'),
});
export const patchCategoryBody = z
  .object({
    name: z.string().trim().min(1).max(60).optional().describe('New display name.'),
    retired: z.literal(true).optional().describe('Retire (remove) the category; refused with 409 CATEGORY_IN_USE while any listing uses it.'),
  })
  .refine((b) => (b.name === undefined) !== (b.retired === undefined), 'send exactly one of name, retired');

const auditEntry = z.object({ seq: z.number().int(), actor_profile_id: z.string(), action: z.string(), target: z.string(), details: z.record(z.string(), z.unknown()), created_at: z.string() });

export const overviewSchema = z.object({
  health: z.object({ status: z.enum(['ok', 'degraded']), database: z.enum(['ok', 'unavailable']) }),
  version: z.string(),
  counts: z.object({ profiles: z.array(z.object({ account_type: z.string(), status: z.string(), n: z.number().int() })), listings: z.record(z.string(), z.number().int()) }),
  ledger_head: z.string().describe('<seq>:<hash> of the verified ledger chain head.'),
  refunds_due: z.object({ count: z.number().int(), total_micro_usd: z.number().int(), total: z.string() }),
  payment_routes: z.array(z.object({ network: z.string(), asset: z.string(), rpc_host: z.string().describe('Host only: the RPC URL may carry a provider key.'), treasury: z.string() })),
  audit_log: z.array(auditEntry),
});

export const adminListingSchema = z.object({ id: z.string(), slug: z.string(), name: z.string(), owner_profile_id: z.string(), status: z.string(), created_at: z.string() });
export const statusChangeSchema = z.object({ id: z.string(), slug: z.string(), name: z.string(), owner_profile_id: z.string(), status: z.string(), previous_status: z.string() });
export const adminProfileSchema = claimedProfileSchema;
export const categorySchema = z.object({ id: z.string(), slug: z.string(), name: z.string(), retired: z.literal(true).optional() });
export const refundSchema = z.object({
  refund_id: z.string(),
  kind: z.enum(['intent', 'extra_payment']),
  relay_request_id: z.string(),
  buyer_id: z.string(),
  seller_id: z.string(),
  listing_id: z.string(),
  amount_micro_usd: z.number().int(),
  amount: z.string(),
  network: z.string().nullable(),
  payment_tx_ref: z.string().nullable(),
  paid_to: z.string().nullable(),
  held_by: z.enum(['treasury', 'seller']).nullable(),
  status: z.enum(['refund_due', 'refunded']),
  refund_tx_ref: z.string().nullable(),
  due_since: z.string(),
  payable_after: z.string(),
});

export const settingsSchema = z.object({
  fee_bps: z.object({ value: z.number().int(), fixed: z.boolean(), source: z.enum(['CROCHET_FEE_BPS', 'console']) }).describe('Marketplace fee in basis points; fixed when CROCHET_FEE_BPS (or --fee-bps / the config file) sets it.'),
  max_price_usd: z.object({ value: z.string(), fixed: z.literal(true) }),
  payment_intent_ttl_seconds: z.object({ value: z.number().int(), fixed: z.literal(true) }),
});
export const patchSettingsBody = z.object({ fee_bps: z.number().int().min(0).max(10_000).describe('New marketplace fee in basis points (0–10000); applies to new payment intents.') });
