import { createHash } from 'node:crypto';
import {
  appendTransactionMessageInstructions,
  createSolanaRpc,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase58Decoder,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayerSigner,
  signTransactionMessageWithSigners,
  type Address,
  type Instruction,
  type KeyPairSigner,
  type Rpc,
  type SolanaRpcApi,
} from '@solana/kit';
import {
  TOKEN_PROGRAM_ADDRESS,
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstructionAsync,
  getInitializeMint2Instruction,
  getMintSize,
  getMintToInstruction,
  getTokenDecoder,
} from '@solana-program/token';
import { getCreateAccountInstruction } from '@solana-program/system';
import { SolanaLedger, type Commitment } from './solana-ledger.ts';
import { TOKEN_2022_PROGRAM_ADDRESS, TRANSFER_FEE_MINT_SIZE, getInitializeTransferFeeConfigInstruction } from './solana-token-2022.ts';
import { RpcError, methods, type MethodContext } from './solana-rpc-methods.ts';

/**
 * A local Solana chain for tests: LiteSVM (with the SPL Token programs) behind a JSON-RPC 2.0
 * server on 127.0.0.1, so production code talks to it with its normal `@solana/kit` client.
 */
export type SolanaTestChain = {
  rpcUrl: string;
  /** A kit client for this chain (what buyers use with `payUsdcSolana`). */
  rpc: Rpc<SolanaRpcApi>;
  /** The USDC-like mint (6 decimals). */
  mint: Address;
  decimals: number;
  mintAuthority: KeyPairSigner;
  genesisHash: string;
  /** CAIP-2: `solana:` + the first 32 characters of the genesis hash. */
  network: string;
  ledger: SolanaLedger;
  /** A new wallet with 1 SOL and an associated token account holding `usdcAtomic` of `mint`. */
  createFundedWallet(usdcAtomic: bigint, mint?: Address): Promise<KeyPairSigner>;
  /** A second token ("wrong asset"); mint it to wallets with `mintTo`. */
  createMint(decimals?: number): Promise<Address>;
  /**
   * A Token-2022 mint with the TransferFeeConfig extension: every transfer withholds
   * `min(ceil(amount × basisPoints / 10000), maximumFee)` in the recipient's token account.
   */
  createTransferFeeMint(args: { basisPoints: number; maximumFee: bigint; decimals?: number }): Promise<Address>;
  mintTo(owner: Address, amountAtomic: bigint, mint?: Address): Promise<void>;
  /** Balance of `owner`'s associated token account (0 when it does not exist). */
  tokenBalance(owner: Address, mint?: Address): Promise<bigint>;
  /** The commitment new transactions land at: `finalized` (default), `confirmed` or `processed`. */
  setCommitmentMode(level: Commitment): void;
  confirm(signature: string): void;
  finalize(signature: string): void;
  finalizeAll(): void;
  /** A frozen address lookup table holding `addresses`; returns its address. */
  createLookupTable(addresses: Address[]): Promise<Address>;
  stop(): Promise<void>;
};

const USDC_DECIMALS = 6;
const ONE_SOL = 1_000_000_000n;

/**
 * Devnet's genesis hash. The test chain answers `getGenesisHash` with it, so its CAIP-2 id is
 * devnet's (`solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1`): stock x402 Solana clients accept only the
 * mainnet, devnet and testnet ids. Nothing at test time talks to the real devnet (no network).
 */
export const DEVNET_GENESIS_HASH = 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG';

/** A genesis hash of no public cluster, for a route that must not offer x402. */
export const PRIVATE_CLUSTER_GENESIS_HASH = getBase58Decoder().decode(createHash('sha256').update('crochet test genesis').digest());

