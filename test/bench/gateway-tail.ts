// Gateway tail and throughput with wrk (saturation) and hey (fixed rate), issue 16 targets 1 and 2.
// Three systems in interleaved rounds, each reported as its median round: (a) the seller stub
// directly, (b) a bare Bun signing proxy, (c) Crochet's gateway on a free listing (auth, limits,
// history row, both JSON checks, URL re-vet, deadline, metrics). Crochet runs with a diagnostics
// preload (servers/diagnostics.ts): after each of its rounds it reports the event-loop delay, the
// SQLite commit times and GC, so a stall is seen with its cause.
// Run directly: `bun test/bench/gateway-tail.ts [seconds per round] [rounds]`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { freePort } from '../support/binary.ts';
import { createListing } from '../support/listings.ts';
import { httpCaller, registerAgent } from '../support/app.ts';
import { evmWallet } from '../support/wallets.ts';

const ROOT = join(import.meta.dir, '../..');
const CONNECTIONS = 32;
const FIXED_RATE = 1000;
const BODY = JSON.stringify({ city: 'Lisbon', days: 3 });

export type Latency = { rps: number; p50: number; p99: number; errors: number };

async function startPrinting(cmd: string[]): Promise<{ proc: Subprocess<'ignore', 'pipe', 'pipe'>; port: number }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return { proc, port: Number(new TextDecoder().decode(value).trim().split('\n')[0]) };
}

/** wrk's and hey's durations ("850.00us", "1.20ms", "0.0012 secs") in milliseconds. */
function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 'ms' ? n : unit === 's' || unit === 'secs' ? n * 1000 : unit === 'm' ? n * 60_000 : Number.NaN;
}

function wrkScript(headers: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-bench-wrk-'));
  const file = join(dir, 'post.lua');
  const lines = [`wrk.method = "POST"`, `wrk.body = ${JSON.stringify(BODY)}`, `wrk.headers["Content-Type"] = "application/json"`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  writeFileSync(file, lines.join('\n'));
  return file;
}

async function wrk(url: string, seconds: number, headers: Record<string, string> = {}): Promise<Latency> {
  const script = wrkScript(headers);
  const proc = Bun.spawn(['wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url], { stdout: 'pipe', stderr: 'pipe' });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const pct = (p: string) => {
    const m = out.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return m ? toMs(m[1] as string, m[2] as string) : Number.NaN;
  };
  const errors = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0) + Number(out.match(/Socket errors: .*?(\d+)/)?.[1] ?? 0);
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? Number.NaN), p50: pct('50'), p99: pct('99'), errors };
}

async function hey(url: string, seconds: number, headers: Record<string, string> = {}): Promise<Latency> {
  // hey's rate is per worker: 10 workers × 100 req/s each.
  const workers = 10;
  const args = ['hey', '-z', `${seconds}s`, '-c', String(workers), '-q', String(FIXED_RATE / workers), '-m', 'POST', '-T', 'application/json', '-d', BODY];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const pct = (p: string) => {
    const m = out.match(new RegExp(`${p}% in ([\\d.]+) secs`));
    return m ? toMs(m[1] as string, 'secs') : Number.NaN;
  };
  const codes = [...out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)];
  const errors = codes.filter((c) => c[1] !== '200').reduce((n, c) => n + Number(c[2]), 0) + (out.includes('Error distribution') ? 1 : 0);
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? Number.NaN), p50: pct('50'), p99: pct('99'), errors };
}

/** Relays a server's stderr, keeping its DIAG lines (servers/diagnostics.ts); `ask` signals and waits for one. */
function diagnosticsOf(proc: Subprocess<any, any, 'pipe'>) {
  const lines: unknown[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      buffered += decoder.decode(chunk);
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('DIAG ')) lines.push(JSON.parse(line.slice(5)));
        else if (line.trim()) console.error(line);
      }
    }
  })();
  const ask = async () => {
    const before = lines.length;
    proc.kill('SIGUSR2');
    for (let i = 0; i < 100 && lines.length === before; i++) await Bun.sleep(10);
    return lines.at(-1) as Record<string, unknown> | undefined;
  };
  return { ask, done };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const medianRound = (xs: Latency[]): Latency => ({ rps: median(xs.map((x) => x.rps)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), errors: xs.reduce((n, x) => n + x.errors, 0) });

export type TailResult = { saturation: Record<'a' | 'b' | 'c', Latency>; fixed: Record<'a' | 'b' | 'c', Latency>; diagnostics: unknown[] };

