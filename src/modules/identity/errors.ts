import { AppError, type Recovery } from '../../shared/app-error.ts';

const restart = (summary: string): Recovery => ({
  retryable: true,
  next_action: 'restart_challenge',
  summary,
  discard: ['nonce', 'signature', 'pow_nonce'],
});

const challengeError = (status: number, code: string, message: string, summary: string) =>
  new AppError(status, code, message, { recovery: restart(summary) });

export const IdentityErrors = {
  malformedAddress: () =>
    new AppError(400, 'INVALID_WALLET_ADDRESS', 'wallet_address is neither an EVM address (0x + 40 hex) nor a Solana public key (base58, 32 bytes).', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Send the wallet address exactly as the wallet shows it.' },
    }),
  challengeNotFound: () =>
    challengeError(400, 'CHALLENGE_NOT_FOUND', 'No challenge has this nonce.', 'Request a new challenge with POST /api/v1/auth/challenge.'),
  challengeExpired: () =>
    challengeError(400, 'CHALLENGE_EXPIRED', 'The challenge has expired.', 'Request a new challenge and answer it before expires_at.'),
  challengeUsed: () =>
    challengeError(400, 'CHALLENGE_ALREADY_USED', 'The challenge was already used or retired after too many failed attempts.', 'Request a new challenge; each one works once.'),
  challengePurpose: (expected: string, actual: string) =>
    challengeError(400, 'CHALLENGE_PURPOSE_MISMATCH', `The challenge was issued for "${actual}", not "${expected}".`, `Request a challenge with purpose "${expected}".`),
  challengeAddress: () =>
    challengeError(400, 'CHALLENGE_ADDRESS_MISMATCH', 'The challenge was issued for another wallet address.', 'Request a challenge for this wallet address.'),
  challengeProfile: () =>
    challengeError(403, 'CHALLENGE_PROFILE_MISMATCH', 'The challenge was issued for another profile.', 'Request the challenge while authenticated as this profile.'),
  messageMismatch: () =>
    challengeError(400, 'CHALLENGE_MESSAGE_MISMATCH', 'The message sent is not the message this challenge issued.', 'Sign data.message of a new challenge exactly as returned, byte for byte.'),
  signatureInvalid: () =>
    challengeError(401, 'SIGNATURE_INVALID', 'The signature does not verify for this wallet over the challenge message.', 'Sign data.message of a new challenge with the wallet named in it.'),
  powInvalid: () =>
    challengeError(400, 'POW_INVALID', 'pow_nonce does not solve this challenge\'s proof of work.', 'Find pow_nonce so that sha256(pow.challenge + pow_nonce) starts with pow.difficulty zeros; a new challenge has a new puzzle.'),
  walletNotRegistered: () =>
    new AppError(404, 'WALLET_NOT_REGISTERED', 'No profile owns this wallet.', {
      recovery: { retryable: false, next_action: 'register', summary: 'Register this wallet with a register challenge.' },
    }),
  walletAlreadyRegistered: () =>
    new AppError(409, 'WALLET_ALREADY_REGISTERED', 'This wallet already belongs to a profile.', {
      recovery: { retryable: false, next_action: 'recover', summary: 'Use POST /api/v1/auth/recover with a recover challenge to get a key for that profile.' },
    }),
  walletTaken: () =>
    new AppError(409, 'WALLET_ALREADY_LINKED', 'This wallet already belongs to a profile.', {
      recovery: { retryable: false, next_action: 'use_another_wallet', summary: 'A wallet belongs to at most one profile; link a different wallet.' },
    }),
  walletNotAuthorized: () =>
    new AppError(403, 'WALLET_NOT_AUTHORIZED', 'The existing wallet is not an active auth wallet of your profile.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Prove the link with an active wallet of your profile that has the auth role.' },
    }),
  walletNotFound: () =>
    new AppError(404, 'NOT_FOUND', 'Wallet not found.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'List your wallets with GET /api/v1/me/wallets.' },
    }),
  recoveryWalletRequired: () =>
    new AppError(409, 'RECOVERY_WALLET_REQUIRED', 'The change would leave the profile without an active recovery wallet.', {
      recovery: { retryable: false, next_action: 'link_wallet', summary: 'Link another wallet with the recovery role first, or keep this one active with the recovery role.' },
    }),
  payoutRoleRequired: () =>
    new AppError(400, 'PAYOUT_ROLE_REQUIRED', 'Only an active wallet with the payout role can be the default payout wallet.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Give the wallet the payout role and keep it active.' },
    }),
  claimProfileRequired: () =>
    new AppError(400, 'CLAIM_PROFILE_REQUIRED', 'A claim_agent challenge needs profile_id: the agent to claim.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'Send profile_id with purpose claim_agent.' },
    }),
  notClaimable: () =>
    new AppError(409, 'NOT_CLAIMABLE', 'Only an agent profile that nobody has claimed can be claimed.', {
      recovery: { retryable: false, next_action: 'stop', summary: 'This profile is a person, or already claimed.' },
    }),
  claimWalletNotAuthorized: () =>
    new AppError(403, 'CLAIM_WALLET_NOT_AUTHORIZED', 'The signing wallet is not an active auth or recovery wallet of this agent.', {
      recovery: { retryable: true, next_action: 'restart_challenge', summary: "Request a new claim_agent challenge for one of the agent's active auth or recovery wallets and sign it with that wallet." },
    }),
  profileSuspended: () =>
    new AppError(403, 'PROFILE_SUSPENDED', 'This profile is suspended.', {
      recovery: { retryable: false, next_action: 'contact_operator', summary: 'Ask the operator of this instance.' },
    }),
  apiKeyNotFound: () =>
    new AppError(404, 'NOT_FOUND', 'API key not found.', {
      recovery: { retryable: false, next_action: 'fix_request', summary: 'List your keys with GET /api/v1/api-keys.' },
    }),
};