/** Start a fresh chain with the USDC-like mint created, on a free loopback port. */
export async function startSolanaRpc(options: { genesisHash?: string } = {}): Promise<SolanaTestChain> {
  const ledger = new SolanaLedger();
  // Fixed, so the network id is the same in every run (routes can be written down in tests).
  const genesisHash = options.genesisHash ?? DEVNET_GENESIS_HASH;
  const ctx = { ledger, genesisHash };

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => handleRpc(await request.text(), ctx),
  });
  const rpcUrl = `http://127.0.0.1:${server.port}`;

  const mintAuthority = await generateKeyPairSigner();
  ledger.fund(mintAuthority.address, 1_000n * ONE_SOL);

  /** Setup transactions skip HTTP and land finalized whatever the commitment mode. */
  async function setupTx(instructions: Instruction[]): Promise<void> {
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(mintAuthority, m),
      (m) => ledger.svm.setTransactionMessageLifetimeUsingLatestBlockhash(m),
      (m) => appendTransactionMessageInstructions(instructions, m),
    );
    const signed = await signTransactionMessageWithSigners(message);
    const result = ledger.submit(new Uint8Array(getTransactionEncoder().encode(signed)), { preflight: true, level: 'finalized' });
    if ('preflightFailed' in result) throw new Error(`setup transaction failed: ${JSON.stringify(result.preflightFailed)}`);
  }

  async function createMint(decimals = USDC_DECIMALS): Promise<Address> {
    const mint = await generateKeyPairSigner();
    const space = BigInt(getMintSize());
    await setupTx([
      getCreateAccountInstruction({
        payer: mintAuthority,
        newAccount: mint,
        lamports: ledger.svm.minimumBalanceForRentExemption(space),
        space,
        programAddress: TOKEN_PROGRAM_ADDRESS,
      }),
      getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: mintAuthority.address }),
    ]);
    return mint.address;
  }

  async function createTransferFeeMint(args: { basisPoints: number; maximumFee: bigint; decimals?: number }): Promise<Address> {
    const mint = await generateKeyPairSigner();
    const space = TRANSFER_FEE_MINT_SIZE;
    const programAddress = TOKEN_2022_PROGRAM_ADDRESS;
    // The extension is initialized before the mint itself, as Token-2022 requires.
    await setupTx([
      getCreateAccountInstruction({ payer: mintAuthority, newAccount: mint, lamports: ledger.svm.minimumBalanceForRentExemption(space), space, programAddress }),
      getInitializeTransferFeeConfigInstruction({ mint: mint.address, authority: mintAuthority.address, basisPoints: args.basisPoints, maximumFee: args.maximumFee }),
      getInitializeMint2Instruction({ mint: mint.address, decimals: args.decimals ?? USDC_DECIMALS, mintAuthority: mintAuthority.address }, { programAddress }),
    ]);
    return mint.address;
  }

  const usdcMint = await createMint();

  /** The token program that owns `mint` (Token or Token-2022). */
  const tokenProgramOf = (mint: Address): Address => {
    const account = ledger.svm.getAccount(mint);
    return account.exists && account.programAddress === TOKEN_2022_PROGRAM_ADDRESS ? TOKEN_2022_PROGRAM_ADDRESS : TOKEN_PROGRAM_ADDRESS;
  };

  async function mintTo(owner: Address, amountAtomic: bigint, mint: Address = usdcMint): Promise<void> {
    const tokenProgram = tokenProgramOf(mint);
    const [ata] = await findAssociatedTokenPda({ owner, mint, tokenProgram });
    await setupTx([
      await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: mintAuthority, owner, mint, tokenProgram }),
      getMintToInstruction({ mint, token: ata, mintAuthority, amount: amountAtomic }, { programAddress: tokenProgram }),
    ]);
  }

  let stopped = false;
  return {
    rpcUrl,
    rpc: createSolanaRpc(rpcUrl),
    mint: usdcMint,
    decimals: USDC_DECIMALS,
    mintAuthority,
    genesisHash,
    network: `solana:${genesisHash.slice(0, 32)}`,
    ledger,
    async createFundedWallet(usdcAtomic, mint = usdcMint) {
      const wallet = await generateKeyPairSigner();
      ledger.fund(wallet.address, ONE_SOL);
      await mintTo(wallet.address, usdcAtomic, mint);
      return wallet;
    },
    createMint,
    createTransferFeeMint,
    mintTo,
    async tokenBalance(owner, mint = usdcMint) {
      const [ata] = await findAssociatedTokenPda({ owner, mint, tokenProgram: tokenProgramOf(mint) });
      const account = ledger.svm.getAccount(ata);
      return account.exists ? getTokenDecoder().decode(account.data).amount : 0n;
    },
    setCommitmentMode(level) {
      ledger.landingCommitment = level;
    },
    confirm: (signature) => ledger.promote(signature, 'confirmed'),
    finalize: (signature) => ledger.promote(signature, 'finalized'),
    finalizeAll: () => ledger.promoteAll('finalized'),
    async createLookupTable(addresses) {
      const table = await generateKeyPairSigner();
      ledger.createLookupTable(table.address, addresses);
      return table.address;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop(true);
    },
  };
}

async function handleRpc(body: string, ctx: MethodContext): Promise<Response> {
  let request: { id?: unknown; method?: unknown; params?: unknown };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return reply({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  }
  const id = request.id ?? null;
  const method =
    typeof request.method === 'string' && Object.hasOwn(methods, request.method) ? methods[request.method] : undefined;
  if (!method) {
    return reply({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${String(request.method)}` } });
  }
  try {
    const result = await method(Array.isArray(request.params) ? request.params : [], ctx);
    return reply({ jsonrpc: '2.0', id, result });
  } catch (error) {
    if (error instanceof RpcError) {
      return reply({ jsonrpc: '2.0', id, error: { code: error.code, message: error.message, data: error.data } });
    }
    return reply({ jsonrpc: '2.0', id, error: { code: -32603, message: `Internal error: ${(error as Error).message}` } });
  }
}

/** JSON with bigints written as plain numbers, as validators send u64 values. */
function reply(payload: unknown): Response {
  const text = JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'bigint' ? `__bigint__${value.toString()}` : value,
  ).replace(/"__bigint__(\d+)"/g, '$1');
  return new Response(text, { headers: { 'content-type': 'application/json' } });
}
