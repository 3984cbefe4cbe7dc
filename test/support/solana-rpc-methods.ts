import { getBase58Decoder, getBase58Encoder, isAddress, type Address } from '@solana/kit';
import { COMMITMENT_RANK, type Commitment, type LandedTransaction, type SolanaLedger } from './solana-ledger.ts';

/**
 * The JSON-RPC methods of a Solana validator that Crochet and the test buyers call, answered from
 * LiteSVM and our landed-transaction history, in the shapes mainnet RPC nodes return.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

type Params = unknown[];
type Config = Record<string, unknown>;
export type MethodContext = { ledger: SolanaLedger; genesisHash: string };
type Method = (params: Params, ctx: MethodContext) => unknown;

const INVALID_PARAMS = -32602;
/** MAX_GET_CONFIRMED_SIGNATURES_FOR_ADDRESS2_LIMIT in agave. */
export const MAX_SIGNATURES_LIMIT = 1000;
const base58 = { decode: getBase58Decoder(), encode: getBase58Encoder() };

export const methods: Record<string, Method> = {
  getHealth: () => 'ok',
  getVersion: () => ({ 'solana-core': '2.2.0', 'feature-set': 0 }),
  getGenesisHash: (_p, { genesisHash }) => genesisHash,
  getSlot: (_p, { ledger }) => ledger.slot(),
  getBlockHeight: (_p, { ledger }) => ledger.slot(),
  getMinimumBalanceForRentExemption: ([size], { ledger }) =>
    ledger.svm.minimumBalanceForRentExemption(BigInt(asNumber(size, 'data length'))),

  getLatestBlockhash: (_p, { ledger }) =>
    withContext(ledger, { blockhash: ledger.svm.latestBlockhash(), lastValidBlockHeight: ledger.slot() + 150n }),
  // Blockhash checks are off in the ledger (see SolanaLedger), so every blockhash stays usable.
  isBlockhashValid: (_p, { ledger }) => withContext(ledger, true),

  getBalance: ([key], { ledger }) => withContext(ledger, ledger.svm.getBalance(asAddress(key)) ?? 0n),
  getAccountInfo: ([key, config], { ledger }) =>
    withContext(ledger, encodeAccount(ledger, asAddress(key), asConfig(config))),
  getMultipleAccounts: ([keys, config], { ledger }) => {
    if (!Array.isArray(keys)) throw new RpcError(INVALID_PARAMS, 'Invalid params: expected an array of addresses');
    return withContext(ledger, keys.map((key) => encodeAccount(ledger, asAddress(key), asConfig(config))));
  },

  sendTransaction: ([encoded, config], { ledger }) => {
    const options = asConfig(config);
    const wire = decodeWire(encoded, options);
    let result;
    try {
      result = ledger.submit(new Uint8Array(wire), { preflight: options.skipPreflight !== true });
    } catch (error) {
      throw new RpcError(INVALID_PARAMS, `failed to deserialize transaction: ${(error as Error).message}`);
    }
    if ('preflightFailed' in result) {
      const { err, logs } = result.preflightFailed;
      throw new RpcError(-32002, `Transaction simulation failed: ${JSON.stringify(err)}`, {
        accounts: null,
        err,
        logs,
        returnData: null,
        unitsConsumed: 0,
      });
    }
    return result.signature;
  },

  // Like agave: signatures are not checked unless `sigVerify` (x402 facilitators simulate the
  // buyer's transaction before the fee payer signed it); `replaceRecentBlockhash` is accepted and
  // moot here (the ledger checks no blockhash).
  simulateTransaction: ([encoded, config], { ledger }) => {
    const options = asConfig(config);
    if (options.sigVerify === true && options.replaceRecentBlockhash === true) {
      throw new RpcError(INVALID_PARAMS, 'Invalid params: sigVerify may not be used with replaceRecentBlockhash');
    }
    readCommitment(options, { allowProcessed: true });
    const wire = decodeWire(encoded, options);
    let result;
    try {
      result = ledger.simulate(wire, { sigVerify: options.sigVerify === true });
    } catch (error) {
      throw new RpcError(INVALID_PARAMS, `failed to deserialize transaction: ${(error as Error).message}`);
    }
    return withContext(ledger, {
      err: result.err,
      logs: result.logs,
      accounts: null,
      unitsConsumed: result.unitsConsumed,
      returnData: null,
      ...(options.innerInstructions === true ? { innerInstructions: [] } : {}),
      ...(options.replaceRecentBlockhash === true
        ? { replacementBlockhash: { blockhash: ledger.svm.latestBlockhash(), lastValidBlockHeight: ledger.slot() + 150n } }
        : {}),
    });
  },

  getTokenAccountBalance: ([key], { ledger }) => {
    const account = ledger.svm.getAccount(asAddress(key));
    if (!account.exists || account.data.length < 72) throw new RpcError(INVALID_PARAMS, 'Invalid param: could not find account');
    const amount = new DataView(account.data.buffer, account.data.byteOffset).getBigUint64(64, true);
    const mint = ledger.svm.getAccount(base58.decode.decode(account.data.subarray(0, 32)) as Address);
    const decimals = mint.exists ? (mint.data[44] ?? 0) : 0;
    const uiAmountString = (Number(amount) / 10 ** decimals).toString();
    return withContext(ledger, { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString });
  },

  // Like agave: newest first; `before` (exclusive) pages back and an unknown `before` ends the
  // listing; `until` (exclusive) stops at that signature; `limit` 1–1000, default 1000.
  getSignaturesForAddress: ([key, config], { ledger }) => {
    const options = asConfig(config);
    const commitment = readCommitment(options, { allowProcessed: false });
    const limit = options.limit === undefined || options.limit === null ? MAX_SIGNATURES_LIMIT : asNumber(options.limit, 'limit');
    if (limit === 0 || limit > MAX_SIGNATURES_LIMIT) throw new RpcError(INVALID_PARAMS, `Invalid limit; max ${MAX_SIGNATURES_LIMIT}`);
    let history = ledger.historyOf(asAddress(key), commitment);
    if (typeof options.before === 'string') {
      // Any landed signature may be the cursor (agave reads its slot); an unknown one lists nothing.
      const cursor = ledger.find(options.before);
      if (!cursor) return [];
      const at = history.indexOf(cursor);
      history = at >= 0 ? history.slice(at + 1) : history.filter((t) => t.slot < cursor.slot);
    }
    const until = typeof options.until === 'string' ? history.findIndex((t) => t.signature === options.until) : -1;
    if (until >= 0) history = history.slice(0, until);
    return history.slice(0, limit).map((t) => ({
      signature: t.signature,
      slot: t.slot,
      err: t.err,
      memo: null,
      blockTime: t.blockTime,
      confirmationStatus: t.level,
    }));
  },

  getSignatureStatuses: ([signatures, config], { ledger }) => {
    if (!Array.isArray(signatures)) throw new RpcError(INVALID_PARAMS, 'Invalid params: expected an array of signatures');
    // Like a validator: without searchTransactionHistory only its recent status cache answers, and
    // an older transaction reads as unknown (null).
    const searchHistory = asConfig(config).searchTransactionHistory === true;
    return withContext(
      ledger,
      signatures.map((signature) => {
        const t = typeof signature === 'string' ? ledger.find(signature) : undefined;
        if (!t) return null;
        if (!searchHistory && ledger.slot() - t.slot > STATUS_CACHE_SLOTS) return null;
        return {
          slot: t.slot,
          // Validators report null once a transaction is rooted (finalized).
          confirmations: t.level === 'finalized' ? null : t.level === 'confirmed' ? 1 : 0,
          err: t.err,
          status: t.err ? { Err: t.err } : { Ok: null },
          confirmationStatus: t.level,
        };
      }),
    );
  },

  getTransaction: ([signature, config], { ledger }) => {
    const options = asConfig(config);
    const commitment = readCommitment(options, { allowProcessed: false });
    const t = typeof signature === 'string' ? ledger.find(signature) : undefined;
    if (!t || COMMITMENT_RANK[t.level] < COMMITMENT_RANK[commitment]) return null;
    const maxVersion = options.maxSupportedTransactionVersion;
    if (t.version === 0 && maxVersion === undefined) {
      throw new RpcError(
        -32015,
        'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
      );
    }
    return {
      slot: t.slot,
      blockTime: t.blockTime,
      meta: transactionMeta(t),
      transaction: encodeTransaction(t, options.encoding ?? 'json'),
      // Validators add `version` only when the client says which versions it understands.
      ...(maxVersion === undefined ? {} : { version: t.version }),
    };
  },
};

