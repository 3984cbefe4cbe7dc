import { z } from 'zod';
import { isoTimeQuery, paginationQuery } from '../../shared/http/envelope.ts';
import { LEDGER_ENTRY_TYPES } from './schema.ts';

const ref = z.string().min(1).max(200);

export const listQuery = z.object({
  /** `buyer`, `seller`, `refunds`, or a full account name such as `seller:<your profile id>`. */
  account: z.string().min(1).max(100).optional().describe('buyer, seller, refunds, or a full account name such as seller:<your profile id>.'),
  entry_type: z.enum(LEDGER_ENTRY_TYPES).optional().describe('Only entries of this type.'),
  relay_request_id: ref.optional().describe('Only entries of this paid call (rly_…).'),
  gateway_request_id: ref.optional().describe('Only entries of this gateway call (gw_req_…).'),
  since: isoTimeQuery.optional().describe('inclusive lower bound on created_at'),
  until: isoTimeQuery.optional().describe('exclusive upper bound on created_at'),
  ...paginationQuery,
});

export const entrySchema = z.object({
  id: z.string(),
  transaction_id: z.string(),
  profile_id: z.string().nullable(),
  account: z.string(),
  entry_type: z.enum(LEDGER_ENTRY_TYPES),
  amount_micro_usd: z.number().int(),
  amount: z.string(),
  network: z.string().nullable(),
  tx_ref: z.string().nullable(),
  gateway_request_id: z.string().nullable(),
  relay_request_id: z.string().nullable(),
  created_at: z.string(),
}).meta({ id: 'LedgerEntry', description: 'One append-only ledger entry; amounts in micro-USD and decimal USD.' });

const money = <N extends string>(name: N) =>
  ({ [`${name}_micro_usd`]: z.number().int(), [name]: z.string() }) as { [K in `${N}_micro_usd`]: z.ZodNumber } & { [K in N]: z.ZodString };

export const balanceSchema = z.object({
  profile_id: z.string(),
  accounts: z.array(z.object({ account: z.string(), ...money('balance'), entry_count: z.number().int() })),
  buyer: z.object({ ...money('paid'), ...money('refunded'), ...money('refund_due'), ...money('net_paid') }),
  seller: z.object({ ...money('gross'), ...money('fees'), ...money('credited'), ...money('balance') }),
});
