import {
  AccountRole,
  appendTransactionMessageInstructions,
  compressTransactionMessageUsingAddressLookupTables,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type Instruction,
  type Rpc,
  type Signature,
  type SolanaRpcApi,
  type TransactionSigner,
} from '@solana/kit';
import {
  TOKEN_PROGRAM_ADDRESS,
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstructionAsync,
  getTransferCheckedInstruction,
} from '@solana-program/token';

/** A lookup table the payment transaction should load accounts from (v0 only). */
export type LookupTable = { address: Address; addresses: Address[] };

export type PayUsdcSolanaArgs = {
  rpc: Rpc<SolanaRpcApi>;
  payer: TransactionSigner;
  /** The token's mint. Pass another mint than the route's to make a "wrong asset" payment. */
  mint: Address;
  /** The recipient wallet; the tokens go to its associated token account (created if missing). */
  payToOwner: Address;
  amountAtomic: bigint;
  decimals: number;
  /** The Solana Pay reference from the 402 route: appended read-only to the transfer's accounts. */
  reference?: Address;
  /**
   * Send without the RPC's simulation. With more than the balance, the transfer then lands on
   * chain as a failed transaction (fee charged, `meta.err` set), as it would on mainnet.
   */
  skipPreflight?: boolean;
  /** Load the listed accounts (e.g. the reference) through this lookup table. */
  lookupTable?: LookupTable;
  version?: 'legacy' | 0;
  /** The mint's token program; read from the mint account when absent (Token or Token-2022). */
  tokenProgram?: Address;
};

/**
 * What a buyer agent does on a Solana route (SPEC §5 step 2): an SPL `TransferChecked` of `mint`
 * into `payToOwner`'s associated token account, with the reference key appended as Solana Pay
 * does. Returns the transaction signature (the optional `X-Crochet-Payment-Tx` value).
 */
export async function payUsdcSolana(args: PayUsdcSolanaArgs): Promise<Signature> {
  const tokenProgram = args.tokenProgram ?? (await tokenProgramOf(args.rpc, args.mint));
  const [source] = await findAssociatedTokenPda({ owner: args.payer.address, mint: args.mint, tokenProgram });
  const [destination] = await findAssociatedTokenPda({ owner: args.payToOwner, mint: args.mint, tokenProgram });
  const transfer = getTransferCheckedInstruction(
    { source, mint: args.mint, destination, authority: args.payer, amount: args.amountAtomic, decimals: args.decimals },
    { programAddress: tokenProgram },
  );
  const instructions: Instruction[] = [
    await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: args.payer, owner: args.payToOwner, mint: args.mint, tokenProgram }),
    args.reference
      ? { ...transfer, accounts: [...transfer.accounts, { address: args.reference, role: AccountRole.READONLY }] }
      : transfer,
  ];
  return sendInstructions(args.rpc, args.payer, instructions, args);
}

/** The program that owns `mint`, as a wallet reads it before building a transfer. */
export async function tokenProgramOf(rpc: Rpc<SolanaRpcApi>, mint: Address): Promise<Address> {
  const { value } = await rpc.getAccountInfo(mint, { encoding: 'base64' }).send();
  return value?.owner ?? TOKEN_PROGRAM_ADDRESS;
}

/** Sign and send `instructions` paid by `payer`, through the RPC like any wallet would. */
export async function sendInstructions(
  rpc: Rpc<SolanaRpcApi>,
  payer: TransactionSigner,
  instructions: Instruction[],
  options: { skipPreflight?: boolean; lookupTable?: LookupTable; version?: 'legacy' | 0 } = {},
): Promise<Signature> {
  const { value: blockhash } = await rpc.getLatestBlockhash().send();
  const signed =
    options.version === 'legacy'
      ? await signTransactionMessageWithSigners(
          pipe(
            createTransactionMessage({ version: 'legacy' }),
            (m) => setTransactionMessageFeePayerSigner(payer, m),
            (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
            (m) => appendTransactionMessageInstructions(instructions, m),
          ),
        )
      : await signTransactionMessageWithSigners(
          pipe(
            createTransactionMessage({ version: 0 }),
            (m) => setTransactionMessageFeePayerSigner(payer, m),
            (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
            (m) => appendTransactionMessageInstructions(instructions, m),
            (m) =>
              options.lookupTable
                ? compressTransactionMessageUsingAddressLookupTables(m, {
                    [options.lookupTable.address]: options.lookupTable.addresses,
                  })
                : m,
          ),
        );
  return rpc
    .sendTransaction(getBase64EncodedWireTransaction(signed), {
      encoding: 'base64',
      skipPreflight: options.skipPreflight ?? false,
    })
    .send();
}
