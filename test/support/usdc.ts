import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import {
  createPublicClient,
  createWalletClient,
  http,
  type Abi,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import type { AnvilAccount } from './anvil.ts';

/**
 * The test ERC-20 (test/fixtures/TestUSDC.sol): compiled with solcjs on first use, cached in
 * test/.cache/ by source hash (solcjs takes seconds to load; the cache makes later runs instant),
 * deployed with viem.
 */
export type TestToken = {
  address: Hex;
  abi: Abi;
  /** Mint `amount` atomic units to `to` (the contract lets anyone mint). */
  mint(to: Hex, amount: bigint): Promise<Hex>;
  /** ERC-20 `transfer` signed by `from`; resolves once mined, returns the transaction hash. */
  transfer(from: AnvilAccount, to: Hex, amount: bigint, options?: TransferOptions): Promise<Hex>;
  balanceOf(owner: Hex): Promise<bigint>;
};

export type TransferOptions = {
  /**
   * A fixed gas limit skips viem's gas estimation, so a transfer that will revert is still sent
   * and mined (a reverted receipt), instead of failing in estimation.
   */
  gas?: bigint;
  /** Do not wait for the receipt (for tests that turned automine off). */
  noWait?: boolean;
};

type Artifact = { abi: Abi; bytecode: Hex };

type ContractName = 'TestUSDC' | 'TestUSDC3009' | 'TestWallet1271';
const CACHE_DIR = new URL('../.cache/', import.meta.url);

const artifactPromises: Partial<Record<ContractName, Promise<Artifact>>> = {};

/** Deploy a fresh TestUSDC (default name "Test USD Coin", symbol "USDC"). `deployer` pays gas. */
export async function deployTestToken(args: {
  rpcUrl: string;
  deployer: AnvilAccount;
  name?: string;
  symbol?: string;
  /** TestUSDC3009: the same token with EIP-3009 transferWithAuthorization (EIP-712 version "2"), for x402. */
  contract?: ContractName;
}): Promise<TestToken> {
  const contract = args.contract ?? 'TestUSDC';
  const artifact = await (artifactPromises[contract] ??= loadArtifact(contract));
  const publicClient = createPublicClient({ chain: foundry, transport: http(args.rpcUrl) });
  const deployer = walletFor(args.rpcUrl, args.deployer);
  const hash = await deployer.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    args: [args.name ?? 'Test USD Coin', args.symbol ?? 'USDC'],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  const address = receipt.contractAddress;
  if (!address) throw new Error('TestUSDC deployment produced no contract address');

  const send = async (
    from: AnvilAccount,
    functionName: 'mint' | 'transfer',
    callArgs: [Hex, bigint],
    options: TransferOptions = {},
  ): Promise<Hex> => {
    const txHash = await walletFor(args.rpcUrl, from).writeContract({
      address,
      abi: artifact.abi,
      functionName,
      args: callArgs,
      ...(options.gas === undefined ? {} : { gas: options.gas }),
    });
    if (!options.noWait) await waitMined(publicClient, txHash);
    return txHash;
  };

  return {
    address,
    abi: artifact.abi,
    mint: (to, amount) => send(args.deployer, 'mint', [to, amount]),
    transfer: (from, to, amount, options) => send(from, 'transfer', [to, amount], options),
    async balanceOf(owner) {
      const balance = await publicClient.readContract({
        address,
        abi: artifact.abi,
        functionName: 'balanceOf',
        args: [owner],
      });
      if (typeof balance !== 'bigint') throw new Error('balanceOf returned a non-integer');
      return balance;
    },
  };
}

/** Deploy a smart-contract wallet (test/fixtures/TestWallet1271.sol) whose EIP-1271 signer is `owner`. */
export async function deploySmartWallet(args: { rpcUrl: string; deployer: AnvilAccount; owner: Hex }): Promise<Hex> {
  const artifact = await (artifactPromises.TestWallet1271 ??= loadArtifact('TestWallet1271'));
  const publicClient = createPublicClient({ chain: foundry, transport: http(args.rpcUrl) });
  const hash = await walletFor(args.rpcUrl, args.deployer).deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args: [args.owner] });
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (!receipt.contractAddress) throw new Error('TestWallet1271 deployment produced no contract address');
  return receipt.contractAddress;
}

/**
 * What a buyer agent does on an EVM route: an ERC-20 `transfer` of `amount` to `payTo` from its own
 * wallet. Returns the transaction hash once mined (the `X-Crochet-Payment-Tx` value).
 */
export function payUsdcEvm(args: {
  token: TestToken;
  buyer: AnvilAccount;
  payTo: Hex;
  amountAtomic: bigint;
}): Promise<Hex> {
  return args.token.transfer(args.buyer, args.payTo, args.amountAtomic);
}

function walletFor(rpcUrl: string, account: AnvilAccount) {
  return createWalletClient({
    account: privateKeyToAccount(account.privateKey),
    chain: foundry,
    transport: http(rpcUrl),
  });
}

async function waitMined(client: PublicClient, hash: Hex): Promise<void> {
  await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
}

async function loadArtifact(contract: ContractName): Promise<Artifact> {
  const source = await readFile(new URL(`../fixtures/${contract}.sol`, import.meta.url), 'utf8');
  const key = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const cacheFile = new URL(`${contract}.${key}.json`, CACHE_DIR);
  try {
    return JSON.parse(await readFile(cacheFile, 'utf8')) as Artifact;
  } catch {
    // cache miss: compile below
  }
  const artifact = await compile(source, contract);
  await mkdir(CACHE_DIR, { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const tmp = new URL(`${contract}.${key}.${process.pid}.tmp`, CACHE_DIR);
  await writeFile(tmp, JSON.stringify(artifact));
  await rename(tmp, cacheFile);
  return artifact;
}

async function compile(source: string, contract: ContractName): Promise<Artifact> {
  // Dynamic import: solcjs is 9 MB of wasm glue, only worth loading on a cache miss.
  const solc = (await import('solc')).default;
  const compileStandard: (input: string) => string = solc.compile;
  const input = {
    language: 'Solidity',
    sources: { [`${contract}.sol`]: { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      // Pinned so the bytecode does not depend on solc's default and anvil's hardfork moving apart.
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(compileStandard(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(`${contract}.sol failed to compile:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  const compiled = output.contracts?.[`${contract}.sol`]?.[contract];
  if (!compiled) throw new Error(`solc output has no ${contract} contract`);
  return { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
}