export async function runGatewayTailBench(seconds = 5, rounds = 3, log: (line: string) => void = console.log): Promise<TailResult> {
  const stub = await startPrinting(['bun', 'test/bench/servers/seller-stub.ts']);
  const stubUrl = `http://127.0.0.1:${stub.port}/forecast`;
  // The proxy carries the same diagnostics: its stalls are the machine's share of Crochet's.
  const proxy = await startPrinting(['bun', '--preload', './test/bench/servers/diagnostics.ts', 'test/bench/servers/signing-proxy.ts', stubUrl]);
  const proxyDiag = diagnosticsOf(proxy.proc);
  const port = freePort();
  // CROCHET_BENCH_CPU_PROF=<dir>: also write Crochet's CPU profile there (read it with a profiler).
  const profile = process.env.CROCHET_BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CROCHET_BENCH_CPU_PROF}`] : [];
  const crochet = Bun.spawn(['bun', ...profile, '--preload', './test/bench/servers/diagnostics.ts', 'src/main.ts', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: ROOT,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      ...process.env,
      CROCHET_DATA_DIR: mkdtempSync(join(tmpdir(), 'crochet-bench-tail-')),
      CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
      CROCHET_POW_DIFFICULTY: '1',
      CROCHET_LOG_LEVEL: 'warn',
      // CROCHET_BENCH_LOG_GC=1: JSC's GC log (each collection and its pause) from Crochet only.
      ...(process.env.CROCHET_BENCH_LOG_GC ? { BUN_JSC_logGC: '1' } : {}),
      // Limits on (the issue counts their cost), set above what the bench sends.
      CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '1000000',
      CROCHET_RATE_LIMIT_LISTING_PER_MIN: '1000000',
      CROCHET_RATE_LIMIT_AUTH_PER_5MIN: '0',
      CROCHET_RATE_LIMIT_WRITE_PER_MIN: '0',
    },
  });
  const crochetDiag = diagnosticsOf(crochet);
  const diagnose = crochetDiag.ask;
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 400; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      await Bun.sleep(25);
    }
    const call = httpCaller(base);
    const seller = await registerAgent(call, evmWallet(), 'Bench Seller');
    const buyer = await registerAgent(call, evmWallet(), 'Bench Buyer');
    const listing = await createListing(call, seller.key, { private_endpoint_url: stubUrl });
    const gatewayUrl = `${base}/api/v1/gateway/${listing.id}`;
    const auth = { Authorization: `Bearer ${buyer.key}` };
    const urls = { a: [stubUrl, {}], b: [`http://127.0.0.1:${proxy.port}/`, {}], c: [gatewayUrl, auth] } as const;
    type Target = keyof typeof urls;
    const names: Record<Target, string> = { a: '(a) seller stub directly', b: '(b) bare signing proxy', c: '(c) Crochet gateway (free)' };

    for (const [url, headers] of Object.values(urls)) await wrk(url, 2, headers); // warm-up, discarded
    await diagnose();
    const sat: Record<Target, Latency[]> = { a: [], b: [], c: [] };
    const fixed: Record<Target, Latency[]> = { a: [], b: [], c: [] };
    const diag: Record<'saturation' | 'fixed', { b: unknown[]; c: unknown[] }> = { saturation: { b: [], c: [] }, fixed: { b: [], c: [] } };
    const brief = (d: Record<string, unknown> | undefined) => d && { loopDelay: d['loopDelay'], waitedForCpuMs: d['waitedForCpuMs'], commits: d['commits'], stallsOver20ms: (d['stallsAtMs'] as unknown[]).length, slowCommits: d['slowCommitsAtMs'] };
    await proxyDiag.ask();
    for (let round = 0; round < rounds; round++) {
      for (const t of ['a', 'b', 'c'] as Target[]) {
        sat[t].push(await wrk(urls[t][0], seconds, urls[t][1]));
        if (t === 'b') diag.saturation.b.push(brief(await proxyDiag.ask()));
        if (t === 'c') diag.saturation.c.push(brief(await diagnose()));
      }
      for (const t of ['a', 'b', 'c'] as Target[]) {
        fixed[t].push(await hey(urls[t][0], seconds, urls[t][1]));
        if (t === 'b') diag.fixed.b.push(brief(await proxyDiag.ask()));
        if (t === 'c') diag.fixed.c.push(brief(await diagnose()));
      }
    }
    const s = { a: medianRound(sat.a), b: medianRound(sat.b), c: medianRound(sat.c) };
    const f = { a: medianRound(fixed.a), b: medianRound(fixed.b), c: medianRound(fixed.c) };
    const row = (name: string, r: Latency) =>
      `  ${name.padEnd(30)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   errors ${r.errors}`;
    log(`gateway under saturation: wrk -t1 -c${CONNECTIONS}, median of ${rounds} interleaved ${seconds} s rounds`);
    for (const t of ['a', 'b', 'c'] as Target[]) log(row(names[t], s[t]));
    log(`  [1] p99 c/b = ${(s.c.p99 / s.b.p99).toFixed(2)} (target ≤ 3.00)   [2] throughput c/b = ${(s.c.rps / s.b.rps).toFixed(2)} (target ≥ 0.80)`);
    log(`gateway at a fixed ${FIXED_RATE} req/s: hey, median of ${rounds} interleaved ${seconds} s rounds`);
    for (const t of ['a', 'b', 'c'] as Target[]) log(row(names[t], f[t]));
    log(`  [1] added p99 over direct: Crochet ${(f.c.p99 - f.a.p99).toFixed(2)} ms (target ≤ 1.50), bare proxy ${(f.b.p99 - f.a.p99).toFixed(2)} ms`);
    if (process.env.CROCHET_BENCH_DIAG) {
      for (const phase of ['saturation', 'fixed'] as const) {
        for (const t of ['b', 'c'] as const) for (const d of diag[phase][t]) log(`  diag ${phase} ${t}: ${JSON.stringify(d)}`);
      }
    }
    return { saturation: s, fixed: f, diagnostics: [diag] };
  } finally {
    crochet.kill('SIGTERM');
    await crochet.exited;
    proxy.proc.kill();
    await Promise.all([crochetDiag.done, proxyDiag.done]);
    stub.proc.kill();
  }
}

if (import.meta.main) await runGatewayTailBench(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 3));
