import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);

export const challengeBody = z.object({
  wallet_address: z.string().min(1).max(100),
  purpose: z.enum(['register', 'recover', 'link_wallet', 'claim_agent']),
  profile_id: z.string().min(1).max(64).optional(),
});

export const powSchema = z.object({
  algorithm: z.literal('sha256'),
  challenge: z.string(),
  difficulty: z.number().int(),
  expires_at: z.string(),
});

export const challengeData = z.object({
  nonce: z.string(),
  message: z.string(),
  expires_at: z.string(),
  pow: powSchema,
  pow_required: z.boolean(),
});

const proofFields = {
  wallet_address: z.string().min(1).max(100),
  nonce: z.string().min(1).max(100),
  signature: z.string().min(1).max(20_000),
  /** Optional: the message the wallet signed, checked byte for byte against the challenge. */
  message: z.string().max(5_000).optional(),
};

export const registerBody = z.object({ ...proofFields, pow_nonce: z.string().min(1).max(128), display_name: text(80) });
export const recoverBody = z.object({ ...proofFields, pow_nonce: z.string().min(1).max(128) });
export const linkProof = z.object(proofFields);
export const linkWalletBody = z.object({ existing: linkProof, new: linkProof });

export const walletRole = z.enum(['auth', 'recovery', 'payment', 'payout']);
export const walletSchema = z.object({
  id: z.string(),
  chain: z.enum(['evm', 'solana']),
  address: z.string(),
  roles: z.array(walletRole),
  status: z.enum(['active', 'disabled']),
  default_payout: z.boolean(),
  created_at: z.string(),
});
export const patchWalletBody = z
  .object({
    roles: z.array(walletRole).max(4).optional(),
    status: z.enum(['active', 'disabled']).optional(),
    default_payout: z.boolean().optional(),
  })
  .refine((b) => b.roles !== undefined || b.status !== undefined || b.default_payout !== undefined, 'send at least one of roles, status, default_payout');

export const profileSchema = z.object({
  id: z.string(),
  display_name: z.string(),
  account_type: z.enum(['agent', 'human', 'human_claimed_agent']),
  claimed_by: z.string().nullable(),
  status: z.enum(['active', 'suspended']),
  created_at: z.string(),
});
export const meSchema = profileSchema.extend({ wallets: z.array(walletSchema) });
export const scoreSummarySchema = z.object({
  score: z.number().int(),
  tier: z.string(),
  verified: z.boolean(),
  computed_at: z.string().nullable(),
  stale: z.boolean(),
});

export const credentialsSchema = z.object({
  api_key: z.string(),
  authorization_header: z.string(),
  profile: meSchema,
});

export const keySchema = z.object({
  id: z.string(),
  name: z.string(),
  key_prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export const createKeyBody = z.object({ name: text(80).default('api key') });
export const createdKeySchema = keySchema.extend({ api_key: z.string(), authorization_header: z.string() });
export const idParams = z.object({ id: z.string().min(1).max(64) });
