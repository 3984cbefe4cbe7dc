import {
  address,
  createSolanaRpc,
  getBase58Decoder,
  getBase64Encoder,
  getTransactionDecoder,
  isAddress,
  isSolanaError,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE,
  SOLANA_ERROR__TRANSACTION_ERROR__INVALID_ACCOUNT_FOR_FEE,
  type Address,
  type Signature,
  type Transaction,
} from '@solana/kit';
import { SOLANA_DEVNET_CAIP2, SOLANA_MAINNET_CAIP2, SOLANA_TESTNET_CAIP2 } from '@x402/svm';
import { ExactSvmScheme as ExactSvmFacilitator } from '@x402/svm/exact/facilitator';
import { createHash } from 'node:crypto';
import type { Config, PaymentRouteConfig } from '../../../config.ts';
import { associatedTokenAccounts } from '../../payments/solana-transfer.ts';
import { paymentRpcUnavailable, PENDING_RETRY_AFTER_SECONDS, RPC_TIMEOUT_MS, settlementKey, type PaymentVerification } from '../../payments/verification-result.ts';
import type { OfferedRoute, PaymentIntent } from '../../payments/schema.ts';
import type {
  BroadcastContext,
  BroadcastResult,
  FinalContext,
  GasBalance,
  PaymentPayload,
  PaymentRequirements,
  SchemeVerdict,
  VerifyContext,
  X402Refusal,
  X402Scheme,
  X402SchemeFactory,
} from '../scheme.ts';
import { createSvmFeePayer, feePayerKeyFromSecret, RPC_UNAVAILABLE, type FeePayerKey, type SvmFeePayer } from './fee-payer.ts';
import { inexactMint, inspectPayment, type PaymentExpectation } from './inspect.ts';

/**
 * x402 `exact` on Solana, settled by Crochet itself (SPEC §5 "x402 interoperability"). The
 * buyer's partially signed TransferChecked is read strictly by us (inspect.ts), then by
 * `@x402/svm`'s own facilitator code run in process (signatures, mint, destination, amount, memo,
 * fee payer not the authority, simulation); the orchestration claims it; it is co-signed by the
 * fee payer of `CROCHET_X402_SOLANA_FEE_PAYER` and broadcast; the confirmed transaction is read
 * back from the node and inspected again before the lifecycle books it. No database here.
 */

/** Stock Solana clients accept only these cluster ids (`normalizeNetwork` in @x402/svm). */
export const X402_SOLANA_NETWORKS: readonly string[] = [SOLANA_MAINNET_CAIP2, SOLANA_DEVNET_CAIP2, SOLANA_TESTNET_CAIP2];

/**
 * A buyer's signed transaction can land while its blockhash lives: 150 slots, 60 s nominal and
 * nearer 70–80 s when slots run slow, counted from when the client fetched it. The orchestration
 * gives up on a sent transaction the chain never saw after this long, so it must outlast that
 * life (a node simulating an expired blockhash refuses it, so a later presentation cannot resend
 * a stale one). SPEC: at least 30.
 */
export const SOLANA_MAX_TIMEOUT_SECONDS = 90;
/** The fee payer pays for what it co-signs: a TransferChecked and a memo need ~10k units. */
export const MAX_COMPUTE_UNITS = 200_000;
/** 200k units × 100k µlamports: at most 20k lamports of priority fee per payment. */
export const MAX_PRIORITY_FEE_MICROLAMPORTS = 100_000;
/** Under this the start log warns and `/metrics` says low: 0.01 SOL, about 2,000 payments' fees. */
export const LOW_FEE_PAYER_LAMPORTS = 10_000_000n;
/** How long a mint's "exact transfers possible" verdict is kept (see mintVerdict). */
const MINT_RECHECK_MS = 10 * 60_000;

const refusal = (reason: string, code: string, message: string): { ok: false; refusal: X402Refusal } => ({ ok: false, refusal: { reason, code, message } });

/** The stock facilitator's reasons that have a Crochet code of their own. */
const CODE_OF_REASON: Record<string, string> = {
  invalid_exact_svm_payload_amount_mismatch: 'PAYMENT_INSUFFICIENT',
  invalid_exact_svm_payload_mint_mismatch: 'PAYMENT_WRONG_ASSET',
  invalid_exact_svm_payload_recipient_mismatch: 'PAYMENT_WRONG_RECIPIENT',
  invalid_exact_svm_payload_memo_mismatch: 'PAYMENT_REFERENCE_MISSING',
  invalid_exact_svm_payload_memo_count: 'PAYMENT_REFERENCE_MISSING',
  invalid_exact_svm_transaction_simulation_failed: 'PAYMENT_TX_FAILED',
};

