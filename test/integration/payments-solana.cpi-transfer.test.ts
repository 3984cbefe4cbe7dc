// Threat: a buyer that pays through a program (a smart wallet or multisig making the TransferChecked by CPI) is never found, so its paid call never settles; or such a transfer is credited without carrying the reference.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { address, generateKeyPairSigner, type Address, type KeyPairSigner } from '@solana/kit';
import { TOKEN_PROGRAM_ADDRESS, findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstructionAsync, getTransferCheckedInstruction } from '@solana-program/token';
import { newSolanaReference } from '../../src/modules/payments/reference.ts';
import { createSolanaVerifier } from '../../src/modules/payments/solana-verifier.ts';
import { cpiTransferInstruction, cpiTransferProgramElf, randomProgramId } from '../support/solana-cpi-program.ts';
import { startPaidMarket, type PaidMarket } from '../support/paid-market.ts';
import { sendInstructions } from '../support/solana-pay.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

allowSlowSetup();

let m: PaidMarket;
let wallet: KeyPairSigner;
const program = randomProgramId();
beforeAll(async () => {
  m = await startPaidMarket();
  // A real program on the test chain that forwards a TransferChecked to the token program by CPI.
  m.sol.ledger.svm.addProgram(program, cpiTransferProgramElf());
  wallet = await m.sol.createFundedWallet(100_000_000n);
});
afterAll(() => m?.stop());

/** Pays `amount` into `payTo`'s token account through the program, passing `passedAccount` where the reference goes. */
async function payByCpi(payTo: Address, amount: bigint, passedAccount: Address) {
  const mint = address(m.sol.mint);
  const [source] = await findAssociatedTokenPda({ owner: wallet.address, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  const [destination] = await findAssociatedTokenPda({ owner: payTo, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  const { data } = getTransferCheckedInstruction({ source, mint, destination, authority: wallet, amount, decimals: 6 });
  const signature = await sendInstructions(m.sol.rpc, wallet, [
    await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: wallet, owner: payTo, mint }),
    cpiTransferInstruction({ program, tokenProgram: TOKEN_PROGRAM_ADDRESS, source, mint, destination, authority: wallet, reference: passedAccount, data: new Uint8Array(data) }),
  ]);
  // The transfer really ran inside the program: no top-level token instruction moved the money.
  const landed = m.sol.ledger.find(signature);
  expect(landed?.err).toBeNull();
  const topLevel = landed && 'instructions' in landed.compiled ? landed.compiled.instructions : [];
  expect(topLevel.map((ix) => landed?.accountKeys[ix.programAddressIndex])).toEqual([expect.any(String), program]);
  expect(landed?.innerInstructions.find((g) => g.index === 1)?.instructions).toHaveLength(1);
  return signature;
}

test('a TransferChecked made by a program through CPI, carrying the reference, is found and settles (gateway, real HTTP)', async () => {
  const raw = '{"cpi":true}';
  const offer = await m.call(m.listing.id, raw, m.buyer.key, { origin: 'SOL' });
  expect(offer.status).toBe(402);
  const route = offer.json.payment.routes[0];
  const relay = offer.json.payment.relay_request_id as string;
  const balanceBefore = await m.sol.tokenBalance(address(route.pay_to));
  const signature = await payByCpi(address(route.pay_to), BigInt(route.amount_atomic), address(route.reference));
  expect(await m.sol.tokenBalance(address(route.pay_to))).toBe(balanceBefore + BigInt(route.amount_atomic));

  const before = m.stub.calls.length;
  const res = await m.call(m.listing.id, raw, m.buyer.key, { relay });
  expect(res.status).toBe(200);
  expect(m.stub.calls.length).toBe(before + 1);
  const settled = m.t.deps.db.sqlite.query('SELECT settlement_key, tx_ref, transfer_index, payer FROM payment_settlements WHERE intent_id = ?').all(relay);
  // Inner transfers are numbered past any top-level index: outer instruction 1, first inner → 2048.
  expect(settled).toEqual([{ settlement_key: `${m.sol.network}:${signature}:2048`, tx_ref: signature, transfer_index: 2048, payer: wallet.address }]);
});

test('found by its signature too; an inner transfer without the reference is PAYMENT_REFERENCE_MISSING', async () => {
  const payTo = (await generateKeyPairSigner()).address;
  const route = { network: m.sol.network, rpcUrl: m.sol.rpcUrl, mint: m.sol.mint, decimals: 6, commitment: 'finalized' as const };
  const verifier = createSolanaVerifier(route);
  const reference = newSolanaReference();
  const paid = await payByCpi(payTo, 250_000n, address(reference));
  expect(await verifier.verify({ reference, payToOwner: payTo, amountAtomic: 250_000n, signature: paid })).toMatchObject({ status: 'verified', transferIndex: 2048 });
  // The program passes another account where the reference belongs.
  const other = await payByCpi(payTo, 250_000n, (await generateKeyPairSigner()).address);
  expect(await verifier.verify({ reference: newSolanaReference(), payToOwner: payTo, amountAtomic: 250_000n, signature: other })).toMatchObject({
    status: 'rejected',
    code: 'PAYMENT_REFERENCE_MISSING',
  });
});
