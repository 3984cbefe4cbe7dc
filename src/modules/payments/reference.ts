import { getBase58Decoder } from '@solana/kit';
import nacl from 'tweetnacl';

/**
 * A fresh Solana Pay reference for one payment intent: the public key of a new Ed25519 key pair,
 * in base58. Only its uniqueness matters (the secret key is thrown away): a buyer appends it to
 * the TransferChecked, and finding it there proves the transfer was made for this intent.
 */
export function newSolanaReference(): string {
  return getBase58Decoder().decode(nacl.sign.keyPair().publicKey);
}
