import {
  address,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  getBase58Decoder,
  getBase64EncodedWireTransaction,
  type Address,
  type Base64EncodedWireTransaction,
  type KeyPairSigner,
  type Rpc,
  type Signature,
  type SolanaRpcApi,
} from '@solana/kit';
import { decodeTransactionFromPayload, TransactionOnchainFailureError, type FacilitatorSvmSigner } from '@x402/svm';
import { RPC_TIMEOUT_MS } from '../../payments/verification-result.ts';

/**
 * The Solana fee payer that co-signs x402 payments: `@x402/svm`'s facilitator signer interface,
 * built on `@solana/kit` with one RPC per route (the stock `toFacilitatorSvmSigner` waits a fixed
 * 30 s at `confirmed`; Crochet waits for the route's commitment until the call's deadline).
 */
export type Commitment = 'confirmed' | 'finalized';

export type SvmFeePayerRoute = { network: string; rpcUrl: string; commitment: Commitment };

/** Outcome of waiting for a broadcast transaction. */
export type ConfirmOutcome =
  | { status: 'confirmed' }
  | { status: 'failed'; error: string }
  /** Not at the route's commitment by the deadline (or unknown to the RPC yet). */
  | { status: 'pending' };

export type SvmFeePayer = FacilitatorSvmSigner & {
  readonly address: Address;
  /** Poll until `signature` reaches the route's commitment, fails, or `deadlineMs` (epoch ms) passes. */
  waitForCommitment(signature: string, network: string, deadlineMs: number): Promise<ConfirmOutcome>;
  /** The fee payer's lamports on `network` (for the start log and `/metrics`). */
  balance(network: string): Promise<bigint>;
};

/** Each RPC request's own deadline (a hung node must not hold a paid call). */
const rpcDeadline = () => ({ abortSignal: AbortSignal.timeout(RPC_TIMEOUT_MS) });

/** Marks a simulation that could not run (see simulateTransaction). */
export const RPC_UNAVAILABLE = 'rpc_unavailable: ';

const POLL_FIRST_MS = 200;
const POLL_MAX_MS = 1_000;
/** What `confirmTransaction` (the stock interface, no deadline of its own) waits at most. */
const CONFIRM_DEFAULT_WAIT_MS = 30_000;

/**
 * The key pair of `CROCHET_X402_SOLANA_FEE_PAYER` (config decodes the base58: 64 bytes, secret ‖
 * public, as `solana-keygen` and wallets export it; kit checks the public half). Imported
 * non-extractable; errors never echo the value.
 */
export async function feePayerFromSecret(secret: Uint8Array): Promise<KeyPairSigner> {
  if (secret.length !== 64) throw new Error(`CROCHET_X402_SOLANA_FEE_PAYER: expected 64 bytes, got ${secret.length}`);
  const copy = new Uint8Array(secret);
  try {
    return await createKeyPairSignerFromBytes(copy);
  } catch {
    throw new Error('CROCHET_X402_SOLANA_FEE_PAYER: not a valid Ed25519 key pair (secret ‖ public key)');
  } finally {
    copy.fill(0);
  }
}

/**
 * The fee payer's address is known at once (the public half of the secret); its key pair is
 * imported (WebCrypto, async) on first use by `load`, so schemes can be built synchronously.
 */
export type FeePayerKey = { address: Address; load(): Promise<KeyPairSigner> };

/** A key already imported (tests). */
export const loadedKey = (keypair: KeyPairSigner): FeePayerKey => ({ address: keypair.address, load: async () => keypair });

/** The key of `CROCHET_X402_SOLANA_FEE_PAYER`, imported once on first use. */
export function feePayerKeyFromSecret(secret: Uint8Array): FeePayerKey {
  if (secret.length !== 64) throw new Error(`CROCHET_X402_SOLANA_FEE_PAYER: expected 64 bytes, got ${secret.length}`);
  let loading: Promise<KeyPairSigner> | null = null;
  return {
    address: address(getBase58Decoder().decode(secret.subarray(32))),
    load: () => (loading ??= feePayerFromSecret(secret)),
  };
}

