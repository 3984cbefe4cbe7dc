// The EVM half of x402 `exact` (EIP-3009 transferWithAuthorization), settled by the route's relayer
// key. Verification and settlement are @x402/evm's own facilitator code (ExactEvmScheme: signature
// incl. EIP-1271/6492, amount, recipient, validity window, authorizationState, simulation), run in
// process over a viem signer we build. The signer is wrapped per call so that we learn the hash the
// moment it is sent and the package never waits past our deadline; finality is then checked with
// the native verifier (receipt, Transfer log, payer linked, confirmations).
import { ExactEvmScheme } from '@x402/evm/exact/facilitator';
import type { FacilitatorEvmSigner } from '@x402/evm';
import { type Abi, BaseError, concat, InsufficientFundsError, NonceTooHighError, NonceTooLowError, createNonceManager, createPublicClient, createWalletClient, defineChain, encodeFunctionData, getAddress, HttpRequestError, http, keccak256, type NonceManager, publicActions, TimeoutError, type Hex } from 'viem';
import { jsonRpc } from 'viem/nonce';
import { privateKeyToAccount } from 'viem/accounts';
import type { Config, PaymentRouteConfig } from '../../config.ts';
import { createEvmVerifier } from '../payments/evm-verifier.ts';
import type { OfferedRoute } from '../payments/schema.ts';
import { RPC_TIMEOUT_MS, type PaymentVerification } from '../payments/verification-result.ts';
import type { BroadcastResult, GasBalance, SchemeVerdict, X402Refusal, X402Scheme } from './scheme.ts';

/** Stock clients sign `validBefore = now + maxTimeoutSeconds`: long enough for a block or two and our checks. */
export const EVM_MAX_TIMEOUT_SECONDS = 120;
/** Below this the relayer is warned about at start (0.001 ETH pays a few hundred EIP-3009 transfers on an L2). */
export const EVM_LOW_GAS_WEI = 10n ** 15n;
/** How often finality is polled while a call waits. */
const POLL_MS = 400;
/** The package refuses an authorization expiring within 6 s; we keep the same margin on our clock. */
const VALID_BEFORE_MARGIN_SECONDS = 6;

const ERC20_DOMAIN_ABI = [
  { type: 'function', name: 'name', stateMutability: 'view', inputs: [], outputs: [{ type: 'string' }] },
  { type: 'function', name: 'version', stateMutability: 'view', inputs: [], outputs: [{ type: 'string' }] },
] as const;

type Eip3009Payload = {
  signature: Hex;
  authorization: { from: Hex; to: Hex; value: string; validAfter: string; validBefore: string; nonce: Hex };
};

const refusal = (reason: string, code: string, message: string): X402Refusal => ({ reason, code, message });

/** The reasons of @x402/evm mapped to Crochet's codes (SPEC §5 step 4 where one fits). */
function codeOf(reason: string): string {
  if (reason.includes('recipient')) return 'PAYMENT_WRONG_RECIPIENT';
  if (reason.includes('value_mismatch') || reason.includes('authorization_value')) return 'PAYMENT_INSUFFICIENT';
  if (reason.includes('insufficient_balance')) return 'PAYMENT_INSUFFICIENT_FUNDS';
  if (reason.includes('nonce_already_used')) return 'PAYMENT_ALREADY_USED';
  if (reason.includes('valid_before') || reason.includes('valid_after')) return 'PAYMENT_AUTHORIZATION_EXPIRED';
  if (reason.includes('signature')) return 'PAYMENT_SIGNATURE_INVALID';
  return 'PAYMENT_INVALID';
}

/** How a write ended: sent; refused before signing (estimation); rejected by the node; unknown (no answer). */
type SendOutcome = 'sent' | 'refused' | 'rejected' | 'unknown';

/** viem errors meaning the relayer, not the payment, is the problem. */
function isRelayerProblem(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  return error.walk((e) => e instanceof InsufficientFundsError || e instanceof NonceTooLowError || e instanceof NonceTooHighError) !== null;
}

const shortMessage = (error: unknown) => (error instanceof BaseError ? error.shortMessage : error instanceof Error ? error.message : String(error)).slice(0, 160);

function isEip3009Payload(p: Record<string, unknown>): p is Eip3009Payload {
  const a = p['authorization'] as Record<string, unknown> | undefined;
  return typeof p['signature'] === 'string' && typeof a === 'object' && a !== null
    && ['from', 'to', 'value', 'validAfter', 'validBefore', 'nonce'].every((k) => typeof a[k] === 'string')
    && /^0x[0-9a-fA-F]{64}$/.test(a['nonce'] as string) && /^\d{1,78}$/.test(a['validBefore'] as string) && /^\d{1,78}$/.test(a['validAfter'] as string);
}

