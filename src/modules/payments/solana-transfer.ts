import {
  address,
  getAddressEncoder,
  getProgramDerivedAddress,
  getU64Decoder,
  type Address,
  type Instruction,
} from '@solana/kit';
import type { PaymentRejectCode } from './verification-result.ts';

/**
 * Finds a Solana Pay style `TransferChecked` in decoded transaction instructions (SPEC §5 steps
 * 2 and 4). Pure: the RPC side lives in solana-verifier.ts.
 */
export const TOKEN_PROGRAM = address('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
export const TOKEN_2022_PROGRAM = address('TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb');
const ASSOCIATED_TOKEN_PROGRAM = address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');
const TOKEN_PROGRAMS: readonly Address[] = [TOKEN_PROGRAM, TOKEN_2022_PROGRAM];

/** SPL Token (and Token-2022) instruction 12: `[12, amount u64 LE, decimals u8]`. */
const TRANSFER_CHECKED = 12;
const TRANSFER_CHECKED_DATA_LENGTH = 10;
/** source, mint, destination, authority; then multisig signers and extra keys like the reference. */
const TRANSFER_CHECKED_FIXED_ACCOUNTS = 4;

export type WantedTransfer = {
  mint: Address;
  decimals: number;
  /** Expected destination token account per token program (the owner's associated accounts). */
  destinations: Map<Address, Address>;
  reference: Address;
  amountAtomic: bigint;
};

export type MatchedTransfer = { instructionIndex: number; authority: Address; amountAtomic: bigint };
export type TransferMismatch = { code: PaymentRejectCode; message: string };

/**
 * The owner's associated token account for `mint` under each token program, derived like
 * `findAssociatedTokenPda` (seeds: owner, token program, mint) without depending on the program client.
 */
export async function associatedTokenAccounts(owner: Address, mint: Address): Promise<Map<Address, Address>> {
  const encoder = getAddressEncoder();
  const entries = await Promise.all(
    TOKEN_PROGRAMS.map(async (program) => {
      const [ata] = await getProgramDerivedAddress({
        programAddress: ASSOCIATED_TOKEN_PROGRAM,
        seeds: [encoder.encode(owner), encoder.encode(program), encoder.encode(mint)],
      });
      return [program, ata] as const;
    }),
  );
  return new Map(entries);
}

/**
 * The first top-level TransferChecked that pays, else why the closest one does not. Checks, in
 * order: token program and mint (and decimals) → WRONG_ASSET; destination → WRONG_RECIPIENT;
 * reference among the instruction's extra accounts → REFERENCE_MISSING; amount → INSUFFICIENT.
 */
export function matchTransfer(instructions: readonly Instruction[], wanted: WantedTransfer): MatchedTransfer | TransferMismatch {
  // Furthest stage any instruction reached: 0 none of the mint, 1 mint, 2 recipient, 3 reference.
  let furthest = 0;
  for (const [instructionIndex, ix] of instructions.entries()) {
    const transfer = readTransferChecked(ix);
    if (!transfer) continue;
    if (transfer.mint !== wanted.mint || transfer.decimals !== wanted.decimals) continue;
    furthest = Math.max(furthest, 1);
    if (transfer.destination !== wanted.destinations.get(ix.programAddress)) continue;
    furthest = Math.max(furthest, 2);
    if (!transfer.extraAccounts.includes(wanted.reference)) continue;
    furthest = 3;
    if (transfer.amount < wanted.amountAtomic) continue;
    return { instructionIndex, authority: transfer.authority, amountAtomic: transfer.amount };
  }
  switch (furthest) {
    case 0:
      return { code: 'PAYMENT_WRONG_ASSET', message: "The transaction has no TransferChecked of this route's token." };
    case 1:
      return {
        code: 'PAYMENT_WRONG_RECIPIENT',
        message: "The transfer does not go to pay_to's associated token account for this token.",
      };
    case 2:
      return {
        code: 'PAYMENT_REFERENCE_MISSING',
        message: "The transfer does not carry this payment's reference key; add it to the TransferChecked accounts.",
      };
    default:
      return { code: 'PAYMENT_INSUFFICIENT', message: 'The transfer is smaller than the amount due.' };
  }
}

type TransferChecked = {
  mint: Address;
  destination: Address;
  authority: Address;
  extraAccounts: Address[];
  amount: bigint;
  decimals: number;
};

function readTransferChecked(ix: Instruction): TransferChecked | null {
  if (!TOKEN_PROGRAMS.includes(ix.programAddress)) return null;
  const data = ix.data;
  const accounts = ix.accounts ?? [];
  if (!data || data.length !== TRANSFER_CHECKED_DATA_LENGTH || data[0] !== TRANSFER_CHECKED) return null;
  const [, mint, destination, authority] = accounts;
  if (!mint || !destination || !authority) return null;
  return {
    mint: mint.address,
    destination: destination.address,
    authority: authority.address,
    extraAccounts: accounts.slice(TRANSFER_CHECKED_FIXED_ACCOUNTS).map((a) => a.address),
    amount: getU64Decoder().decode(data, 1),
    decimals: data[9] ?? -1,
  };
}
