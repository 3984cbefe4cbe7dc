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

/** An instruction with where it ran: top level (`outer`) or by cross-program invocation (`inner`). */
export type LocatedInstruction = Instruction & {
  trace: { kind: 'outer'; index: number } | { kind: 'inner'; outerIndex: number; innerIndex: number };
};

export type MatchedTransfer = { instructionIndex: number; authority: Address; amountAtomic: bigint };
export type TransferMismatch = { code: PaymentRejectCode; message: string };

/**
 * Inner transfers are numbered after every possible top-level index (a transaction's 1232 bytes
 * hold far fewer than 1024 instructions, and the runtime allows 64 per trace), so a settlement key
 * `(network, signature, index)` names one transfer and top-level keys stay what they always were.
 */
const INNER_INDEX_BASE = 1024;

export function transferIndexOf(trace: LocatedInstruction['trace']): number {
  return trace.kind === 'outer' ? trace.index : INNER_INDEX_BASE * (trace.outerIndex + 1) + trace.innerIndex;
}

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
 * The first TransferChecked (top level, or made by a program through CPI) that pays, else why the
 * closest one does not. Checks, in order: token program and mint (and decimals) → WRONG_ASSET;
 * destination → WRONG_RECIPIENT; reference among the instruction's extra accounts →
 * REFERENCE_MISSING; what the destination really received → INSUFFICIENT.
 *
 * `receivedBy(account)` is the account's net balance change over the transaction (post − pre token
 * balance). A transfer is credited with its amount less whatever of the transaction's
 * TransferChecked inflows into that account did not arrive (a Token-2022 transfer fee withheld,
 * tokens moved out again): one transfer can never be credited with more than really arrived, and
 * several transfers of one transaction together never with more than the account gained.
 */
export function matchTransfer(
  instructions: readonly LocatedInstruction[],
  wanted: WantedTransfer,
  receivedBy: (account: Address) => bigint,
): MatchedTransfer | TransferMismatch {
  const transfers = instructions.flatMap((ix) => {
    const transfer = readTransferChecked(ix);
    return transfer && transfer.mint === wanted.mint && transfer.decimals === wanted.decimals ? [{ ix, transfer }] : [];
  });
  const grossInto = (account: Address) =>
    transfers.reduce((sum, { transfer }) => (transfer.destination === account ? sum + transfer.amount : sum), 0n);

  // Furthest stage any instruction reached: 0 none of the mint, 1 mint, 2 recipient, 3 reference.
  let furthest = 0;
  let bestCredited = -1n;
  for (const { ix, transfer } of transfers) {
    furthest = Math.max(furthest, 1);
    if (transfer.destination !== wanted.destinations.get(ix.programAddress)) continue;
    furthest = Math.max(furthest, 2);
    if (!transfer.extraAccounts.includes(wanted.reference)) continue;
    furthest = 3;
    const shortfall = grossInto(transfer.destination) - receivedBy(transfer.destination);
    const credited = shortfall > 0n ? transfer.amount - shortfall : transfer.amount;
    if (credited < wanted.amountAtomic) {
      bestCredited = credited > bestCredited ? credited : bestCredited;
      continue;
    }
    return { instructionIndex: transferIndexOf(ix.trace), authority: transfer.authority, amountAtomic: credited };
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
      return {
        code: 'PAYMENT_INSUFFICIENT',
        message: `pay_to's token account received ${bestCredited < 0n ? 0n : bestCredited} of the ${wanted.amountAtomic} atomic units due; a token that withholds a transfer fee must be sent gross of the fee.`,
      };
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
