import {
  address,
  appendTransactionMessageInstructions,
  createNoopSigner,
  createTransactionMessage,
  getBase58Decoder,
  getBase64EncodedWireTransaction,
  partiallySignTransactionMessageWithSigners,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Instruction,
  type KeyPairSigner,
  type TransactionSigner,
} from '@solana/kit';
import { TOKEN_PROGRAM_ADDRESS, findAssociatedTokenPda, getTransferCheckedInstruction } from '@solana-program/token';
import { x402Client } from '@x402/fetch';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { MEMO_PROGRAM_ADDRESS } from '@x402/svm';
import { ExactSvmScheme as ExactSvmClient } from '@x402/svm/exact/client';
import type { SolanaTestChain } from './solana-rpc.ts';

/**
 * Buyer-side helpers for x402 on Solana: the stock client as a buyer configures it, a fee-payer
 * secret in the format `CROCHET_X402_SOLANA_FEE_PAYER` takes, and hand-built payments for the
 * attacks a stock client would never make.
 */

/** A fresh Ed25519 key as `solana-keygen` exports it: base58 of secret ‖ public (64 bytes). */
export async function newFeePayerSecret(): Promise<{ secret: string; address: Address }> {
  const pair = (await crypto.subtle.generateKey('Ed25519', true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const bytes = new Uint8Array(64);
  bytes.set(pkcs8.slice(-32), 0); // the 32-byte seed ends the PKCS#8 document
  bytes.set(publicKey, 32);
  const base58 = getBase58Decoder();
  return { secret: base58.decode(bytes), address: address(base58.decode(publicKey)) };
}

/** The stock client as a buyer sets it up: its key, its RPC, and the (non-default) asset it agrees to pay. */
export function stockSvmClient(buyer: KeyPairSigner, chain: SolanaTestChain, maxAtomic = '100000000'): x402Client {
  const client = new x402Client();
  client.register('solana:*', new ExactSvmClient(buyer, { rpcUrl: chain.rpcUrl }));
  client.setSpendControls({ allowedAssets: [{ network: chain.network as PaymentRequirements['network'], asset: chain.mint, maxAmountPerPayment: maxAtomic }] });
  return client;
}

export type HandBuilt = {
  chain: SolanaTestChain;
  feePayer: Address;
  /** Who signs as the transfer authority (a noop signer for "the fee payer"). */
  authority: TransactionSigner;
  /** Owner of the source token account (defaults to the authority). */
  sourceOwner?: Address;
  payTo: Address;
  amount: bigint;
  memo: string;
  /** Instructions appended after the memo. */
  extra?: Instruction[];
  /** Replace the memo (e.g. with nothing). */
  withoutMemo?: boolean;
  units?: number;
  microLamports?: bigint;
};

/** A payment built by hand like the stock client does, with the knobs an attacker would turn. */
export async function handBuiltPayment(args: HandBuilt, accepted: PaymentRequirements): Promise<PaymentPayload> {
  const mint = args.chain.mint;
  const [source] = await findAssociatedTokenPda({ owner: args.sourceOwner ?? args.authority.address, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  const [destination] = await findAssociatedTokenPda({ owner: args.payTo, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  const instructions: Instruction[] = [
    computeBudget(2, args.units ?? 20_000, 4),
    computeBudget(3, args.microLamports ?? 1n, 8),
    getTransferCheckedInstruction({ source, mint, destination, authority: args.authority, amount: args.amount, decimals: args.chain.decimals }),
    ...(args.withoutMemo ? [] : [{ programAddress: address(MEMO_PROGRAM_ADDRESS), accounts: [], data: new TextEncoder().encode(args.memo) }]),
    ...(args.extra ?? []),
  ];
  const { value: blockhash } = await args.chain.rpc.getLatestBlockhash().send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(createNoopSigner(args.feePayer), m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const signed = await partiallySignTransactionMessageWithSigners(message);
  return { x402Version: 2, resource: { url: 'http://crochet.test/paid', description: '', mimeType: '' }, accepted, payload: { transaction: getBase64EncodedWireTransaction(signed) } };
}

/** ComputeBudget's SetComputeUnitLimit (2, u32) / SetComputeUnitPrice (3, u64), little-endian. */
function computeBudget(discriminator: 2 | 3, value: number | bigint, bytes: 4 | 8): Instruction {
  const data = new Uint8Array(1 + bytes);
  data[0] = discriminator;
  const view = new DataView(data.buffer);
  if (bytes === 4) view.setUint32(1, Number(value), true);
  else view.setBigUint64(1, BigInt(value), true);
  return { programAddress: address('ComputeBudget111111111111111111111111111111'), accounts: [], data };
}
