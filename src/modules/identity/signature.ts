import { getBase58Encoder } from '@solana/kit';
import nacl from 'tweetnacl';
import { type PublicClient, verifyMessage } from 'viem';
import type { Chain } from '../../shared/wallet-address.ts';

/** Decodes a 64-byte ed25519 signature given as base58 or base64; null when neither. */
function decodeSolanaSignature(signature: string): Uint8Array | null {
  if (/^[1-9A-HJ-NP-Za-km-z]{64,90}$/.test(signature)) {
    try {
      const bytes = getBase58Encoder().encode(signature);
      if (bytes.length === 64) return new Uint8Array(bytes);
    } catch {
      // fall through to base64
    }
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(signature)) {
    const bytes = Buffer.from(signature, signature.includes('-') || signature.includes('_') ? 'base64url' : 'base64');
    if (bytes.length === 64) return new Uint8Array(bytes);
  }
  return null;
}

/**
 * Verifies a wallet's signature over `message`. EVM: EIP-191 personal_sign, and, when an RPC
 * client is given, EIP-1271/6492 smart-wallet signatures. Solana: ed25519 over the UTF-8 text.
 */
export async function verifyWalletSignature(args: {
  chain: Chain;
  address: string;
  message: string;
  signature: string;
  evmClient?: PublicClient;
}): Promise<boolean> {
  const { chain, address, message, signature } = args;
  if (chain === 'solana') {
    const sig = decodeSolanaSignature(signature.trim());
    if (!sig) return false;
    const key = new Uint8Array(getBase58Encoder().encode(address));
    return nacl.sign.detached.verify(new TextEncoder().encode(message), sig, key);
  }
  if (!/^0x[0-9a-fA-F]+$/.test(signature)) return false;
  const sig = signature as `0x${string}`;
  try {
    if (await verifyMessage({ address: address as `0x${string}`, message, signature: sig })) return true;
  } catch {
    // Malformed EOA signature; a smart wallet may still accept it below.
  }
  if (!args.evmClient) return false;
  try {
    return await args.evmClient.verifyMessage({ address: address as `0x${string}`, message, signature: sig });
  } catch {
    return false;
  }
}
