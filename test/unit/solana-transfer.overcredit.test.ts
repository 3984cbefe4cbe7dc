// Threat: one Solana transaction is credited with more than pay_to's token account really received (fees withheld, several referenced transfers counted in full, tokens moved out again in the same transaction).
import { describe, expect, test } from 'bun:test';
import { AccountRole, getBase58Decoder, getU64Encoder, type Address } from '@solana/kit';
import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM, matchTransfer, type LocatedInstruction, type WantedTransfer } from '../../src/modules/payments/solana-transfer.ts';

const key = (n: number) => getBase58Decoder().decode(new Uint8Array(32).fill(n)) as Address;
const [mint, ata, ata2022, payer, source, refA, refB] = [2, 3, 4, 5, 6, 7, 8].map(key) as [Address, Address, Address, Address, Address, Address, Address];
const wanted = (reference: Address, amountAtomic = 1_000n): WantedTransfer => ({
  mint,
  decimals: 6,
  destinations: new Map<Address, Address>([[TOKEN_PROGRAM, ata], [TOKEN_2022_PROGRAM, ata2022]]),
  reference,
  amountAtomic,
});

/** A TransferChecked instruction (data `[12, amount u64, decimals]`) located at top level or inside a CPI. */
function transfer(amount: bigint, extra: Address[], trace: LocatedInstruction['trace'] = { kind: 'outer', index: 0 }, program: Address = TOKEN_PROGRAM, destination = ata): LocatedInstruction {
  const data = new Uint8Array(10);
  data[0] = 12;
  data.set(getU64Encoder().encode(amount), 1);
  data[9] = 6;
  const accounts = [source, mint, destination, payer, ...extra].map((a) => ({ address: a, role: AccountRole.READONLY }));
  return { programAddress: program, accounts, data, trace };
}
const received = (byAccount: Record<string, bigint>) => (account: Address) => byAccount[account] ?? 0n;

describe('what a Solana transfer is credited with', () => {
  test('a transfer is credited with what arrived: the gross amount less the fee withheld', () => {
    const ix = transfer(1_000n, [refA], { kind: 'outer', index: 0 }, TOKEN_2022_PROGRAM, ata2022);
    expect(matchTransfer([ix], wanted(refA), received({ [ata2022]: 990n }))).toMatchObject({ code: 'PAYMENT_INSUFFICIENT', message: expect.stringContaining('received 990 of the 1000') });
    expect(matchTransfer([ix], wanted(refA, 990n), received({ [ata2022]: 990n }))).toEqual({ instructionIndex: 0, authority: payer, amountAtomic: 990n });
  });

  test('two referenced transfers in one transaction are never credited with more than the account gained together', () => {
    // 1000 for intent A and 1 for intent B, but the account gained only 1001 − 10 (a fee).
    const instructions = [transfer(1_000n, [refA]), transfer(1n, [refB], { kind: 'outer', index: 1 })];
    const gained = received({ [ata]: 991n });
    expect(matchTransfer(instructions, wanted(refA, 990n), gained)).toMatchObject({ amountAtomic: 990n });
    expect(matchTransfer(instructions, wanted(refB, 1n), gained)).toMatchObject({ code: 'PAYMENT_INSUFFICIENT' });
  });

  test('tokens moved out again in the same transaction are not credited', () => {
    expect(matchTransfer([transfer(1_000n, [refA])], wanted(refA), received({ [ata]: 0n }))).toMatchObject({ code: 'PAYMENT_INSUFFICIENT' });
  });

  test('other inflows do not raise a transfer above its own amount', () => {
    expect(matchTransfer([transfer(999n, [refA])], wanted(refA), received({ [ata]: 5_000n }))).toMatchObject({ code: 'PAYMENT_INSUFFICIENT' });
    expect(matchTransfer([transfer(1_000n, [refA])], wanted(refA), received({ [ata]: 5_000n }))).toMatchObject({ amountAtomic: 1_000n });
  });

  test('an inner (CPI) transfer is numbered past every top-level index', () => {
    const ix = transfer(1_000n, [refA], { kind: 'inner', outerIndex: 2, innerIndex: 3 });
    expect(matchTransfer([ix], wanted(refA), received({ [ata]: 1_000n }))).toMatchObject({ instructionIndex: 1024 * 3 + 3 });
  });
});
