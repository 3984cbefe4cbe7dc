import { getCompiledTransactionMessageDecoder, type Address, type ReadonlyUint8Array } from '@solana/kit';
import { MEMO_PROGRAM_ADDRESS } from '@x402/svm';
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from '../../payments/solana-transfer.ts';
import type { X402Refusal } from '../scheme.ts';

/**
 * Crochet's own reading of an x402 Solana payment (SPEC §5): the message holds exactly the
 * offered instructions — compute-unit limit, compute-unit price, one TransferChecked of the route's
 * mint for exactly the price into the seller's associated token account, one memo equal to the
 * relay request id — and the fee payer is no account of any instruction, so its signature pays
 * fees and authorises nothing else. Pure; used on the buyer's payload before co-signing, and on the
 * confirmed transaction's bytes as the node returns them before booking.
 */
export type PaymentExpectation = {
  feePayer: Address;
  /** The fee payer's own associated token accounts for the mint: never a transfer's source. */
  feePayerAccounts: ReadonlySet<Address>;
  mint: Address;
  decimals: number;
  /** The seller's associated token account under each token program. */
  destinations: ReadonlyMap<Address, Address>;
  amountAtomic: bigint;
  memo: string;
  /** Compute-unit ceilings (the fee payer pays for them). */
  maxComputeUnits: number;
  maxPriceMicroLamports: bigint;
};

export type Inspection =
  /** `destinationIndex`: the seller's token account among the message's account keys. */
  | { ok: true; payer: Address; transferIndex: number; destinationIndex: number }
  | { ok: false; refusal: X402Refusal };

export const COMPUTE_BUDGET_PROGRAM = 'ComputeBudget111111111111111111111111111111';
const SET_COMPUTE_UNIT_LIMIT = 2;
const SET_COMPUTE_UNIT_PRICE = 3;
const TRANSFER_CHECKED = 12;
/** `[12, amount u64 LE, decimals u8]`. */
const TRANSFER_CHECKED_DATA_LENGTH = 10;
/** source, mint, destination, authority: a multisig authority (more accounts) is not accepted. */
const TRANSFER_CHECKED_ACCOUNTS = 4;
/** The transfer's place: after the two compute-budget instructions (its settlement key index). */
export const TRANSFER_INDEX = 2;
/** The fee payer and the paying wallet; nothing else signs. */
export const MAX_REQUIRED_SIGNATURES = 2;
export const MAX_MEMO_BYTES = 256;

const refuse = (reason: string, code: string, message: string): Inspection => ({ ok: false, refusal: { reason, code, message } });
const mismatch = (reason: string, message: string) => refuse(reason, 'PAYMENT_REQUEST_MISMATCH', message);

