// Threat: the x402 fee payer co-signs a Solana transaction that moves more, other or someone
// else's money than the one offered transfer, or pays a payment bound to another intent.
import { describe, expect, test } from 'bun:test';
import {
  AccountRole,
  appendTransactionMessageInstructions,
  compileTransaction,
  createTransactionMessage,
  getBase58Decoder,
  getCompiledTransactionMessageEncoder,
  getCompiledTransactionMessageDecoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Blockhash,
  type Instruction,
} from '@solana/kit';
import { associatedTokenAccounts, TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from '../../src/modules/payments/solana-transfer.ts';
import { inexactMint, inspectPayment, type PaymentExpectation } from '../../src/modules/x402/svm/inspect.ts';
import { claimKeyOf } from '../../src/modules/x402/svm/scheme.ts';

const key = (n: number) => getBase58Decoder().decode(new Uint8Array(32).fill(n)) as Address;
const [feePayer, buyer, seller, mint, otherMint, cosigner] = [1, 2, 3, 4, 5, 6].map(key) as [Address, Address, Address, Address, Address, Address];
const BLOCKHASH = getBase58Decoder().decode(new Uint8Array(32).fill(9)) as Blockhash;
const COMPUTE_BUDGET = 'ComputeBudget111111111111111111111111111111' as Address;
const MEMO = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr' as Address;
const RELAY = 'rly_inspect0001';
const PRICE = 250_000n;

const sellerAtas = await associatedTokenAccounts(seller, mint);
const buyerAta = (await associatedTokenAccounts(buyer, mint)).get(TOKEN_PROGRAM)!;
const feePayerAtas = await associatedTokenAccounts(feePayer, mint);

const want: PaymentExpectation = {
  feePayer,
  feePayerAccounts: new Set(feePayerAtas.values()),
  mint,
  decimals: 6,
  destinations: sellerAtas,
  amountAtomic: PRICE,
  memo: RELAY,
  maxComputeUnits: 200_000,
  maxPriceMicroLamports: 100_000n,
};

const limit = (units: number): Instruction => {
  const data = new Uint8Array(5);
  data[0] = 2;
  new DataView(data.buffer).setUint32(1, units, true);
  return { programAddress: COMPUTE_BUDGET, data };
};
const price = (microLamports: bigint): Instruction => {
  const data = new Uint8Array(9);
  data[0] = 3;
  new DataView(data.buffer).setBigUint64(1, microLamports, true);
  return { programAddress: COMPUTE_BUDGET, data };
};
type TransferArgs = { source?: Address; mint?: Address; destination?: Address; authority?: Address; amount?: bigint; decimals?: number; program?: Address; extra?: Address[] };
const transfer = (a: TransferArgs = {}): Instruction => {
  const data = new Uint8Array(10);
  data[0] = 12;
  new DataView(data.buffer).setBigUint64(1, a.amount ?? PRICE, true);
  data[9] = a.decimals ?? 6;
  const accounts = [
    { address: a.source ?? buyerAta, role: AccountRole.WRITABLE },
    { address: a.mint ?? mint, role: AccountRole.READONLY },
    { address: a.destination ?? sellerAtas.get(TOKEN_PROGRAM)!, role: AccountRole.WRITABLE },
    { address: a.authority ?? buyer, role: AccountRole.READONLY_SIGNER },
    ...(a.extra ?? []).map((address) => ({ address, role: AccountRole.READONLY_SIGNER })),
  ];
  return { programAddress: a.program ?? TOKEN_PROGRAM, accounts, data };
};
const memo = (text = RELAY): Instruction => ({ programAddress: MEMO, data: new TextEncoder().encode(text) });

/** The message bytes of a v0 transaction with `instructions`, paid by `payer`. */
function message(instructions: Instruction[], payer: Address = feePayer) {
  const tx = compileTransaction(
    pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayer(payer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: BLOCKHASH, lastValidBlockHeight: 100n }, m),
      (m) => appendTransactionMessageInstructions(instructions, m),
    ),
  );
  return tx;
}
const standard = (t: TransferArgs = {}, tail: Instruction[] = [memo()]) => [limit(20_000), price(1n), transfer(t), ...tail];
const reasonOf = (instructions: Instruction[], payer?: Address) => {
  const r = inspectPayment(message(instructions, payer).messageBytes, want);
  return r.ok ? 'ok' : `${r.refusal.code} ${r.refusal.reason}`;
};

