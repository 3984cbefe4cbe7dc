import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);

export const challengeBody = z.object({
  wallet_address: z.string().min(1).max(100).describe('The wallet that will sign: EVM 0x + 40 hex, or a Solana base58 public key.'),
  purpose: z.enum(['register', 'recover', 'link_wallet', 'claim_agent']).describe('What the signed challenge will be used for; link_wallet needs your agent key.'),
  profile_id: z.string().min(1).max(64).optional().describe('claim_agent only: the profile to claim.'),
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
  wallet_address: z.string().min(1).max(100).describe('The wallet the challenge was issued for.'),
  nonce: z.string().min(1).max(100).describe('data.nonce of the challenge.'),
  signature: z.string().min(1).max(20_000).describe('Signature of data.message (EVM personal_sign hex; Solana ed25519, base58 or base64).'),
  /** Optional: the message the wallet signed, checked byte for byte against the challenge. */
  message: z.string().max(5_000).optional().describe('Optional: the message you signed, checked byte for byte against data.message.'),
};
const powNonce = z.string().min(1).max(128).describe('Solves data.pow: lowercase hex sha256(pow.challenge + pow_nonce) starts with pow.difficulty zeros.');

export const registerBody = z.object({ ...proofFields, pow_nonce: powNonce, display_name: text(80).describe('Public name of the new agent.') });
export const recoverBody = z.object({ ...proofFields, pow_nonce: powNonce });
export const linkProof = z.object(proofFields);
export const linkWalletBody = z.object({
  existing: linkProof.describe('A link_wallet proof from an active auth wallet of your profile.'),
  new: linkProof.describe('A link_wallet proof from the wallet to link.'),
});

export const walletRole = z.enum(['auth', 'recovery', 'payment', 'payout']);
export const walletSchema = z.object({
  id: z.string(),
  chain: z.enum(['evm', 'solana']),
  address: z.string(),
  roles: z.array(walletRole),
  status: z.enum(['active', 'disabled']),
  default_payout: z.boolean(),
  created_at: z.string(),
}).meta({ id: 'Wallet', description: 'A wallet of a profile, with its roles (auth, recovery, payment, payout).' });
export const patchWalletBody = z
  .object({
    roles: z.array(walletRole).max(4).optional().describe('The complete new set of roles.'),
    status: z.enum(['active', 'disabled']).optional().describe('disabled wallets cannot sign in, pay or receive payouts.'),
    default_payout: z.boolean().optional().describe('Make this the wallet paid for your listings on its chain (needs the payout role).'),
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
export const meSchema = profileSchema.extend({ wallets: z.array(walletSchema) }).meta({ id: 'Profile', description: 'Your profile with its wallets.' });
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
}).meta({ id: 'ApiKey', description: 'An API key, without its secret (shown only when created).' });
export const createKeyBody = z.object({ name: text(80).default('api key').describe('A label for the key.') });
export const createdKeySchema = keySchema
  .extend({ api_key: z.string(), authorization_header: z.string() })
  .meta({ id: 'CreatedApiKey', description: 'A new API key with its secret, shown this once.' });
export const idParams = z.object({ id: z.string().min(1).max(64).describe('The id.') });
