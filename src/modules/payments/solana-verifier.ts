import {
  address,
  createSolanaRpc,
  decodeTransactionFromRpcResponse,
  getSignatureFromTransaction,
  isAddress,
  isSignature,
  type Address,
  type Signature,
  walkInstructions,
} from '@solana/kit';
import { z } from 'zod';
import { associatedTokenAccounts, matchTransfer, type LocatedInstruction } from './solana-transfer.ts';
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
  /** When the intent (and so its reference) was created, in unix seconds: the reference search stops there. */
  notBefore?: number;
};

export type SolanaVerifier = { verify(args: SolanaVerifyArgs): Promise<PaymentVerification> };

type Rejection = Extract<PaymentVerification, { status: 'rejected' }>;

/**
 * Bounds of the reference search. Anyone who sees a reference on chain can send transactions
 * naming it, so the search pages back (newest first, as RPC nodes list) to the intent's creation
 * and then judges the successful ones oldest first: spam sent after the payment cannot bury it.
 * Past MAX_SIGNATURE_PAGES × SIGNATURES_PAGE_LIMIT signatures, or MAX_CANDIDATES fetched
 * transactions, the buyer names its transaction in X-Crochet-Payment-Tx instead.
 */
export const SIGNATURES_PAGE_LIMIT = 1000; // the most one getSignaturesForAddress returns
const MAX_SIGNATURE_PAGES = 10;
const MAX_CANDIDATES = 100;
/** Candidates fetched at once: bounded, so a spammed reference cannot flood the RPC. */
const CANDIDATE_BATCH = 8;
/** Our clock and the cluster's block times may disagree by this much. */
const BLOCK_TIME_SLACK_SECONDS = 300;

const rpcError = z.union([z.null(), z.string(), z.record(z.string(), z.unknown())]);
const accountIndex = z.union([z.number(), z.bigint()]).transform(Number);
const tokenBalances = z
  .array(z.object({ accountIndex, mint: z.string(), uiTokenAmount: z.object({ amount: z.string().regex(/^\d+$/) }) }))
  .nullish();
// kit types RPC replies but does not check them at run time; these are the fields we rely on.
const transactionReply = z.object({
  slot: z.bigint(),
  meta: z.object({ err: rpcError, preTokenBalances: tokenBalances, postTokenBalances: tokenBalances }),
  transaction: z.tuple([z.string(), z.literal('base64')]),
});
const blockTime = z.union([z.null(), z.number(), z.bigint()]).optional().transform((t) => (t == null ? null : Number(t)));
const signatureList = z.array(z.object({ signature: z.string(), err: rpcError, blockTime }));
type ListedSignature = { signature: Signature; err: unknown; blockTime: number | null };

/**
 * Checks Solana Pay style USDC payments from the decoded transaction bytes. Example:
 * `await createSolanaVerifier(route).verify({ reference, payToOwner, amountAtomic, signature })`
 */
export function createSolanaVerifier(
  route: SolanaRoute,
  options: { rpcTimeoutMs?: number; signaturesPageLimit?: number } = {},
): SolanaVerifier {
  const pageLimit = options.signaturesPageLimit ?? SIGNATURES_PAGE_LIMIT;
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

    let instructions: LocatedInstruction[];
    let accountKeys: Address[];
    try {
      const decoded = decodeTransactionFromRpcResponse(reply);
      // The bytes must be the transaction we asked for, not whatever the RPC chose to send.
      if (getSignatureFromTransaction(decoded.transaction) !== signature) {
        throw new Error('RPC returned a different transaction');
      }
      // Inner instructions (transfers a program made by CPI: smart wallets, multisigs) come from
      // meta, indexed into the same account list as the message's own instructions.
      instructions = walkInstructions({ compiledMessage: decoded.compiledMessage, loadedAddresses: decoded.loadedAddresses, meta: reply.meta });
      const { staticAccounts } = decoded.compiledMessage;
      accountKeys = [...staticAccounts, ...decoded.loadedAddresses.writable, ...decoded.loadedAddresses.readonly];
    } catch (error) {
      throw paymentRpcUnavailable(error);
    }
    const { preTokenBalances, postTokenBalances } = parsed.data.meta;
    // Without token balances (a node that does not record them) what arrived cannot be known.
    if (!preTokenBalances || !postTokenBalances) throw paymentRpcUnavailable(new Error('transaction meta has no token balances'));
    const balanceOf = (balances: typeof postTokenBalances, account: Address) => {
      const entry = balances.find((b) => b.mint === route.mint && accountKeys[b.accountIndex] === account);
      return entry ? BigInt(entry.uiTokenAmount.amount) : 0n;
    };
    const receivedBy = (account: Address) => balanceOf(postTokenBalances, account) - balanceOf(preTokenBalances, account);

    const match = matchTransfer(instructions, wanted, receivedBy);
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
      return findByReference(args.reference, args.notBefore, (signature) => check(signature, wanted));
    },
  };

  /** Signatures naming the reference at `confirmed`, newest first, paged back to the intent's creation. */
  async function listReference(reference: Address, notBefore: number | undefined): Promise<ListedSignature[]> {
    const listed: ListedSignature[] = [];
    let before: Signature | undefined;
    for (let page = 0; page < MAX_SIGNATURE_PAGES; page++) {
      const config = { commitment: 'confirmed' as const, limit: pageLimit, ...(before ? { before } : {}) };
      const reply = await rpcCall((abortSignal) => rpc.getSignaturesForAddress(reference, config).send({ abortSignal }));
      const parsed = signatureList.safeParse(reply);
      if (!parsed.success) throw paymentRpcUnavailable(parsed.error);
      const entries = parsed.data.filter((entry): entry is typeof entry & { signature: Signature } => isSignature(entry.signature));
      listed.push(...entries);
      const oldest = entries.at(-1);
      if (parsed.data.length < pageLimit || !oldest) break;
      // The reference did not exist before its intent: nothing older can pay for it.
      if (notBefore !== undefined && oldest.blockTime !== null && oldest.blockTime < notBefore - BLOCK_TIME_SLACK_SECONDS) break;
      before = oldest.signature;
    }
    return listed;
  }

  /** Every transaction that names the reference; the oldest successful one that pays wins. */
  async function findByReference(
    reference: Address,
    notBefore: number | undefined,
    checkOne: (signature: Signature) => Promise<PaymentVerification>,
  ): Promise<PaymentVerification> {
    const entries = await listReference(reference, notBefore);
    if (entries.length === 0) return { status: 'not_found' };

    // Failed transactions cannot pay: only successful ones are fetched.
    const candidates = entries.filter((entry) => entry.err === null).reverse().slice(0, MAX_CANDIDATES);
    let pending: PaymentVerification | undefined;
    let rejection: PaymentVerification | undefined;
    let failure: { reason: unknown } | undefined;
    for (let at = 0; at < candidates.length; at += CANDIDATE_BATCH) {
      // One candidate's RPC failure must not discard a payment verified in the same batch.
      const settled = await Promise.allSettled(candidates.slice(at, at + CANDIDATE_BATCH).map((entry) => checkOne(entry.signature)));
      for (const outcome of settled) {
        if (outcome.status === 'rejected') {
          failure ??= { reason: outcome.reason };
          continue;
        }
        const result = outcome.value;
        if (result.status === 'verified') return result;
        if (result.status === 'pending') pending ??= result;
        // The newest rejection is the one to explain: most likely the buyer's own last attempt.
        if (result.status === 'rejected') rejection = result;
      }
    }
    // Nothing paid among what could be read: an unreadable candidate may be the payment, so retry.
    if (failure) throw failure.reason;
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
