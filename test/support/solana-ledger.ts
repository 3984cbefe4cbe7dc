import { LiteSVM, FailedTransactionMetadata } from 'litesvm';
import {
  address,
  getAddressDecoder,
  getBase58Encoder,
  getCompiledTransactionMessageDecoder,
  getSignatureFromTransaction,
  getTransactionDecoder,
  lamports,
  type Address,
  type CompiledTransactionMessage,
  type Signature,
} from '@solana/kit';
import { toRpcTransactionError, type RpcTransactionError } from './solana-errors.ts';
import { innerInstructionGroups, tokenBalances, type InnerInstructionGroup, type TokenBalance } from './solana-meta.ts';

/**
 * LiteSVM plus what a validator's RPC has and LiteSVM lacks: a history of landed transactions
 * (with slot, error, account keys including lookup-table ones) and commitment levels the test sets.
 */
export type Commitment = 'processed' | 'confirmed' | 'finalized';
export const COMMITMENT_RANK: Record<Commitment, number> = { processed: 0, confirmed: 1, finalized: 2 };

export type LandedTransaction = {
  signature: Signature;
  wire: Uint8Array;
  version: 'legacy' | 0;
  compiled: CompiledTransactionMessage;
  slot: bigint;
  blockTime: number;
  err: RpcTransactionError | null;
  fee: bigint;
  logs: string[];
  computeUnits: bigint;
  /** Static keys, then lookup-table writable, then lookup-table readonly (runtime order). */
  accountKeys: Address[];
  loaded: { writable: Address[]; readonly: Address[] };
  preBalances: bigint[];
  postBalances: bigint[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  innerInstructions: InnerInstructionGroup[];
  level: Commitment;
};

export type SubmitResult =
  | { signature: Signature; landed: LandedTransaction | null }
  | { preflightFailed: { err: RpcTransactionError; logs: string[] } };

export type SimulateResult = { err: RpcTransactionError | null; logs: string[]; unitsConsumed: bigint };

const ADDRESS_LOOKUP_TABLE_PROGRAM = address('AddressLookupTab1e1111111111111111111111111');
const LOOKUP_TABLE_META_SIZE = 56;
const LAMPORTS_PER_SIGNATURE = 5000n;

export class SolanaLedger {
  readonly svm: LiteSVM;
  /** The commitment newly landed transactions start at (tests lower it to show `pending`). */
  landingCommitment: Commitment = 'finalized';
  private readonly bySignature = new Map<string, LandedTransaction>();
  /** Oldest first. */
  private readonly landed: LandedTransaction[] = [];

  constructor() {
    // A validator accepts any of the last ~150 blockhashes; LiteSVM only its latest. We advance
    // the blockhash per landed transaction (so identical payments get distinct signatures) and
    // turn its check off so a transaction built a moment earlier still lands.
    this.svm = new LiteSVM().withBlockhashCheck(false);
  }

  slot(): bigint {
    return this.svm.getClock().slot;
  }

  /** Run a wire transaction like `sendTransaction` does, optionally simulating first (preflight). */
  submit(wire: Uint8Array, options: { preflight: boolean; level?: Commitment }): SubmitResult {
    const tx = getTransactionDecoder().decode(wire);
    const signature = getSignatureFromTransaction(tx);
    if (this.bySignature.has(signature)) return { signature, landed: null };

    const compiled = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
    if (compiled.version !== 'legacy' && compiled.version !== 0) {
      throw new Error(`test RPC supports legacy and v0 transactions only (got v${compiled.version})`);
    }
    const loaded = this.resolveLookupTables(compiled);
    const accountKeys = [...compiled.staticAccounts, ...loaded.writable, ...loaded.readonly];

    if (options.preflight) {
      const simulated = this.svm.simulateTransaction(tx);
      if (simulated instanceof FailedTransactionMetadata) {
        return { preflightFailed: { err: toRpcTransactionError(simulated), logs: simulated.meta().logs() } };
      }
    }

    const preBalances = accountKeys.map((key) => this.svm.getBalance(key) ?? 0n);
    const preTokenBalances = tokenBalances(this.svm, accountKeys);
    this.advanceSlot();
    const result = this.svm.sendTransaction(tx);
    // LiteSVM keeps in its own history exactly the transactions that were executed and charged a
    // fee, including failed ones: those land on a real chain too. The rest (bad signature,
    // AlreadyProcessed, fee payer without funds) a validator drops without a trace.
    if (this.svm.getTransaction(signature) === null) return { signature, landed: null };

    const failed = result instanceof FailedTransactionMetadata;
    const meta = failed ? result.meta() : result;
    const record: LandedTransaction = {
      signature,
      wire,
      version: compiled.version,
      compiled,
      slot: this.slot(),
      blockTime: Number(this.svm.getClock().unixTimestamp),
      err: failed ? toRpcTransactionError(result) : null,
      fee: LAMPORTS_PER_SIGNATURE * BigInt(compiled.header.numSignerAccounts) + priorityFee(compiled),
      logs: meta.logs(),
      computeUnits: meta.computeUnitsConsumed(),
      accountKeys,
      loaded,
      preBalances,
      postBalances: accountKeys.map((key) => this.svm.getBalance(key) ?? 0n),
      preTokenBalances,
      postTokenBalances: tokenBalances(this.svm, accountKeys),
      innerInstructions: innerInstructionGroups(meta),
      level: options.level ?? this.landingCommitment,
    };
    this.bySignature.set(signature, record);
    this.landed.push(record);
    this.svm.expireBlockhash();
    return { signature, landed: record };
  }

  /**
   * Run a wire transaction without landing it, as `simulateTransaction` does. Validators skip
   * signature checks unless asked (`sigVerify`), so a partially signed transaction (the x402 fee
   * payer's slot still empty) simulates.
   */
  simulate(wire: Uint8Array, options: { sigVerify: boolean }): SimulateResult {
    const tx = getTransactionDecoder().decode(wire);
    const compiled = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
    if (compiled.version !== 'legacy' && compiled.version !== 0) {
      throw new Error(`test RPC supports legacy and v0 transactions only (got v${compiled.version})`);
    }
    this.svm.withSigverify(options.sigVerify);
    try {
      const simulated = this.svm.simulateTransaction(tx);
      if (simulated instanceof FailedTransactionMetadata) {
        const meta = simulated.meta();
        return { err: toRpcTransactionError(simulated), logs: meta.logs(), unitsConsumed: meta.computeUnitsConsumed() };
      }
      const meta = simulated.meta();
      return { err: null, logs: meta.logs(), unitsConsumed: meta.computeUnitsConsumed() };
    } finally {
      this.svm.withSigverify(true);
    }
  }

  find(signature: string): LandedTransaction | undefined {
    return this.bySignature.get(signature);
  }

  /** Landed transactions touching `key` (including via lookup tables), newest first. */
  historyOf(key: string, minimum: Commitment): LandedTransaction[] {
    return this.landed
      .filter((t) => COMMITMENT_RANK[t.level] >= COMMITMENT_RANK[minimum] && t.accountKeys.includes(key as Address))
      .reverse();
  }

  /** Raise a transaction's commitment (never lowers it). */
  promote(signature: string, level: Commitment): void {
    const record = this.bySignature.get(signature);
    if (!record) throw new Error(`no landed transaction ${signature}`);
    if (COMMITMENT_RANK[level] > COMMITMENT_RANK[record.level]) record.level = level;
  }

  promoteAll(level: Commitment): void {
    for (const record of this.landed) this.promote(record.signature, level);
  }

  /** Give `owner` lamports without a transaction (no history entry, no duplicate-signature traps). */
  fund(owner: Address, amount: bigint): void {
    const current = this.svm.getAccount(owner);
    this.svm.setAccount({
      address: owner,
      data: current.exists ? current.data : new Uint8Array(),
      executable: false,
      lamports: lamports((current.exists ? current.lamports : 0n) + amount),
      programAddress: current.exists ? current.programAddress : address('11111111111111111111111111111111'),
      space: current.exists ? current.space : 0n,
    });
  }

  /**
   * Create an address lookup table account holding `addresses`, written directly in the on-chain
   * layout (56-byte meta, then 32-byte keys) because the ALT program client is not a dependency.
   */
  createLookupTable(table: Address, addresses: Address[]): void {
    const data = new Uint8Array(LOOKUP_TABLE_META_SIZE + 32 * addresses.length);
    const view = new DataView(data.buffer);
    view.setUint32(0, 1, true); // ProgramState::LookupTable
    view.setBigUint64(4, 0xffff_ffff_ffff_ffffn, true); // deactivation_slot: never deactivated
    view.setBigUint64(12, 0n, true); // last_extended_slot: long past, so every key is active
    // byte 20: last_extended_slot_start_index = 0; byte 21: authority = None (frozen table).
    const encoder = getBase58Encoder();
    addresses.forEach((key, i) => data.set(encoder.encode(key), LOOKUP_TABLE_META_SIZE + 32 * i));
    this.svm.setAccount({
      address: table,
      data,
      executable: false,
      lamports: lamports(this.svm.minimumBalanceForRentExemption(BigInt(data.length))),
      programAddress: ADDRESS_LOOKUP_TABLE_PROGRAM,
      space: BigInt(data.length),
    });
  }

  private resolveLookupTables(compiled: CompiledTransactionMessage): LandedTransaction['loaded'] {
    const loaded: LandedTransaction['loaded'] = { writable: [], readonly: [] };
    if (compiled.version !== 0) return loaded;
    const decoder = getAddressDecoder();
    for (const lookup of compiled.addressTableLookups ?? []) {
      const account = this.svm.getAccount(lookup.lookupTableAddress);
      if (!account.exists) continue; // the runtime rejects it; nothing to index
      const keyAt = (i: number) =>
        decoder.decode(account.data.subarray(LOOKUP_TABLE_META_SIZE + 32 * i, LOOKUP_TABLE_META_SIZE + 32 * (i + 1)));
      loaded.writable.push(...lookup.writableIndexes.map(keyAt));
      loaded.readonly.push(...lookup.readonlyIndexes.map(keyAt));
    }
    return loaded;
  }

  /** Lets `count` empty slots pass (about 0.4 s each on a real cluster). */
  advanceSlots(count: number): void {
    for (let i = 0; i < count; i++) this.advanceSlot();
  }

  private advanceSlot(): void {
    const clock = this.svm.getClock();
    clock.slot = clock.slot + 1n;
    clock.unixTimestamp = BigInt(Math.floor(Date.now() / 1000));
    this.svm.setClock(clock);
  }
}

const COMPUTE_BUDGET_PROGRAM = 'ComputeBudget111111111111111111111111111111';
const DEFAULT_UNITS_PER_INSTRUCTION = 200_000n;
const MAX_COMPUTE_UNITS = 1_400_000n;

/**
 * The prioritization fee a validator charges on top of the signature fee: ceil(compute-unit price
 * (micro-lamports) × compute-unit limit / 10^6), the limit being SetComputeUnitLimit's or 200k per
 * other instruction. LiteSVM charges it too; the history must report the same `meta.fee`.
 */
function priorityFee(compiled: CompiledTransactionMessage): bigint {
  if (compiled.version !== 'legacy' && compiled.version !== 0) return 0n; // submit refused it already
  let price = 0n;
  let limit: bigint | undefined;
  let others = 0n;
  for (const ix of compiled.instructions) {
    const data = ix.data ?? new Uint8Array();
    if (compiled.staticAccounts[ix.programAddressIndex] !== COMPUTE_BUDGET_PROGRAM) {
      others += 1n;
      continue;
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data[0] === 2 && data.length >= 5) limit = BigInt(view.getUint32(1, true));
    if (data[0] === 3 && data.length >= 9) price = view.getBigUint64(1, true);
  }
  const units = limit ?? (others * DEFAULT_UNITS_PER_INSTRUCTION < MAX_COMPUTE_UNITS ? others * DEFAULT_UNITS_PER_INSTRUCTION : MAX_COMPUTE_UNITS);
  return (price * units + 999_999n) / 1_000_000n;
}