type SolanaRouteSettings = { network: string; rpcUrl: string; asset: string; decimals: number; commitment: 'confirmed' | 'finalized' };

/**
 * The Solana scheme factory of this server: null for every route when no fee payer is configured,
 * for EVM routes, and for Solana routes with `x402: false`. One fee payer serves every Solana
 * route; its key is imported on first use. Example: `createSolanaSchemeFactory(config)(route)`.
 */
export function createSolanaSchemeFactory(config: Config): X402SchemeFactory {
  const secret = config.x402_solana_fee_payer;
  if (!secret) return () => null;
  const key = feePayerKeyFromSecret(secret);
  const isSolana = (r: PaymentRouteConfig) => r.network.startsWith('solana:') && r.x402 !== false;
  const feePayer = createSvmFeePayer(key, config.payment_routes.filter(isSolana).map(settingsOf));
  return (route) => (isSolana(route) ? new SolanaExactScheme(settingsOf(route), feePayer, key) : null);
}

function settingsOf(route: PaymentRouteConfig): SolanaRouteSettings {
  return { network: route.network, rpcUrl: route.rpc_url, asset: route.asset, decimals: route.decimals, commitment: route.commitment ?? 'finalized' };
}

export class SolanaExactScheme implements X402Scheme {
  readonly family = 'solana' as const;
  readonly network: string;
  readonly asset: string;
  readonly maxTimeoutSeconds = SOLANA_MAX_TIMEOUT_SECONDS;
  readonly settlerAddress: string;
  private readonly rpc: ReturnType<typeof createSolanaRpc>;
  private readonly facilitator: ExactSvmFacilitator;
  /**
   * Whether the mint can deliver an exact amount, re-read every MINT_RECHECK_MS: a Token-2022 fee
   * can be raised later (it takes effect two epochs on, days later), so the answer must not be kept forever.
   */
  private mintVerdict: { at: number; verdict: Promise<string | null> } | null = null;
  /** Payees whose token account was seen to exist (state of this app's runtime, see offerExtra). */
  private readonly payableOwners = new Set<string>();

  constructor(
    private readonly route: SolanaRouteSettings,
    private readonly feePayer: SvmFeePayer,
    private readonly key: FeePayerKey,
  ) {
    this.network = route.network;
    this.asset = route.asset;
    this.settlerAddress = key.address;
    this.rpc = createSolanaRpc(route.rpcUrl);
    this.facilitator = new ExactSvmFacilitator(feePayer, undefined, {
      maxComputeUnits: MAX_COMPUTE_UNITS,
      maxPriorityFeeMicroLamports: MAX_PRIORITY_FEE_MICROLAMPORTS,
      maxRequiredSignatures: 2,
    });
  }

  canOffer(): boolean {
    return X402_SOLANA_NETWORKS.includes(this.network);
  }

  async offerExtra(route: OfferedRoute, intent: PaymentIntent): Promise<Record<string, unknown>> {
    const inexact = await this.mintProblem();
    if (inexact) throw new Error(`no x402 offer: ${inexact}`);
    // A stock client's TransferChecked needs the seller's token account to exist (it creates
    // none): without it every payment would fail, so the offer is left out instead (the caller
    // logs why). Only a positive answer is remembered: the account may be created later.
    if (!this.payableOwners.has(route.pay_to)) {
      if (!isAddress(route.pay_to) || !isAddress(this.asset)) throw new Error('payTo is not a Solana address');
      const atas = [...(await associatedTokenAccounts(route.pay_to, address(this.asset))).values()];
      const { value } = await this.rpc.getMultipleAccounts(atas, { encoding: 'base64', commitment: 'confirmed' }).send({ abortSignal: AbortSignal.timeout(RPC_TIMEOUT_MS) });
      if (!value.some((account) => account !== null)) throw new Error("the seller's token account for this asset does not exist");
      this.payableOwners.add(route.pay_to);
    }
    // The memo binds the transfer to the intent, as the reference key does in the native flow.
    return { feePayer: this.settlerAddress, memo: intent.id };
  }

