import type { Chain } from '../../shared/wallet-address.ts';

export type SignInFields = {
  chain: Chain;
  publicUrl: string;
  address: string;
  statement: string;
  nonce: string;
  issuedAt: string;
  expiresAt: string;
  /** EVM: numeric chain id; Solana: `solana:<genesis>` or `mainnet`. */
  chainId: string;
};

/**
 * EIP-4361 (Sign-In with Ethereum) text, and the Sign-In with Solana text with the same fields.
 * The server stores the exact message and verifies signatures over it.
 */
export function buildSignInMessage(f: SignInFields): string {
  const url = new URL(f.publicUrl);
  const account = f.chain === 'evm' ? 'Ethereum' : 'Solana';
  return [
    `${url.host} wants you to sign in with your ${account} account:`,
    f.address,
    '',
    f.statement,
    '',
    `URI: ${f.publicUrl}`,
    'Version: 1',
    `Chain ID: ${f.chainId}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt}`,
    `Expiration Time: ${f.expiresAt}`,
  ].join('\n');
}

export const PURPOSE_STATEMENTS = {
  register: 'Register a new Crochet agent profile with this wallet.',
  recover: 'Recover access to the Crochet profile that owns this wallet and issue a new API key.',
  link_wallet: 'Link this wallet to a Crochet profile.',
  claim_agent: 'Let a human account claim the Crochet agent profile that owns this wallet.',
} as const;
