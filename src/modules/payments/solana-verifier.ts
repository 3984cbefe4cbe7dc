import {
  address,
  createSolanaRpc,
  decodeTransactionFromRpcResponse,
  getInstructionsFromCompiledTransactionMessage,
  getSignatureFromTransaction,
  isAddress,
  isSignature,
  type Address,
  type Signature,
} from '@solana/kit';
import { z } from 'zod';
import { associatedTokenAccounts, matchTransfer } from './solana-transfer.ts';
import {
  PENDING_RETRY_AFTER_SECONDS,
  invalidPaymentTx,
  paymentRpcUnavailable,
  RPC_TIMEOUT_MS,
  settlementKey,
  type PaymentVerification,
} from './verification-result.ts';

export type SolanaRoute = {
  /** CAIP-2, `solana:` + the first 32 characters of the genesis hash. */
  network: string;
  rpcUrl: string;
  /** The USDC mint this route accepts. */
  mint: string;
  decimals: number;
  /** The commitment at which a payment counts as settled. */
  commitment: 'confirmed' | 'finalized';
};

export type SolanaVerifyArgs = {
  /** The intent's Solana Pay reference key (see newSolanaReference). */
  reference: string;
  /** The buyer's `X-Crochet-Payment-Tx`; without it the transaction is found through the reference. */
  signature?: string;
  payToOwner: string;
  amountAtomic: bigint;
};

export type SolanaVerifier = { verify(args: SolanaVerifyArgs): Promise<PaymentVerification> };

type Rejection = Extract<PaymentVerification, { status: 'rejected' }>;

/** How many successful transactions carrying one reference we inspect (someone may spam it). */
const MAX_CANDIDATES = 20;

// kit types RPC replies but does not check them at run time; these are the fields we rely on.
const transactionReply = z.object({
  slot: z.bigint(),
  meta: z.object({
    err: z.union([z.null(), z.string(), z.record(z.string(), z.unknown())]),
  }),
  transaction: z.tuple([z.string(), z.literal('base64')]),
});
const signatureList = z.array(
  z.object({ signature: z.string(), err: z.union([z.null(), z.string(), z.record(z.string(), z.unknown())]) }),
);

/**
 * Checks Solana Pay style USDC payments from the decoded transaction bytes. Example:
 * `await createSolanaVerifier(route).verify({ reference, payToOwner, amountAtomic, signature })`
 */
