import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress, numberToHex, type Hex } from 'viem';
import type { Subprocess } from 'bun';

/**
 * A real local EVM chain for tests: the `anvil` binary, started directly.
 *
 * We spawn `@foundry-rs/anvil-linux-amd64/bin/anvil` ourselves rather than the npm wrapper
 * (`node_modules/.bin/anvil`), because the wrapper starts the binary as a grandchild that keeps
 * running when the wrapper is killed.
 */
export type AnvilAccount = { address: Hex; privateKey: Hex };

export type AnvilChain = {
  rpcUrl: string;
  chainId: number;
  /** Ten funded dev accounts (10 000 ETH each) derived from the fixed test mnemonic. */
  accounts: AnvilAccount[];
  /** Mine `blocks` (default 1) empty blocks, e.g. to add confirmations. */
  mine(blocks?: number): Promise<void>;
  /** Turn instant mining off (transactions wait in the mempool) or back on. */
  setAutomine(enabled: boolean): Promise<void>;
  /** Kill the process and wait for it to exit. Safe to call twice. */
  stop(): Promise<void>;
};

const ANVIL_BINARY = new URL(
  '../../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil',
  import.meta.url,
).pathname;
const TEST_MNEMONIC = 'test test test test test test test test test test test junk';
const ACCOUNT_COUNT = 10;
const CHAIN_ID = 31337;
const START_TIMEOUT_MS = 15_000;

/**
 * Kills anvil within a second once this Bun process is gone, however it went: `bun test` never
 * fires `process.on('exit')` (oven-sh/bun#8434), and a crash or SIGKILL runs no hook at all.
 */
const WATCHDOG_SCRIPT =
  'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null';

function startWatchdog(childPid: number): Subprocess {
  const watchdog = Bun.spawn(['/bin/sh', '-c', WATCHDOG_SCRIPT, 'anvil-watchdog', String(process.pid), String(childPid)], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  });
  watchdog.unref();
  return watchdog;
}

/** Start a fresh anvil on a free loopback port and wait until its RPC answers. */
export async function startAnvil(): Promise<AnvilChain> {
  // anvil writes its dev accounts and keys here; deriving ten keys from the mnemonic in JS costs ~300 ms.
  const configDir = await mkdtemp(join(tmpdir(), 'crochet-anvil-'));
  const configOut = join(configDir, 'anvil.json');
  const proc = Bun.spawn(
    [
      ANVIL_BINARY,
      '--host', '127.0.0.1',
      // anvil accepts port 0 and prints the port the OS chose ("Listening on 127.0.0.1:NNNNN").
      '--port', '0',
      '--mnemonic', TEST_MNEMONIC,
      '--accounts', String(ACCOUNT_COUNT),
      '--chain-id', String(CHAIN_ID),
      '--config-out', configOut,
    ],
    { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  );
  const watchdog = startWatchdog(proc.pid);

  let rpcUrl: string;
  let accounts: AnvilAccount[];
  try {
    rpcUrl = `http://127.0.0.1:${await readListeningPort(proc)}`;
    await waitForRpc(rpcUrl);
    accounts = await readAccounts(configOut);
  } catch (error) {
    watchdog.kill('SIGKILL');
    proc.kill('SIGKILL');
    await proc.exited;
    throw error;
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }

  let stopped = false;
  return {
    rpcUrl,
    chainId: CHAIN_ID,
    accounts,
    async mine(blocks = 1) {
      await rpc(rpcUrl, 'anvil_mine', [numberToHex(blocks)]);
    },
    async setAutomine(enabled) {
      await rpc(rpcUrl, 'evm_setAutomine', [enabled]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      watchdog.kill('SIGKILL');
      proc.kill('SIGTERM');
      await proc.exited;
    },
  };
}

/** Read anvil's stdout until it prints its port, then keep draining so the pipe never fills. */
async function readListeningPort(proc: Subprocess<'ignore', 'pipe', 'pipe'>): Promise<number> {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
  });
  let seen = '';
  try {
    for (;;) {
      const chunk = await Promise.race([reader.read(), timedOut]);
      if (chunk === 'timeout') throw new Error('anvil did not start listening in time');
      if (chunk.done) {
        const stderr = await new Response(proc.stderr).text();
        throw new Error(`anvil exited before listening: ${stderr.slice(0, 500)}`);
      }
      seen += decoder.decode(chunk.value, { stream: true });
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(seen);
      if (match?.[1]) {
        void drain(reader);
        void new Response(proc.stderr).arrayBuffer().catch(() => undefined);
        return Number(match[1]);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

async function readAccounts(configOut: string): Promise<AnvilAccount[]> {
  const config = JSON.parse(await readFile(configOut, 'utf8')) as {
    available_accounts: string[];
    private_keys: Hex[];
  };
  return config.available_accounts.map((address, i) => {
    const privateKey = config.private_keys[i];
    if (!privateKey) throw new Error('anvil config-out lists fewer keys than accounts');
    return { address: getAddress(address), privateKey };
  });
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done) {
      // discard: anvil logs every RPC call
    }
  } catch {
    // the process was killed
  }
}

async function waitForRpc(rpcUrl: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await rpc(rpcUrl, 'eth_chainId', []);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
}

async function rpc(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`anvil ${method}: ${body.error.message}`);
  return body.result;
}