/**
 * The relayer's nonces in this process, shared by all its routes (keyed by address and chain), made
 * where the app is composed rather than viem's module-wide default: a chain that was reset (a test
 * chain) or another app in the same process never gets stale nonces.
 */
export const createRelayerNonces = (): NonceManager => createNonceManager({ source: jsonRpc() });

/** The EVM x402 scheme of one route, or null when the route cannot settle x402 (no key, or turned off). */
export function createEvmScheme(config: Pick<Config, 'x402_evm_relayer_key'>, route: PaymentRouteConfig, nonces: NonceManager = createRelayerNonces()): X402Scheme | null {
  if (!route.network.startsWith('eip155:') || !config.x402_evm_relayer_key || route.x402 === false) return null;
  const chainId = Number(route.network.slice('eip155:'.length));
  const chain = defineChain({ id: chainId, name: route.network, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [route.rpc_url] } } });
  const account = privateKeyToAccount(config.x402_evm_relayer_key, { nonceManager: nonces });
  const transport = http(route.rpc_url, { timeout: RPC_TIMEOUT_MS, retryCount: 1 });
  const wallet = createWalletClient({ account, chain, transport }).extend(publicActions);
  const reader = createPublicClient({ chain, transport, cacheTime: 0 });
  const asset = getAddress(route.asset);
  const native = createEvmVerifier({ network: route.network, rpcUrl: route.rpc_url, asset, decimals: route.decimals, confirmations: route.confirmations ?? 1 });
  let domain: Promise<{ name: string; version: string }> | null = null;

  /**
   * The package's signer over our viem clients. A write is signed first, its hash handed to
   * `onSigned` (recorded in the claim), and only then sent; `sent` learns whether the node took it.
   */
  const signerFor = (onSigned: (hash: Hex) => void, sent: (outcome: SendOutcome, error?: unknown) => void = () => undefined): FacilitatorEvmSigner => {
    const signAndSend = async (to: Hex, data: Hex, gas?: bigint): Promise<Hex> => {
      let serialized: Hex;
      try {
        const request = await wallet.prepareTransactionRequest({ account, chain, to, data, ...(gas ? { gas } : {}) });
        serialized = await wallet.signTransaction(request);
      } catch (error) {
        // A nonce may have been taken for a transaction that will never exist.
        nonces.reset({ address: account.address, chainId });
        sent('refused', error);
        throw error;
      }
      const hash = keccak256(serialized);
      onSigned(hash);
      try {
        await wallet.sendRawTransaction({ serializedTransaction: serialized });
      } catch (error) {
        nonces.reset({ address: account.address, chainId });
        // The node answered no: not sent. No answer at all: it may have reached the chain.
        sent(error instanceof HttpRequestError || error instanceof TimeoutError ? 'unknown' : 'rejected', error);
        throw error;
      }
      sent('sent');
      return hash;
    };
    return {
      getAddresses: () => [account.address],
      readContract: (args) => reader.readContract(args as Parameters<typeof reader.readContract>[0]),
      verifyTypedData: (args) => reader.verifyTypedData(args as Parameters<typeof reader.verifyTypedData>[0]),
      getCode: (args) => reader.getCode(args),
      writeContract(args) {
        const data = encodeFunctionData({ abi: args.abi as Abi, functionName: args.functionName, args: args.args as unknown[] });
        return signAndSend(args.address, args.dataSuffix ? concat([data, args.dataSuffix]) : data, args.gas);
      },
      sendTransaction: (args) => signAndSend(args.to, args.data),
      // Finality is ours to judge (awaitFinal): the package hands the hash back as settlement_pending.
      waitForTransactionReceipt: async () => {
        throw new Error('crochet: receipt checked by the caller');
      },
    };
  };
  // Verification reads only; a write here would be a bug.
  const verifier = new ExactEvmScheme(signerFor(() => {
    throw new Error('crochet: verify must not send');
  }));

  const readDomain = async () => {
    const [name, version] = await Promise.all([
      route.eip712_name ?? reader.readContract({ address: asset, abi: ERC20_DOMAIN_ABI, functionName: 'name' }),
      route.eip712_version ?? reader.readContract({ address: asset, abi: ERC20_DOMAIN_ABI, functionName: 'version' }),
    ]);
    return { name, version };
  };

  return {
    family: 'evm',
    network: route.network,
    asset,
    maxTimeoutSeconds: EVM_MAX_TIMEOUT_SECONDS,
    settlerAddress: account.address,
    canOffer: () => true,
    async offerExtra() {
      // Read once from the token; a failed read is tried again on the next 402.
      domain ??= readDomain().catch((error: unknown) => {
        domain = null;
        throw error;
      });
      const { name, version } = await domain;
      return { name, version };
    },
    async verify(payload, requirements, ctx): Promise<SchemeVerdict> {
      const raw = payload.payload;
      if (!isEip3009Payload(raw)) return { ok: false, refusal: refusal('unsupported_payload_type', 'PAYMENT_INVALID', 'Only EIP-3009 transferWithAuthorization payloads are accepted on this route.') };
      const auth = raw.authorization;
      let from: Hex;
      try {
        from = getAddress(auth.from);
      } catch {
        return { ok: false, refusal: refusal('invalid_payload', 'PAYMENT_INVALID', 'authorization.from is not an address.') };
      }
      // The payment must be the buyer's (SPEC §5): checked before anything reaches the chain.
      if (!ctx.buyerWallets.some((w) => w.toLowerCase() === from.toLowerCase())) {
        return { ok: false, refusal: refusal('invalid_payload', 'PAYMENT_PAYER_NOT_LINKED', 'The authorization is signed by a wallet that is not linked to your account (link it with the payment role).') };
      }
      const now = Math.floor(ctx.now.getTime() / 1000);
      if (BigInt(auth.validBefore) < BigInt(now + VALID_BEFORE_MARGIN_SECONDS) || BigInt(auth.validAfter) > BigInt(now)) {
        return { ok: false, refusal: refusal('invalid_exact_evm_payload_authorization_valid_before', 'PAYMENT_AUTHORIZATION_EXPIRED', 'The authorization is outside its validity window; sign a new one.') };
      }
      const result = await verifier.verify(payload, requirements);
      if (!result.isValid) {
        const reason = result.invalidReason ?? 'invalid_payload';
        return { ok: false, refusal: refusal(reason, codeOf(reason), `The payment authorization was refused (${reason}).`) };
      }
      return { ok: true, payer: from, claimKey: `${route.network}:${asset.toLowerCase()}:${from.toLowerCase()}:${auth.nonce.toLowerCase()}` };
    },
    async broadcast(payload, requirements, ctx): Promise<BroadcastResult> {
      let signed: Hex | null = null;
      let outcome: SendOutcome | null = null;
      let failure: unknown = null;
      const scheme = new ExactEvmScheme(signerFor(
        (hash) => {
          signed = hash;
          ctx.onSigned?.(hash);
        },
        (o, error) => {
          outcome = o;
          failure = error ?? null;
        },
      ));
      const result = await scheme.settle(payload, requirements);
      const hash = signed as Hex | null;
      if (hash && outcome === 'sent') return { ok: true, transaction: hash };
      const reason = result.errorReason ?? 'invalid_transaction_state';
      // The relayer's own trouble (no gas, a nonce race with another process) is not the buyer's:
      // retryable. A node refusing a signed transfer that simulated fine is always that.
      if (outcome === 'rejected' || (outcome === 'refused' && isRelayerProblem(failure))) {
        return { ok: false, refusal: refusal('unexpected_settle_error', 'PAYMENT_RPC_UNAVAILABLE', `The relayer ${account.address} could not send the payment (${shortMessage(failure)}).`) };
      }
      const failed = refusal(reason, codeOf(reason), `The payment could not be submitted (${reason}).`);
      return hash && outcome === 'unknown' ? { ok: false, refusal: failed, maybeSent: hash } : { ok: false, refusal: failed };
    },
    async awaitFinal(transaction, ctx): Promise<PaymentVerification> {
      const route0: OfferedRoute = ctx.route;
      for (;;) {
        const v = await native.verify({
          txHash: transaction as Hex,
          payTo: route0.pay_to,
          amountAtomic: BigInt(route0.amount_atomic),
          buyerWallets: [...ctx.buyerWallets],
          afterBlock: BigInt(route0.after_block ?? '0'),
        });
        if (v.status === 'verified' || v.status === 'rejected') return v;
        // not_found: the node does not know the transaction (yet, or at all); the caller decides.
        if (Date.now() + POLL_MS >= ctx.deadlineMs) return v;
        await Bun.sleep(POLL_MS);
      }
    },
    async gasBalance(): Promise<GasBalance> {
      const balance = await reader.getBalance({ address: account.address });
      return { family: 'evm', network: route.network, address: account.address, balance, decimals: 18, symbol: 'ETH', low: balance < EVM_LOW_GAS_WEI };
    },
  };
}
