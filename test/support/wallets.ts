import { getBase58Decoder } from '@solana/kit';
import nacl from 'tweetnacl';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';

export type TestWallet = {
  chain: 'evm' | 'solana';
  address: string;
  sign(message: string): Promise<string>;
};

/** A fresh EVM account that signs with EIP-191 personal_sign, like a real wallet. */
export function evmWallet(privateKey: `0x${string}` = generatePrivateKey()): TestWallet & { privateKey: `0x${string}` } {
  const account = privateKeyToAccount(privateKey);
  return { chain: 'evm', address: account.address, privateKey, sign: (message) => account.signMessage({ message }) };
}

/** A fresh ed25519 keypair; signatures are base58 by default, base64 on request. */
export function solanaWallet(encoding: 'base58' | 'base64' = 'base58'): TestWallet & { secretKey: Uint8Array } {
  const pair = nacl.sign.keyPair();
  const b58 = getBase58Decoder();
  return {
    chain: 'solana',
    address: b58.decode(pair.publicKey),
    secretKey: pair.secretKey,
    sign: async (message) => {
      const sig = nacl.sign.detached(new TextEncoder().encode(message), pair.secretKey);
      return encoding === 'base58' ? b58.decode(sig) : Buffer.from(sig).toString('base64');
    },
  };
}
