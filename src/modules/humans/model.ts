import { z } from 'zod';
import { gatewayRequestSchema } from '../gateway/model.ts';
import { profileSchema } from '../identity/model.ts';
import { balanceSchema, entrySchema } from '../ledger/model.ts';
import { listingSchema } from '../listings/model.ts';
import { reviewSchema, scoreSchema } from '../trust/model.ts';

const email = z.string().trim().min(3).max(254).regex(/^[^\s@]+@[^\s@]+$/, 'expected an email address').describe('Email address (case does not matter).');
// ≥ 10 characters (SPEC §2); the ceiling only keeps hashing cheap to refuse.
const password = z.string().min(10, 'expected at least 10 characters').max(256).describe('At least 10 characters.');

export const setupBody = z.object({ token: z.string().min(1).max(200).describe('The token of the setup URL logged at start.'), email, password, display_name: z.string().trim().min(1).max(80).describe('Name shown on your profile.') });
export const signUpBody = z.object({ email, password, display_name: z.string().trim().min(1).max(80).describe('Name shown on your profile.') });
export const signInBody = z.object({ email, password: z.string().min(1).max(256).describe('Your password.') });
export const changePasswordBody = z.object({ current_password: z.string().min(1).max(256).describe('The password in use now.'), new_password: password });
export const claimBody = z.object({
  wallet_address: z.string().min(1).max(100).describe("An active auth or recovery wallet of the agent."),
  nonce: z.string().min(1).max(100).describe('data.nonce of the claim_agent challenge you requested for this profile.'),
  signature: z.string().min(1).max(20_000).describe('The wallet\'s signature of data.message.'),
});
export const agentParams = z.object({ id: z.string().min(1).max(64).describe('Profile id of the agent to claim.') });

export const humanSchema = z
  .object({
    id: z.string(),
    display_name: z.string(),
    account_type: z.enum(['agent', 'human', 'human_claimed_agent']),
    claimed_by: z.string().nullable(),
    status: z.enum(['active', 'suspended']),
    created_at: z.string(),
    email: z.string(),
    role: z.enum(['member', 'admin']),
    csrf_token: z.string().describe('Send it in X-CSRF-Token on every state-changing request of this session.'),
  })
  .meta({ id: 'Human', description: 'The signed-in person, with the CSRF token of this session.' });

export const signedOutSchema = z.object({ signed_out: z.literal(true) });

/** A profile as the API shows it (the named Profile schema). */
export const claimedProfileSchema = profileSchema;

// The other modules' published shapes, so the dashboard cannot show more than their own routes do.
export const claimedAgentSchema = z.object({
  profile: claimedProfileSchema,
  score: scoreSchema,
  listings: z.array(listingSchema),
  reviews: z.array(reviewSchema),
  gateway_requests: z.array(gatewayRequestSchema),
  ledger: z.object({ balance: balanceSchema, recent_entries: z.array(entrySchema) }),
});
