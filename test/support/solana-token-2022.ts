import { AccountRole, address, getAddressEncoder, type Address, type Instruction } from '@solana/kit';

/**
 * The one Token-2022 instruction the test chain needs that the classic Token client cannot build:
 * InitializeTransferFeeConfig, packed by hand as spl-token-2022 does (the Token-2022 client
 * package is not a dependency). The mint's other instructions have the classic layout.
 */
export const TOKEN_2022_PROGRAM_ADDRESS = address('TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb');

/**
 * A mint account with the TransferFeeConfig extension: the 82-byte mint padded to a token
 * account's 165 bytes, the account-type byte, then one TLV entry (2 + 2 + 108 bytes: two
 * authorities, the withheld amount, older and newer fee).
 */
export const TRANSFER_FEE_MINT_SIZE = 165n + 1n + 4n + 108n;

const TRANSFER_FEE_EXTENSION = 26;
const INITIALIZE_TRANSFER_FEE_CONFIG = 0;

export function getInitializeTransferFeeConfigInstruction(args: {
  mint: Address;
  /** Both the fee-config and the withdraw-withheld authority. */
  authority: Address;
  basisPoints: number;
  maximumFee: bigint;
}): Instruction {
  const key = getAddressEncoder().encode(args.authority);
  const data = new Uint8Array(2 + 33 + 33 + 2 + 8);
  const view = new DataView(data.buffer);
  data[0] = TRANSFER_FEE_EXTENSION;
  data[1] = INITIALIZE_TRANSFER_FEE_CONFIG;
  // COption<Pubkey> packed as a 1-byte tag followed by the key.
  data[2] = 1;
  data.set(key, 3);
  data[35] = 1;
  data.set(key, 36);
  view.setUint16(68, args.basisPoints, true);
  view.setBigUint64(70, args.maximumFee, true);
  return { programAddress: TOKEN_2022_PROGRAM_ADDRESS, accounts: [{ address: args.mint, role: AccountRole.WRITABLE }], data };
}