export function inspectPayment(messageBytes: ReadonlyUint8Array, want: PaymentExpectation): Inspection {
  let compiled;
  try {
    compiled = getCompiledTransactionMessageDecoder().decode(messageBytes);
  } catch {
    return mismatch('invalid_exact_svm_payload_transaction_could_not_be_decoded', 'The payment transaction could not be decoded.');
  }
  if (compiled.version !== 'legacy' && compiled.version !== 0) {
    return mismatch('invalid_exact_svm_payload_transaction_could_not_be_decoded', 'Only legacy and v0 transactions are accepted.');
  }
  // Lookup tables would hide accounts from this inspection; the stock client never uses them.
  if (compiled.version === 0 && (compiled.addressTableLookups ?? []).length > 0) {
    return mismatch('invalid_exact_svm_payload_transaction', 'Address lookup tables are not accepted in x402 payments.');
  }
  const keys = compiled.staticAccounts;
  if (keys[0] !== want.feePayer) return mismatch('invalid_exact_svm_fee_payer_mismatch', "The transaction's fee payer is not this server's.");
  if (compiled.header.numSignerAccounts > MAX_REQUIRED_SIGNATURES) {
    return mismatch('invalid_exact_svm_payload_excessive_signers', 'Only the fee payer and the paying wallet may sign.');
  }

  const program = (i: number) => keys[compiled.instructions[i]?.programAddressIndex ?? -1];
  const [limit, price, transfer, memo] = compiled.instructions;
  const layoutOk =
    compiled.instructions.length === 4 &&
    program(0) === COMPUTE_BUDGET_PROGRAM && limit?.data?.length === 5 && limit.data[0] === SET_COMPUTE_UNIT_LIMIT &&
    program(1) === COMPUTE_BUDGET_PROGRAM && price?.data?.length === 9 && price.data[0] === SET_COMPUTE_UNIT_PRICE &&
    (program(2) === TOKEN_PROGRAM || program(2) === TOKEN_2022_PROGRAM) && transfer?.data?.[0] === TRANSFER_CHECKED &&
    program(3) === MEMO_PROGRAM_ADDRESS && (memo?.accountIndices ?? []).length === 0;
  if (!layoutOk || !limit?.data || !price?.data || !transfer || !memo) {
    return mismatch(
      'invalid_exact_svm_payload_transaction_instructions_length',
      'The transaction must hold exactly: a compute-unit limit, a compute-unit price, one TransferChecked and one memo.',
    );
  }
  // The fee payer signs the whole message: it must be no instruction's account (source,
  // authority, destination or anything else).
  if (compiled.instructions.some((ix) => (ix.accountIndices ?? []).includes(0))) {
    return refuse('invalid_exact_svm_payload_transaction_fee_payer_transferring_funds', 'PAYMENT_REQUEST_MISMATCH', 'The fee payer may not be an account of any instruction.');
  }
  const units = new DataView(limit.data.buffer, limit.data.byteOffset, 5).getUint32(1, true);
  if (units > want.maxComputeUnits) {
    return mismatch('invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high', 'The compute-unit limit is too high.');
  }
  const microLamports = new DataView(price.data.buffer, price.data.byteOffset, 9).getBigUint64(1, true);
  if (microLamports > want.maxPriceMicroLamports) {
    return mismatch('invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high', 'The compute-unit price is too high.');
  }

  const accounts = (transfer.accountIndices ?? []).map((i) => keys[i]);
  const data = transfer.data ?? new Uint8Array();
  if (accounts.length !== TRANSFER_CHECKED_ACCOUNTS || data.length !== TRANSFER_CHECKED_DATA_LENGTH || accounts.some((a) => a === undefined)) {
    return mismatch('invalid_exact_svm_payload_no_transfer_instruction', 'The TransferChecked must name exactly its source, mint, destination and authority.');
  }
  const [source, mint, destination, authority] = accounts as [Address, Address, Address, Address];
  if (want.feePayerAccounts.has(source)) {
    return refuse('invalid_exact_svm_payload_transaction_fee_payer_transferring_funds', 'PAYMENT_REQUEST_MISMATCH', "The transfer may not come from the fee payer's token account.");
  }
  if (mint !== want.mint || data[9] !== want.decimals) {
    return refuse('invalid_exact_svm_payload_mint_mismatch', 'PAYMENT_WRONG_ASSET', 'The transfer is not of the offered asset.');
  }
  if (want.destinations.get(program(2) as Address) !== destination) {
    return refuse('invalid_exact_svm_payload_recipient_mismatch', 'PAYMENT_WRONG_RECIPIENT', "The transfer does not go to the seller's token account.");
  }
  const amount = new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(1, true);
  if (amount < want.amountAtomic) return refuse('invalid_exact_svm_payload_amount_mismatch', 'PAYMENT_INSUFFICIENT', 'The transfer is for less than the price.');
  if (amount > want.amountAtomic) return mismatch('invalid_exact_svm_payload_amount_mismatch', 'The transfer must be for exactly the price.');

  const memoData = memo.data ?? new Uint8Array();
  if (memoData.length > MAX_MEMO_BYTES || new TextDecoder().decode(new Uint8Array(memoData)) !== want.memo) {
    // The memo binds the payment to this intent, as the reference key does in the native flow.
    return refuse('invalid_exact_svm_payload_memo_mismatch', 'PAYMENT_REFERENCE_MISSING', "The memo must be the intent's relay request id.");
  }
  return { ok: true, payer: authority, transferIndex: TRANSFER_INDEX, destinationIndex: transfer.accountIndices?.[2] ?? -1 };
}

/** Token-2022 mint extension types that can make a transfer deliver other than its amount. */
const TRANSFER_FEE_CONFIG = 1;
const TRANSFER_HOOK = 14;
/** A Token-2022 mint: the 82-byte base padded to 165, the account-type byte (1 = mint), then TLV entries. */
const EXTENSIONS_OFFSET = 166;

/**
 * Why an `exact` payment in this mint cannot deliver exactly the price, or null: a transfer fee
 * (in effect or scheduled; withheld from what the seller receives) or a transfer hook program
 * (foreign code on every transfer). A fee config at zero or a hook without a program (as some
 * stablecoins ship) is harmless. Pure: the mint account as the node has it.
 */
export function inexactMint(owner: string, data: Uint8Array): string | null {
  if (owner === TOKEN_PROGRAM) return null;
  if (owner !== TOKEN_2022_PROGRAM) return 'the asset is not an SPL token mint';
  if (data.length <= EXTENSIONS_OFFSET) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = EXTENSIONS_OFFSET; at + 4 <= data.length; ) {
    const type = view.getUint16(at, true);
    const length = view.getUint16(at + 2, true);
    const value = at + 4;
    if (type === 0) break; // uninitialized: the rest is padding
    if (value + length > data.length) return 'the asset mint is malformed';
    // TransferFeeConfig: two authorities (64), withheld (8), then older and newer fees, each
    // epoch u64, maximum_fee u64, basis_points u16.
    if (type === TRANSFER_FEE_CONFIG && length >= 108) {
      const charges = (fee: number) => view.getBigUint64(fee + 8, true) > 0n && view.getUint16(fee + 16, true) > 0;
      if (charges(value + 72) || charges(value + 90)) return "the asset's mint has a transfer fee";
    }
    // TransferHook: authority (32), then the hook program (32; all zeros = none).
    if (type === TRANSFER_HOOK && length >= 64 && data.subarray(value + 32, value + 64).some((b) => b !== 0)) {
      return "the asset's mint has a transfer hook";
    }
    at = value + length;
  }
  return null;
}