describe('what the fee payer co-signs', () => {
  test('the stock client layout passes, naming the buyer and the transfer at index 2 (known-answer claim key)', () => {
    const tx = message(standard());
    expect(inspectPayment(tx.messageBytes, want)).toEqual({ ok: true, payer: buyer, transferIndex: 2, destinationIndex: expect.any(Number) });
    // Fixed keys and blockhash: the claim key (SHA-256 of the message) never changes.
    expect(claimKeyOf(tx)).toBe(KNOWN_CLAIM_KEY);
  });

  test('a Token-2022 transfer into the seller\'s Token-2022 account passes', () => {
    expect(reasonOf(standard({ program: TOKEN_2022_PROGRAM, destination: sellerAtas.get(TOKEN_2022_PROGRAM)! }))).toBe('ok');
  });

  test.each([
    ['another fee payer', () => reasonOf(standard(), cosigner), 'invalid_exact_svm_fee_payer_mismatch'],
    ['a third signer (multisig authority)', () => reasonOf(standard({ extra: [cosigner] })), 'invalid_exact_svm_payload_excessive_signers'],
    ['no memo', () => reasonOf(standard({}, [])), 'invalid_exact_svm_payload_transaction_instructions_length'],
    ['two memos', () => reasonOf(standard({}, [memo(), memo()])), 'invalid_exact_svm_payload_transaction_instructions_length'],
    ['an extra instruction after the memo', () => reasonOf(standard({}, [memo(), transfer()])), 'invalid_exact_svm_payload_transaction_instructions_length'],
    ['compute price before limit', () => reasonOf([price(1n), limit(20_000), transfer(), memo()]), 'invalid_exact_svm_payload_transaction_instructions_length'],
    ['a memo that names an account', () => reasonOf([limit(20_000), price(1n), transfer(), { ...memo(), accounts: [{ address: buyer, role: AccountRole.READONLY_SIGNER }] }]), 'invalid_exact_svm_payload_transaction_instructions_length'],
    ['the fee payer as authority', () => reasonOf(standard({ authority: feePayer })), 'invalid_exact_svm_payload_transaction_fee_payer_transferring_funds'],
    ['the fee payer as destination', () => reasonOf(standard({ destination: feePayer })), 'invalid_exact_svm_payload_transaction_fee_payer_transferring_funds'],
    ["the fee payer's token account as source", () => reasonOf(standard({ source: feePayerAtas.get(TOKEN_PROGRAM)! })), 'invalid_exact_svm_payload_transaction_fee_payer_transferring_funds'],
    ['a compute-unit limit above the ceiling', () => reasonOf([limit(200_001), price(1n), transfer(), memo()]), 'invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high'],
    ['a compute-unit price above the ceiling', () => reasonOf([limit(20_000), price(100_001n), transfer(), memo()]), 'invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high'],
    ['another mint', () => reasonOf(standard({ mint: otherMint })), 'invalid_exact_svm_payload_mint_mismatch'],
    ['other decimals', () => reasonOf(standard({ decimals: 9 })), 'invalid_exact_svm_payload_mint_mismatch'],
    ["the seller's wallet itself, not its token account", () => reasonOf(standard({ destination: seller })), 'invalid_exact_svm_payload_recipient_mismatch'],
    ["the Token-2022 account under the classic program", () => reasonOf(standard({ destination: sellerAtas.get(TOKEN_2022_PROGRAM)! })), 'invalid_exact_svm_payload_recipient_mismatch'],
    ['one unit less', () => reasonOf(standard({ amount: PRICE - 1n })), 'invalid_exact_svm_payload_amount_mismatch'],
    ['one unit more', () => reasonOf(standard({ amount: PRICE + 1n })), 'invalid_exact_svm_payload_amount_mismatch'],
    ["another intent's relay id", () => reasonOf(standard({}, [memo('rly_inspect0002')])), 'invalid_exact_svm_payload_memo_mismatch'],
    ['the relay id with a suffix', () => reasonOf(standard({}, [memo(`${RELAY} `)])), 'invalid_exact_svm_payload_memo_mismatch'],
  ] as const)('refused: %s', (_name, run, reason) => {
    expect(run()).toEndWith(reason);
  });

  test('codes: less than the price is INSUFFICIENT, more is a mismatch; a foreign memo is REFERENCE_MISSING', () => {
    expect(reasonOf(standard({ amount: PRICE - 1n }))).toStartWith('PAYMENT_INSUFFICIENT ');
    expect(reasonOf(standard({ amount: PRICE + 1n }))).toStartWith('PAYMENT_REQUEST_MISMATCH ');
    expect(reasonOf(standard({}, [memo('rly_other')])).startsWith('PAYMENT_REFERENCE_MISSING ')).toBe(true);
  });

  test('address lookup tables are refused (they would hide accounts from this reading)', () => {
    const tx = message(standard());
    const compiled = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
    if (compiled.version !== 0) throw new Error('expected v0');
    const withLookup = getCompiledTransactionMessageEncoder().encode({ ...compiled, addressTableLookups: [{ lookupTableAddress: cosigner, writableIndexes: [0], readonlyIndexes: [] }] });
    const r = inspectPayment(withLookup, want);
    expect(r.ok ? 'ok' : r.refusal.reason).toBe('invalid_exact_svm_payload_transaction');
  });

  test('bytes that are not a message are refused, not thrown', () => {
    const r = inspectPayment(new Uint8Array([0x80, 1, 2, 3]), want);
    expect(r.ok).toBe(false);
  });
});