export function createSolanaVerifier(route: SolanaRoute, options: { rpcTimeoutMs?: number } = {}): SolanaVerifier {
  const rpc = createSolanaRpc(route.rpcUrl);
  const rpcCall = <T>(call: (abortSignal: AbortSignal) => Promise<T>) => callRpc(call, options.rpcTimeoutMs ?? RPC_TIMEOUT_MS);
  const mint = address(route.mint);

  async function statusOf(signature: Signature) {
    // With history: a validator's status cache covers only the last few hundred slots (about two
    // minutes), and an older transaction would read as unknown, so a buyer who retries late would
    // never settle.
    const { value } = await rpcCall((abortSignal) => rpc.getSignatureStatuses([signature], { searchTransactionHistory: true }).send({ abortSignal }));
    return value[0] ?? null;
  }

  /** One candidate transaction: its verdict, judged at `confirmed`, settled at the route's commitment. */
  async function check(
    signature: Signature,
    wanted: Parameters<typeof matchTransfer>[1],
  ): Promise<PaymentVerification> {
    const reply = await rpcCall((abortSignal) =>
      rpc
        .getTransaction(signature, { encoding: 'base64', maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
        .send({ abortSignal }),
    );
    if (reply === null) {
      // Not visible at `confirmed`: only processed (pending), or unknown to this node.
      const status = await statusOf(signature);
      if (status === null) return { status: 'not_found' };
      if (status.err !== null) return failed(signature);
      return { status: 'pending', retryAfterSeconds: PENDING_RETRY_AFTER_SECONDS, txRef: signature };
    }
    const parsed = transactionReply.safeParse(reply);
    if (!parsed.success) throw paymentRpcUnavailable(parsed.error);
    if (parsed.data.meta.err !== null) return failed(signature);

    let instructions;
    try {
      const decoded = decodeTransactionFromRpcResponse(reply);
      // The bytes must be the transaction we asked for, not whatever the RPC chose to send.
      if (getSignatureFromTransaction(decoded.transaction) !== signature) {
        throw new Error('RPC returned a different transaction');
      }
      instructions = getInstructionsFromCompiledTransactionMessage(decoded.compiledMessage, decoded.loadedAddresses);
    } catch (error) {
      throw paymentRpcUnavailable(error);
    }

    const match = matchTransfer(instructions, wanted);
    if ('code' in match) return { status: 'rejected', ...match, txRef: signature };

    if (route.commitment === 'finalized' && (await statusOf(signature))?.confirmationStatus !== 'finalized') {
      return { status: 'pending', retryAfterSeconds: PENDING_RETRY_AFTER_SECONDS, txRef: signature };
    }
    return {
      status: 'verified',
      settlementKey: settlementKey(route.network, signature, match.instructionIndex),
      txRef: signature,
      payer: match.authority,
      amountAtomic: match.amountAtomic,
      transferIndex: match.instructionIndex,
    };
  }

  return {
    async verify(args) {
      if (args.signature !== undefined && !isSignature(args.signature)) {
        throw invalidPaymentTx('a base58 Solana transaction signature');
      }
      if (!isAddress(args.reference) || !isAddress(args.payToOwner)) {
        throw new Error('verify: reference and payToOwner must be Solana addresses');
      }
      const wanted = {
        mint,
        decimals: route.decimals,
        destinations: await associatedTokenAccounts(args.payToOwner, mint),
        reference: args.reference,
        amountAtomic: args.amountAtomic,
      };
      if (args.signature !== undefined) return check(args.signature, wanted);
      return findByReference(args.reference, (signature) => check(signature, wanted));
    },
  };

  /** Every transaction that mentions the reference; the first that pays wins. */
  async function findByReference(
    reference: Address,
    checkOne: (signature: Signature) => Promise<PaymentVerification>,
  ): Promise<PaymentVerification> {
    const reply = await rpcCall((abortSignal) => rpc.getSignaturesForAddress(reference, { commitment: 'confirmed' }).send({ abortSignal }));
    const listed = signatureList.safeParse(reply);
    if (!listed.success) throw paymentRpcUnavailable(listed.error);
    const entries = listed.data.filter((entry): entry is typeof entry & { signature: Signature } =>
      isSignature(entry.signature),
    );
    if (entries.length === 0) return { status: 'not_found' };

    // Failed transactions cannot pay: judge the successful ones (newest first) before them.
    const succeeded = entries.filter((entry) => entry.err === null).slice(0, MAX_CANDIDATES);
    let pending: PaymentVerification | undefined;
    let rejection: PaymentVerification | undefined;
    for (const entry of succeeded) {
      const result = await checkOne(entry.signature);
      if (result.status === 'verified') return result;
      if (result.status === 'pending') pending ??= result;
      if (result.status === 'rejected') rejection ??= result;
    }
    const newestFailed = entries.find((entry) => entry.err !== null);
    return pending ?? rejection ?? (newestFailed ? failed(newestFailed.signature) : { status: 'not_found' });
  }
}

function failed(txRef: string): Rejection {
  return { status: 'rejected', code: 'PAYMENT_TX_FAILED', message: 'The payment transaction failed on chain.', txRef };
}

/**
 * RPC failures surface as one retryable error; the cause (which may name the RPC URL) stays out.
 * Each request has a deadline: a hung RPC would otherwise hold the buyer's call, every retry of
 * the same payment (they share the verification) and a clean shutdown.
 */
async function callRpc<T>(call: (abortSignal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  try {
    return await call(AbortSignal.timeout(timeoutMs));
  } catch (error) {
    throw paymentRpcUnavailable(error);
  }
}
