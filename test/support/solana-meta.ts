import { getBase58Decoder, getAddressDecoder, type Address } from '@solana/kit';
import type { LiteSVM, TransactionMetadata } from 'litesvm';

/**
 * The parts of a transaction's `meta` a validator computes from account states and the runtime's
 * instruction trace: token balances before and after, and the inner (CPI) instructions. Shapes as
 * agave's RPC returns them for the base64/base58/json encodings.
 */
export type TokenBalance = {
  accountIndex: number;
  mint: Address;
  owner: Address;
  programId: Address;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string };
};

export type InnerInstructionGroup = {
  index: number;
  instructions: { programIdIndex: number; accounts: number[]; data: string; stackHeight: number | null }[];
};

const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
const TOKEN_2022_PROGRAM = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb';
/** SPL token account: mint 0..32, owner 32..64, amount 64..72, state at 108; Token-2022 adds extensions after byte 165. */
const TOKEN_ACCOUNT_SIZE = 165;
const ACCOUNT_TYPE_ACCOUNT = 2;
const MINT_DECIMALS_OFFSET = 44;

/** Token balances of every token account among `accountKeys`, read from the SVM's current state. */
export function tokenBalances(svm: LiteSVM, accountKeys: readonly Address[]): TokenBalance[] {
  const addresses = getAddressDecoder();
  const balances: TokenBalance[] = [];
  accountKeys.forEach((key, accountIndex) => {
    const account = svm.getAccount(key);
    if (!account.exists) return;
    const data = account.data;
    // Mints (82 bytes) and multisigs (355) are not token accounts; Token-2022 marks extended ones by type.
    const isTokenAccount =
      (account.programAddress === TOKEN_PROGRAM && data.length === TOKEN_ACCOUNT_SIZE) ||
      (account.programAddress === TOKEN_2022_PROGRAM &&
        (data.length === TOKEN_ACCOUNT_SIZE || (data.length > TOKEN_ACCOUNT_SIZE && data[TOKEN_ACCOUNT_SIZE] === ACCOUNT_TYPE_ACCOUNT)));
    // state 0 = uninitialized: validators list only initialized token accounts.
    if (!isTokenAccount || data[108] === 0) return;
    const mint = addresses.decode(data.subarray(0, 32));
    const mintAccount = svm.getAccount(mint);
    const decimals = mintAccount.exists ? (mintAccount.data[MINT_DECIMALS_OFFSET] ?? 0) : 0;
    const amount = new DataView(data.buffer, data.byteOffset).getBigUint64(64, true);
    const uiAmountString = formatUnits(amount, decimals);
    balances.push({
      accountIndex,
      mint,
      owner: addresses.decode(data.subarray(32, 64)),
      programId: account.programAddress,
      uiTokenAmount: { amount: amount.toString(), decimals, uiAmount: amount === 0n ? null : Number(uiAmountString), uiAmountString },
    });
  });
  return balances;
}

/** The runtime's CPI trace, grouped by the top-level instruction that caused it (empty groups left out). */
export function innerInstructionGroups(meta: TransactionMetadata): InnerInstructionGroup[] {
  const base58 = getBase58Decoder();
  return meta
    .innerInstructions()
    .map((group, index) => ({
      index,
      instructions: group.map((inner) => {
        const ix = inner.instruction();
        return {
          programIdIndex: ix.programIdIndex(),
          accounts: [...ix.accounts()],
          data: base58.decode(ix.data()),
          stackHeight: inner.stackHeight(),
        };
      }),
    }))
    .filter((group) => group.instructions.length > 0);
}

function formatUnits(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString();
  const text = amount.toString().padStart(decimals + 1, '0');
  const fraction = text.slice(-decimals).replace(/0+$/, '');
  return fraction ? `${text.slice(0, -decimals)}.${fraction}` : text.slice(0, -decimals);
}