  async verify(payload: PaymentPayload, requirements: PaymentRequirements, ctx: VerifyContext): Promise<SchemeVerdict> {
    const transaction = decodePayloadTransaction(payload);
    if (!transaction) return refusal('invalid_exact_svm_payload_transaction', 'PAYMENT_REQUEST_MISMATCH', 'payload.transaction must be a base64 Solana transaction.');
    const want = await this.expectation(ctx.route, ctx.intent);
    if (!want) return refusal('invalid_exact_svm_payload_recipient_mismatch', 'PAYMENT_WRONG_RECIPIENT', "The route's payTo is not a Solana address.");
    const own = inspectPayment(transaction.messageBytes, want);
    if (!own.ok) return own;
    const inexact = await this.mintProblem().catch((error: unknown) => {
      throw paymentRpcUnavailable(error);
    });
    if (inexact) return refusal('invalid_exact_svm_payload_mint_mismatch', 'PAYMENT_WRONG_ASSET', `This route cannot take exact payments: ${inexact}.`);
    // The stock checks, in process, on requirements built from the intent (never the client's):
    // buyer signatures, ATA, amount, memo, authority ≠ fee payer, and a simulation. An RPC failure
    // throws: not the buyer's fault, the orchestration answers a retryable error.
    const stock = await this.facilitator.verify(payload, this.stockRequirements(requirements, ctx));
    if (!stock.isValid) {
      const reason = stock.invalidReason ?? 'invalid_exact_svm_verification_failed';
      const detail = stock.invalidMessage ?? '';
      // Not the buyer's doing: the node could not be asked, or our fee payer cannot pay the fee.
      // A retryable 503; the same payment goes through once the node answers / the key is funded.
      if (reason === 'invalid_exact_svm_transaction_simulation_failed' && (detail.startsWith(RPC_UNAVAILABLE) || FEE_PAYER_SHORT.test(detail))) {
        throw paymentRpcUnavailable(new Error(`x402 Solana simulation: ${detail.slice(0, 200)}`));
      }
      return refusal(reason, CODE_OF_REASON[reason] ?? 'PAYMENT_REQUEST_MISMATCH', `The payment was refused (${reason}).`);
    }
    return { ok: true, payer: own.payer, claimKey: claimKeyOf(transaction) };
  }

  async broadcast(payload: PaymentPayload, _requirements: PaymentRequirements, ctx: BroadcastContext): Promise<BroadcastResult> {
    const transaction = decodePayloadTransaction(payload);
    if (!transaction) return refusal('invalid_exact_svm_payload_transaction', 'PAYMENT_REQUEST_MISMATCH', 'payload.transaction must be a base64 Solana transaction.');
    // Co-signing is the last gate: the bytes are inspected again right before the key touches them.
    const want = await this.expectation(ctx.route, ctx.intent);
    const own = want ? inspectPayment(transaction.messageBytes, want) : null;
    if (!own?.ok) return own ?? refusal('invalid_exact_svm_payload_recipient_mismatch', 'PAYMENT_WRONG_RECIPIENT', "The route's payTo is not a Solana address.");
    const signed = await this.feePayer.signTransaction(payload.payload['transaction'] as string, this.feePayer.address, this.network);
    const signature = signatureOf(signed, this.feePayer.address);
    // On record before it can reach the chain (the signature is known once co-signed).
    ctx.onSigned?.(signature);
    try {
      await this.feePayer.sendTransaction(signed, this.network);
    } catch (error) {
      // The node may refuse bytes it already has (an earlier send of the same payment landed).
      if ((await this.statusOf(signature).catch(() => null)) !== null) return { ok: true, transaction: signature };
      // No JSON-RPC answer (connection lost, timeout): it may have been forwarded after all.
      if (!nodeAnswered(error)) return { ...refusal('invalid_exact_svm_transaction_failed', 'PAYMENT_RPC_UNAVAILABLE', `The payment could not be sent (${shortError(error)}).`), maybeSent: signature };
      // Refused by the node's preflight: nothing was sent. Our fee payer short of SOL is ours to fix.
      if (feePayerShort(error)) return refusal('invalid_exact_svm_transaction_failed', 'PAYMENT_RPC_UNAVAILABLE', 'The x402 fee payer cannot pay the network fee (fund it).');
      return refusal('invalid_exact_svm_transaction_failed', 'PAYMENT_TX_FAILED', `The network refused the payment transaction (${shortError(error)}).`);
    }
    return { ok: true, transaction: signature };
  }

