import {
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  createPublicClient,
  decodeEventLog,
  erc20Abi,
  http,
  isAddress,
  isHash,
  type Log,
  type TransactionReceipt,
} from 'viem';
import {
  PENDING_RETRY_AFTER_SECONDS,
  invalidPaymentTx,
  paymentRpcUnavailable,
  RPC_TIMEOUT_MS,
  settlementKey,
  type PaymentVerification,
} from './verification-result.ts';

export type EvmRoute = {
  /** CAIP-2, `eip155:<chainId>`. */
  network: string;
  rpcUrl: string;
  /** The ERC-20 contract (USDC) this route accepts. */
  asset: `0x${string}`;
  decimals: number;
  /** Blocks including the transaction's own: 1 = mined. */
  confirmations: number;
};

export type EvmVerifyArgs = {
  txHash: `0x${string}`;
  payTo: string;
  amountAtomic: bigint;
  /** The buyer's linked EVM wallets; the transfer must come from one of them. */
  buyerWallets: string[];
  /** Chain head recorded when the intent was created: the payment must be mined after it. */
  afterBlock: bigint;
};

export type EvmVerifier = {
  /** The current block number, read uncached (record it on the intent as `afterBlock`). */
  headBlock(): Promise<bigint>;
  verify(args: EvmVerifyArgs): Promise<PaymentVerification>;
};

type Transfer = { index: number; contract: string; from: string; to: string; value: bigint };

/**
 * Checks ERC-20 payments from the receipt and its logs, decoded here rather than trusted from any
 * provider's convenience API. Example:
 * `const v = createEvmVerifier(route); const head = await v.headBlock(); … await v.verify({ txHash, payTo, amountAtomic, buyerWallets, afterBlock: head })`
 */
export function createEvmVerifier(route: EvmRoute): EvmVerifier {
  const chainId = parseChainId(route.network);
  const asset = route.asset.toLowerCase();
  // viem caches block numbers for 4 s by default; confirmations need the real head.
  const client = createPublicClient({
    transport: http(route.rpcUrl, { timeout: RPC_TIMEOUT_MS, retryCount: 1 }),
    cacheTime: 0,
  });
  let chainChecked = false;

  const headBlock = () => rpcCall(() => client.getBlockNumber({ cacheTime: 0 }));

  /** A misconfigured rpc_url pointing at another chain would verify the wrong chain's history. */
  async function assertChain(): Promise<void> {
    if (chainChecked) return;
    const actual = await rpcCall(() => client.getChainId());
    if (actual !== chainId) {
      throw new Error(`payment route ${route.network}: rpc_url serves chain ${actual}`);
    }
    chainChecked = true;
  }

  async function findReceipt(hash: `0x${string}`): Promise<TransactionReceipt | 'pending' | null> {
    try {
      return await client.getTransactionReceipt({ hash });
    } catch (error) {
      if (!(error instanceof TransactionReceiptNotFoundError)) throw paymentRpcUnavailable(error);
    }
    // No receipt: still in the mempool (pending) or unknown to this node (not found).
    try {
      await client.getTransaction({ hash });
      return 'pending';
    } catch (error) {
      if (error instanceof TransactionNotFoundError) return null;
      throw paymentRpcUnavailable(error);
    }
  }

  return {
    headBlock,
    async verify(args) {
      if (!isHash(args.txHash)) throw invalidPaymentTx('a 0x-prefixed 32-byte transaction hash');
      if (!isAddress(args.payTo, { strict: false })) throw new Error('verify: payTo is not an EVM address');
      await assertChain();

      const txRef = args.txHash.toLowerCase();
      const receipt = await findReceipt(args.txHash);
      if (receipt === null) return { status: 'not_found' };
      if (receipt === 'pending') {
        return { status: 'pending', retryAfterSeconds: PENDING_RETRY_AFTER_SECONDS, txRef };
      }
      if (receipt.status !== 'success') {
        return reject('PAYMENT_TX_FAILED', 'The payment transaction reverted.', txRef);
      }

      const match = pickTransfer(decodeTransfers(receipt.logs), {
        asset,
        payTo: args.payTo.toLowerCase(),
        buyerWallets: new Set(args.buyerWallets.map((w) => w.toLowerCase())),
        amountAtomic: args.amountAtomic,
      });
      if ('code' in match) return { status: 'rejected', ...match, txRef };

      if (receipt.blockNumber <= args.afterBlock) {
        return reject(
          'PAYMENT_TX_TOO_OLD',
          'The payment was mined before this payment request was created; send a new transfer.',
          txRef,
        );
      }
      const confirmations = (await headBlock()) - receipt.blockNumber + 1n;
      if (confirmations < BigInt(route.confirmations)) {
        return { status: 'pending', retryAfterSeconds: PENDING_RETRY_AFTER_SECONDS, txRef };
      }
      return {
        status: 'verified',
        settlementKey: settlementKey(route.network, txRef, match.index),
        txRef,
        payer: match.from,
        amountAtomic: match.value,
        transferIndex: match.index,
      };
    },
  };
}