export function createSvmFeePayer(key: FeePayerKey, routes: readonly SvmFeePayerRoute[]): SvmFeePayer {
  const byNetwork = new Map(routes.map((route) => [route.network, { route, rpc: createSolanaRpc(route.rpcUrl) }]));
  const routeFor = (network: string): { route: SvmFeePayerRoute; rpc: Rpc<SolanaRpcApi> } => {
    const found = byNetwork.get(network);
    if (!found) throw new Error(`no Solana route for ${network}`);
    return found;
  };

  const waitForCommitment = async (signature: string, network: string, deadlineMs: number): Promise<ConfirmOutcome> => {
    const { route, rpc } = routeFor(network);
    let delay = POLL_FIRST_MS;
    for (;;) {
      let entry;
      try {
        const timeout = Math.max(1, Math.min(RPC_TIMEOUT_MS, deadlineMs - Date.now() + POLL_MAX_MS));
        ({ value: [entry] } = await rpc.getSignatureStatuses([signature as Signature], { searchTransactionHistory: true }).send({ abortSignal: AbortSignal.timeout(timeout) }));
      } catch (error) {
        // A node that misses one poll is no verdict: poll again until the deadline.
        if (Date.now() >= deadlineMs) throw error;
        entry = undefined;
      }
      if (entry?.err) return { status: 'failed', error: JSON.stringify(entry.err, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) };
      const level = entry?.confirmationStatus;
      if (level === 'finalized' || (level === 'confirmed' && route.commitment === 'confirmed')) return { status: 'confirmed' };
      const left = deadlineMs - Date.now();
      if (left <= 0) return { status: 'pending' };
      await Bun.sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  };

  return {
    address: key.address,
    getAddresses: () => [key.address],
    async signTransaction(transaction, feePayer) {
      if (feePayer !== key.address) throw new Error(`not this server's fee payer: ${feePayer}`);
      const keypair = await key.load();
      const tx = decodeTransactionFromPayload({ transaction });
      const [signatures] = await keypair.signMessages([{ content: new Uint8Array(tx.messageBytes), signatures: {} }]);
      return getBase64EncodedWireTransaction({ ...tx, signatures: { ...tx.signatures, ...signatures } });
    },
    async simulateTransaction(transaction, network, options) {
      const { rpc } = routeFor(network);
      let value;
      try {
        ({ value } = await rpc
          .simulateTransaction(transaction as Base64EncodedWireTransaction, {
            // The fee payer's slot is still empty: the buyer's signatures are checked by the caller.
            sigVerify: options?.sigVerify ?? false,
            replaceRecentBlockhash: false,
            commitment: 'confirmed',
            encoding: 'base64',
          })
          .send(rpcDeadline()));
      } catch (error) {
        // The stock verifier turns any throw into "simulation failed"; the prefix tells the
        // scheme it was the node that could not be asked, not the buyer's transaction.
        throw new Error(`${RPC_UNAVAILABLE}${error instanceof Error ? error.message : String(error)}`);
      }
      if (value.err) throw new Error(`Simulation failed: ${JSON.stringify(value.err, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    },
    async sendTransaction(transaction, network) {
      const { rpc } = routeFor(network);
      // Preflight on: a transaction that would fail is refused by the node instead of landing and
      // costing the fee payer its fee.
      return await rpc
        .sendTransaction(transaction as Base64EncodedWireTransaction, { encoding: 'base64', preflightCommitment: 'confirmed' })
        .send(rpcDeadline());
    },
    async confirmTransaction(signature, network) {
      const outcome = await waitForCommitment(signature, network, Date.now() + CONFIRM_DEFAULT_WAIT_MS);
      if (outcome.status === 'failed') throw new TransactionOnchainFailureError(`Transaction failed onchain: ${outcome.error}`);
      if (outcome.status === 'pending') throw new Error('Transaction confirmation timeout');
    },
    waitForCommitment,
    async balance(network) {
      const { rpc } = routeFor(network);
      const { value } = await rpc.getBalance(key.address, { commitment: 'confirmed' }).send(rpcDeadline());
      return value;
    },
  };
}