describe('mints that cannot take an exact payment', () => {
  /** A Token-2022 mint account with these TLV extensions (`value` bytes as given). */
  const mintWith = (extensions: [type: number, value: Uint8Array][]) => {
    const data = new Uint8Array(166 + extensions.reduce((n, [, v]) => n + 4 + v.length, 0));
    data[165] = 1; // account type: mint
    const view = new DataView(data.buffer);
    let at = 166;
    for (const [type, value] of extensions) {
      view.setUint16(at, type, true);
      view.setUint16(at + 2, value.length, true);
      data.set(value, at + 4);
      at += 4 + value.length;
    }
    return data;
  };
  /** TransferFeeConfig: authorities, withheld, then older and newer fee (epoch, maximum, basis points). */
  const feeConfig = (older: [bigint, number], newer: [bigint, number]) => {
    const value = new Uint8Array(108);
    const view = new DataView(value.buffer);
    view.setBigUint64(72 + 8, older[0], true);
    view.setUint16(72 + 16, older[1], true);
    view.setBigUint64(90 + 8, newer[0], true);
    view.setUint16(90 + 16, newer[1], true);
    return value;
  };
  const hook = (program: number) => {
    const value = new Uint8Array(64);
    value.fill(program, 32);
    return value;
  };
  test('classic Token mints and plain Token-2022 mints are fine', () => {
    expect(inexactMint(TOKEN_PROGRAM, new Uint8Array(82))).toBeNull();
    expect(inexactMint(TOKEN_2022_PROGRAM, new Uint8Array(82))).toBeNull();
    expect(inexactMint(TOKEN_2022_PROGRAM, mintWith([[18, new Uint8Array(64)]]))).toBeNull(); // metadata pointer
  });
  test('a fee config at zero and a hook without a program (as some stablecoins ship) are harmless', () => {
    expect(inexactMint(TOKEN_2022_PROGRAM, mintWith([[1, feeConfig([0n, 0], [0n, 0])], [14, hook(0)]]))).toBeNull();
    expect(inexactMint(TOKEN_2022_PROGRAM, mintWith([[1, feeConfig([1_000n, 0], [0n, 50])]]))).toBeNull();
  });
  test('a transfer fee in effect or scheduled, or a hook program, wherever it sits, is named', () => {
    expect(inexactMint(TOKEN_2022_PROGRAM, mintWith([[1, feeConfig([1_000n, 50], [0n, 0])]]))).toMatch(/transfer fee/);
    expect(inexactMint(TOKEN_2022_PROGRAM, mintWith([[18, new Uint8Array(64)], [1, feeConfig([0n, 0], [1_000n, 50])]]))).toMatch(/transfer fee/);
    expect(inexactMint(TOKEN_2022_PROGRAM, mintWith([[18, new Uint8Array(64)], [14, hook(7)]]))).toMatch(/transfer hook/);
  });
  test('an account of another program is not a mint; a truncated extension is malformed', () => {
    expect(inexactMint(feePayer, new Uint8Array(82))).toMatch(/not an SPL token mint/);
    const truncated = mintWith([[1, feeConfig([1_000n, 50], [0n, 0])]]).subarray(0, 200);
    expect(inexactMint(TOKEN_2022_PROGRAM, truncated)).toMatch(/malformed/);
  });
});

const KNOWN_CLAIM_KEY = 'svm:cbfaad84dffec65d0276a933781e4237459fd545a47203317122367d1adcc976';