/** Every ERC-20 `Transfer` in the receipt, with its position among the receipt's logs. */
function decodeTransfers(logs: readonly Log[]): Transfer[] {
  const transfers: Transfer[] = [];
  logs.forEach((log, index) => {
    if (log.removed) return;
    try {
      const event = decodeEventLog({ abi: erc20Abi, data: log.data, topics: log.topics });
      if (event.eventName !== 'Transfer') return;
      transfers.push({
        index,
        contract: log.address.toLowerCase(),
        from: event.args.from,
        to: event.args.to.toLowerCase(),
        value: event.args.value,
      });
    } catch {
      // Not an ERC-20 event (an ERC-721 Transfer has a fourth topic and fails to decode): skip it.
    }
  });
  return transfers;
}

type Wanted = { asset: string; payTo: string; buyerWallets: Set<string>; amountAtomic: bigint };
type Rejection = Extract<PaymentVerification, { status: 'rejected' }>;

/** The first transfer that pays, else the reason the closest one does not (most specific code). */
function pickTransfer(transfers: Transfer[], wanted: Wanted): Transfer | Omit<Rejection, 'status'> {
  const ofAsset = transfers.filter((t) => t.contract === wanted.asset);
  if (ofAsset.length === 0) {
    return transfers.length > 0
      ? { code: 'PAYMENT_WRONG_ASSET', message: 'The transaction moves a different token than this route accepts.' }
      : { code: 'PAYMENT_WRONG_ASSET', message: 'The transaction contains no token transfer of this route\'s asset.' };
  }
  const toPayTo = ofAsset.filter((t) => t.to === wanted.payTo);
  if (toPayTo.length === 0) {
    return { code: 'PAYMENT_WRONG_RECIPIENT', message: 'The transfer does not go to the pay_to address of this payment.' };
  }
  const fromBuyer = toPayTo.filter((t) => wanted.buyerWallets.has(t.from.toLowerCase()));
  if (fromBuyer.length === 0) {
    return { code: 'PAYMENT_PAYER_NOT_LINKED', message: 'The transfer was sent from a wallet that is not linked to your account.' };
  }
  const enough = fromBuyer.find((t) => t.value >= wanted.amountAtomic);
  if (!enough) {
    return { code: 'PAYMENT_INSUFFICIENT', message: 'The transfer is smaller than the amount due.' };
  }
  return enough;
}

function reject(code: Rejection['code'], message: string, txRef: string): Rejection {
  return { status: 'rejected', code, message, txRef };
}

function parseChainId(network: string): number {
  const match = /^eip155:([1-9]\d{0,15})$/.exec(network);
  if (!match?.[1]) throw new Error(`EVM payment route network must be eip155:<chainId> (got "${network}")`);
  return Number(match[1]);
}

/** RPC failures surface as one retryable error; the cause (which may name the RPC URL) stays out. */
async function rpcCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw paymentRpcUnavailable(error);
  }
}