function transactionMeta(t: LandedTransaction) {
  return {
    err: t.err,
    status: t.err ? { Err: t.err } : { Ok: null },
    fee: t.fee,
    preBalances: t.preBalances,
    postBalances: t.postBalances,
    innerInstructions: t.innerInstructions,
    preTokenBalances: t.preTokenBalances,
    postTokenBalances: t.postTokenBalances,
    logMessages: t.logs,
    rewards: [],
    loadedAddresses: t.loaded,
    computeUnitsConsumed: t.computeUnits,
  };
}

function encodeTransaction(t: LandedTransaction, encoding: unknown) {
  if (encoding === 'base64') return [Buffer.from(t.wire).toString('base64'), 'base64'];
  if (encoding === 'base58') return [base58.decode.decode(t.wire), 'base58'];
  if (encoding !== 'json') throw new RpcError(INVALID_PARAMS, `Invalid params: unsupported encoding ${String(encoding)}`);
  const c = t.compiled;
  // The wire starts with a short-vec count of 64-byte signatures.
  const count = t.wire[0] ?? 0;
  const signatures = Array.from({ length: count }, (_, i) => base58.decode.decode(t.wire.subarray(1 + 64 * i, 65 + 64 * i)));
  const message = {
    accountKeys: c.staticAccounts,
    header: {
      numRequiredSignatures: c.header.numSignerAccounts,
      numReadonlySignedAccounts: c.header.numReadonlySignerAccounts,
      numReadonlyUnsignedAccounts: c.header.numReadonlyNonSignerAccounts,
    },
    instructions:
      c.version === 'legacy' || c.version === 0
        ? c.instructions.map((ix) => ({
            programIdIndex: ix.programAddressIndex,
            accounts: ix.accountIndices ?? [],
            data: base58.decode.decode(ix.data ?? new Uint8Array()),
            stackHeight: null,
          }))
        : [],
    recentBlockhash: 'lifetimeToken' in c ? c.lifetimeToken : undefined,
    ...(c.version === 0
      ? {
          addressTableLookups: (c.addressTableLookups ?? []).map((l) => ({
            accountKey: l.lookupTableAddress,
            writableIndexes: l.writableIndexes,
            readonlyIndexes: l.readonlyIndexes,
          })),
        }
      : {}),
  };
  return { signatures, message };
}