  async awaitFinal(transaction: string, ctx: FinalContext): Promise<PaymentVerification> {
    const outcome = await this.feePayer.waitForCommitment(transaction, this.network, ctx.deadlineMs);
    if (outcome.status === 'failed') return { status: 'rejected', code: 'PAYMENT_TX_FAILED', message: 'The payment transaction failed on chain.', txRef: transaction };
    if (outcome.status === 'pending') {
      const known = await this.statusOf(transaction);
      return known === null ? { status: 'not_found' } : { status: 'pending', retryAfterSeconds: PENDING_RETRY_AFTER_SECONDS, txRef: transaction };
    }
    return this.checkConfirmed(transaction, ctx);
  }

  async gasBalance(): Promise<GasBalance> {
    // Imports the key (once): a secret whose halves do not match fails here, at start, not on a payment.
    await this.key.load();
    const balance = await this.feePayer.balance(this.network);
    return { family: 'solana', network: this.network, address: this.settlerAddress, balance, decimals: 9, symbol: 'SOL', low: balance < LOW_FEE_PAYER_LAMPORTS };
  }

  /**
   * Our own check of the final transaction, from the bytes and balances the node records (the
   * native verifier looks for a reference key, which an x402 payment does not carry): it
   * succeeded, it is the inspected shape for this intent, and the seller's account received the price.
   */
  private async checkConfirmed(signature: string, ctx: FinalContext): Promise<PaymentVerification> {
    const reply = await this.rpc
      .getTransaction(signature as Signature, { encoding: 'base64', maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
      .send({ abortSignal: AbortSignal.timeout(RPC_TIMEOUT_MS) });
    if (reply === null) return { status: 'pending', retryAfterSeconds: PENDING_RETRY_AFTER_SECONDS, txRef: signature };
    if (reply.meta?.err) return { status: 'rejected', code: 'PAYMENT_TX_FAILED', message: 'The payment transaction failed on chain.', txRef: signature };
    let landed: Transaction;
    try {
      landed = getTransactionDecoder().decode(getBase64Encoder().encode(reply.transaction[0]));
    } catch {
      throw new Error('the RPC returned an undecodable transaction');
    }
    if (signatureOf(landed, this.feePayer.address) !== signature) throw new Error('the RPC returned a different transaction');
    const want = await this.expectation(ctx.route, ctx.intent);
    const own = want ? inspectPayment(landed.messageBytes, want) : null;
    if (!want || !own?.ok) {
      const r = own && !own.ok ? own.refusal : null;
      return { status: 'rejected', code: r?.code === 'PAYMENT_WRONG_RECIPIENT' ? 'PAYMENT_WRONG_RECIPIENT' : 'PAYMENT_INSUFFICIENT', message: r?.message ?? 'Not a payment for this intent.', txRef: signature };
    }
    // Lookup tables are refused by inspectPayment: message indices are the meta's account indices.
    const index = own.destinationIndex;
    const amountAt = (balances: readonly { accountIndex: number | bigint; mint: string; uiTokenAmount: { amount: string } }[] | null | undefined) => {
      const entry = (balances ?? []).find((b) => Number(b.accountIndex) === index && b.mint === this.asset);
      return entry ? BigInt(entry.uiTokenAmount.amount) : 0n;
    };
    const received = amountAt(reply.meta?.postTokenBalances) - amountAt(reply.meta?.preTokenBalances);
    if (index < 0 || received !== want.amountAtomic) {
      // A Token-2022 fee withheld, say: what arrived is not the price.
      return { status: 'rejected', code: 'PAYMENT_INSUFFICIENT', message: 'The seller did not receive the full price.', txRef: signature };
    }
    return {
      status: 'verified',
      settlementKey: settlementKey(this.network, signature, own.transferIndex),
      txRef: signature,
      payer: own.payer,
      amountAtomic: received,
      transferIndex: own.transferIndex,
    };
  }

  /** What a payment for this intent on this route must be. Null when payTo is not an address. */
  private async expectation(route: OfferedRoute, intent: PaymentIntent): Promise<PaymentExpectation | null> {
    if (!isAddress(route.pay_to) || !isAddress(this.asset)) return null;
    return {
      feePayer: address(this.settlerAddress),
      feePayerAccounts: new Set((await associatedTokenAccounts(address(this.settlerAddress), address(this.asset))).values()),
      mint: address(this.asset),
      decimals: this.route.decimals,
      destinations: await associatedTokenAccounts(route.pay_to, address(this.asset)),
      amountAtomic: BigInt(route.amount_atomic),
      memo: intent.id,
      maxComputeUnits: MAX_COMPUTE_UNITS,
      maxPriceMicroLamports: BigInt(MAX_PRIORITY_FEE_MICROLAMPORTS),
    };
  }

  /** Requirements for the stock facilitator, from the intent and this server only. */
  private stockRequirements(requirements: PaymentRequirements, ctx: VerifyContext): PaymentRequirements {
    return {
      ...requirements,
      scheme: 'exact',
      network: this.network as PaymentRequirements['network'],
      asset: this.asset,
      payTo: ctx.route.pay_to,
      amount: ctx.route.amount_atomic,
      extra: { feePayer: this.settlerAddress, memo: ctx.intent.id },
    };
  }

  /** Why this route's mint cannot take `exact` payments, or null. An RPC failure is not remembered. */
  private mintProblem(): Promise<string | null> {
    if (this.mintVerdict && Date.now() - this.mintVerdict.at < MINT_RECHECK_MS) return this.mintVerdict.verdict;
    const verdict = (async () => {
      if (!isAddress(this.asset)) return 'the asset is not a Solana address';
      const { value } = await this.rpc.getAccountInfo(address(this.asset), { encoding: 'base64', commitment: 'confirmed' }).send({ abortSignal: AbortSignal.timeout(RPC_TIMEOUT_MS) });
      if (!value) return 'the asset mint does not exist';
      return inexactMint(value.owner, new Uint8Array(Buffer.from(value.data[0], 'base64')));
    })().catch((error: unknown) => {
      this.mintVerdict = null;
      throw error;
    });
    this.mintVerdict = { at: Date.now(), verdict };
    return verdict;
  }

  private async statusOf(signature: string) {
    const { value } = await this.rpc.getSignatureStatuses([signature as Signature], { searchTransactionHistory: true }).send({ abortSignal: AbortSignal.timeout(RPC_TIMEOUT_MS) });
    return value[0] ?? null;
  }
}

function decodePayloadTransaction(payload: PaymentPayload): Transaction | null {
  const encoded = payload.payload['transaction'];
  // A Solana transaction is at most 1232 bytes: 1644 base64 characters.
  if (typeof encoded !== 'string' || encoded.length === 0 || encoded.length > 1_700) return null;
  try {
    return getTransactionDecoder().decode(getBase64Encoder().encode(encoded));
  } catch {
    return null;
  }
}

/** The claim key (SPEC: the transaction message): `svm:` + SHA-256 of the message the buyer signed. */
export function claimKeyOf(transaction: Transaction): string {
  return `svm:${createHash('sha256').update(new Uint8Array(transaction.messageBytes)).digest('hex')}`;
}

/** The fee payer's signature (the first), which names the transaction on chain. */
function signatureOf(wire: string | Transaction, feePayer: Address): string {
  const tx = typeof wire === 'string' ? getTransactionDecoder().decode(getBase64Encoder().encode(wire)) : wire;
  const signature = tx.signatures[feePayer];
  if (!signature) throw new Error('the transaction lacks the fee payer signature');
  return getBase58Decoder().decode(signature);
}

/** Transaction errors that are about the fee payer's account (only the fee payer pays fees here). */
const FEE_PAYER_SHORT = /"(AccountNotFound|InsufficientFundsForFee|InvalidAccountForFee)"/;
const FEE_PAYER_ERRORS = new Set<number>([
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE,
  SOLANA_ERROR__TRANSACTION_ERROR__INVALID_ACCOUNT_FOR_FEE,
]);

/** The node answered with a JSON-RPC error (it refused; the transaction was not forwarded). */
function nodeAnswered(error: unknown): boolean {
  if (!isSolanaError(error)) return false;
  const code = error.context.__code;
  return code <= -32000 && code >= -32768;
}

function feePayerShort(error: unknown): boolean {
  if (!isSolanaError(error, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) return false;
  const cause = error.cause;
  return isSolanaError(cause) && FEE_PAYER_ERRORS.has(cause.context.__code);
}

function shortError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
