import { getBase58Encoder } from '@solana/kit';
import { getAddress, isAddress } from 'viem';

export type Chain = 'evm' | 'solana';
export type ParsedAddress = { chain: Chain; address: string; key: string };

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

/** Detects the chain from the address form (0x + 40 hex = EVM, base58 32-byte key = Solana); null when malformed. */
export function parseWalletAddress(raw: string): ParsedAddress | null {
  const s = raw.trim();
  if (/^0x[0-9a-fA-F]{40}$/.test(s)) {
    // Mixed case must be a valid EIP-55 checksum; all-lower or all-upper is accepted as written.
    if (!isAddress(s, { strict: /[a-f]/.test(s.slice(2)) && /[A-F]/.test(s.slice(2)) })) return null;
    const address = getAddress(s);
    return { chain: 'evm', address, key: address.toLowerCase() };
  }
  if (BASE58.test(s)) {
    try {
      if (getBase58Encoder().encode(s).length !== 32) return null;
    } catch {
      return null;
    }
    return { chain: 'solana', address: s, key: s };
  }
  return null;
}

/** True for a CAIP-2 EVM network id (`eip155:<chainId>`); Solana ones are `solana:<genesis>`. */
export const isEvmNetwork = (network: string) => network.startsWith('eip155:');