/** A wire transaction in `encoding` (base58 unless the config says base64, as agave defaults). */
function decodeWire(encoded: unknown, options: Config): Uint8Array {
  if (typeof encoded !== 'string') throw new RpcError(INVALID_PARAMS, 'Invalid params: transaction must be a string');
  const encoding = options.encoding ?? 'base58';
  if (encoding !== 'base58' && encoding !== 'base64') throw new RpcError(INVALID_PARAMS, `Invalid params: unsupported encoding ${String(encoding)}`);
  return encoding === 'base64' ? new Uint8Array(Buffer.from(encoded, 'base64')) : new Uint8Array(base58.encode.encode(encoded));
}

function encodeAccount(ledger: SolanaLedger, key: Address, config: Config) {
  const account = ledger.svm.getAccount(key);
  if (!account.exists) return null;
  const data =
    config.encoding === 'base58'
      ? [base58.decode.decode(account.data), 'base58']
      : [Buffer.from(account.data).toString('base64'), 'base64'];
  return {
    data,
    executable: account.executable,
    lamports: account.lamports,
    owner: account.programAddress,
    rentEpoch: 18446744073709551615n,
    space: account.space,
  };
}

/** How many recent slots a validator's status cache covers (MAX_CACHE_ENTRIES in agave). */
export const STATUS_CACHE_SLOTS = 300n;

function withContext<T>(ledger: SolanaLedger, value: T) {
  return { context: { apiVersion: '2.2.0', slot: ledger.slot() }, value };
}

function readCommitment(config: Config, { allowProcessed }: { allowProcessed: boolean }): Commitment {
  const commitment = config.commitment ?? 'finalized';
  if (commitment !== 'processed' && commitment !== 'confirmed' && commitment !== 'finalized') {
    throw new RpcError(INVALID_PARAMS, `Invalid params: unknown commitment ${String(commitment)}`);
  }
  if (commitment === 'processed' && !allowProcessed) {
    throw new RpcError(INVALID_PARAMS, 'Method does not support commitment below `confirmed`');
  }
  return commitment;
}

function asConfig(value: unknown): Config {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Config) : {};
}

function asNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RpcError(INVALID_PARAMS, `Invalid params: ${what} must be a non-negative integer`);
  }
  return value;
}

function asAddress(value: unknown): Address {
  if (typeof value !== 'string' || !isAddress(value)) throw new RpcError(INVALID_PARAMS, 'Invalid param: Invalid');
  return value;
}
