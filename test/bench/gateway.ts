// Gateway throughput at 32 concurrent connections (autocannon, in its own process):
// (a) the seller stub directly, (b) a bare signing proxy, (c) the Crochet gateway on a free
// listing, recording history. Prints req/s, p50/p99 and the ratios c/b and c/a. A diagnostic (d),
// Crochet's HTTP stack and forwarding path without any per-caller work, splits the c/b gap in two.
// Run directly: `bun test/bench/gateway.ts [seconds per round]`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { freePort } from '../support/binary.ts';
import { createListing } from '../support/listings.ts';
import { httpCaller, registerAgent } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

const ROOT = join(import.meta.dir, '../..');
const CONNECTIONS = 32;
const ROUNDS = 5;
const BODY = JSON.stringify({ city: 'Lisbon', days: 3 });

type Load = { rps: number; p50: number; p99: number; errors: number; non2xx: number };

async function startPrinting(cmd: string[], env: Record<string, string> = {}): Promise<{ proc: Subprocess; port: number }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: 'pipe', stderr: 'inherit', env: { ...process.env, ...env } });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return { proc, port: Number(new TextDecoder().decode(value).trim().split('\n')[0]) };
}

async function load(url: string, seconds: number, headers: Record<string, string> = {}): Promise<Load> {
  const args = ['node', join(ROOT, 'node_modules/autocannon/autocannon.js'), '-j', '-c', String(CONNECTIONS), '-d', String(seconds), '-m', 'POST', '-b', BODY, '-H', 'content-type=application/json'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  args.push(url);
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const r = JSON.parse(out) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number };
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

export async function runGatewayBench(seconds = 5, log: (line: string) => void = console.log) {
  const stub = await startPrinting(['bun', 'test/bench/servers/seller-stub.ts']);
  const stubUrl = `http://127.0.0.1:${stub.port}/forecast`;
  const proxy = await startPrinting(['bun', 'test/bench/servers/signing-proxy.ts', stubUrl]);
  const forwarding = await startPrinting(['bun', 'test/bench/servers/forwarding-only.ts', stubUrl]);
  const port = freePort();
  const crochet = Bun.spawn(['bun', 'src/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: ROOT,
    stdout: 'ignore',
    stderr: 'inherit',
    env: {
      ...process.env,
      CROCHET_DATA_DIR: mkdtempSync(join(tmpdir(), 'crochet-bench-gw-')),
      CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
      CROCHET_POW_DIFFICULTY: '1',
      CROCHET_LOG_LEVEL: 'warn',
      // Limits on (the issue counts their cost), set above what the bench sends in a minute.
      CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '1000000',
      CROCHET_RATE_LIMIT_LISTING_PER_MIN: '1000000',
      CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '0',
      CROCHET_RATE_LIMIT_WRITE_PER_MIN: '0',
    },
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      await Bun.sleep(50);
    }
    const call = httpCaller(base);
    const seller = await registerAgent(call, evmWallet(), 'Bench Seller');
    const buyer = await registerAgent(call, evmWallet(), 'Bench Buyer');
    const listing = await createListing(call, seller.key, { private_endpoint_url: stubUrl });
    const gatewayUrl = `${base}/api/v1/gateway/${listing.id}`;
    const auth = { authorization: `Bearer ${buyer.key}` };

    // Two cores run the load generator, the targets and the seller: single runs are noisy, so
    // the three targets are measured in interleaved rounds and each reports its median round.
    const targets = {
      a: () => load(stubUrl, seconds),
      b: () => load(`http://127.0.0.1:${proxy.port}/`, seconds),
      c: () => load(gatewayUrl, seconds, auth),
      d: () => load(`http://127.0.0.1:${forwarding.port}/api/v1/gateway/bench`, seconds),
    };
    type Target = keyof typeof targets;
    for (const run of Object.values(targets)) await run(); // warm-up round, discarded
    const rounds: Record<Target, Load[]> = { a: [], b: [], c: [], d: [] };
    for (let round = 0; round < ROUNDS; round++) for (const [name, run] of Object.entries(targets)) rounds[name as Target].push(await run());
    const median = (xs: Load[]) => [...xs].sort((x, y) => x.rps - y.rps)[Math.floor(xs.length / 2)] as Load;
    const a = median(rounds.a);
    const b = median(rounds.b);
    const c = median(rounds.c);
    const d = median(rounds.d);

    const row = (name: string, r: Load) => `${name.padEnd(34)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   errors ${r.errors + r.non2xx}`;
    log(`gateway throughput, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${seconds} s rounds (autocannon)`);
    log(row('(a) seller stub directly', a));
    log(row('(b) bare signing proxy', b));
    log(row('(c) Crochet gateway (free listing)', c));
    log(`ratio c/b = ${(c.rps / b.rps).toFixed(2)} (target ≥ 0.80)   ratio c/a = ${(c.rps / a.rps).toFixed(2)}`);
    log(row('(d) diagnostic: forwarding only', d));
    log(`  d/b = ${(d.rps / b.rps).toFixed(2)}: Elysia, the foundation hooks and the gateway's upstream client (re-vet, pinning, deadline, caps, JSON check)`);
    log(`  c/d = ${(c.rps / d.rps).toFixed(2)}: authentication, limits, listing lookup, body check and history on top`);
    return { a, b, c, d, cOverB: c.rps / b.rps, cOverA: c.rps / a.rps };
  } finally {
    crochet.kill('SIGTERM');
    await crochet.exited;
    proxy.proc.kill();
    forwarding.proc.kill();
    stub.proc.kill();
  }
}

if (import.meta.main) await runGatewayBench(Number(process.argv[2] ?? 3));
