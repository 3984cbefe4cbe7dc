// Gateway overhead measured in one process: the app's gateway route (through `app.handle`, no
// HTTP server) against a plain function doing what the bare signing proxy does, alternating in
// short rounds at 32 concurrent calls so that machine noise hits both alike. Steadier than the
// autocannon bench for comparing changes; it leaves out Bun's HTTP server, which both share.
// Run directly: `bun test/bench/gateway-in-process.ts [rounds] [calls per round]`.
import { join } from 'node:path';
import { buildCrochetHeaders } from '../../src/shared/request-signing.ts';
import { createTestApp, registerAgent } from '../support/app.ts';
import { createListing } from '../support/listings.ts';
import { evmWallet } from '../support/wallets.ts';

const CONCURRENCY = 32;
const BODY = JSON.stringify({ city: 'Lisbon', days: 3 });

type Round = { rate: number; cpuUsPerCall: number };

async function timed(calls: number, one: () => Promise<Response>): Promise<Round> {
  let left = calls;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const worker = async () => {
    while (left-- > 0) {
      const res = await one();
      if (res.status !== 200) throw new Error(`unexpected status ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(cpu);
  return { rate: calls / ((performance.now() - started) / 1000), cpuUsPerCall: (used.user + used.system) / calls };
}

export async function runInProcessBench(rounds = 10, calls = 4000, log: (line: string) => void = console.log) {
  const stubProc = Bun.spawn(['bun', join(import.meta.dir, 'servers/seller-stub.ts')], { stdout: 'pipe', stderr: 'inherit' });
  const reader = stubProc.stdout.getReader();
  const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
  reader.releaseLock();
  const stubUrl = `http://127.0.0.1:${port}/forecast`;
  const t = await createTestApp({
    CROCHET_ALLOW_PRIVATE_UPSTREAMS: '1',
    CROCHET_LOG_LEVEL: 'warn',
    CROCHET_RATE_LIMIT_GATEWAY_PER_MIN: '1000000',
    CROCHET_RATE_LIMIT_LISTING_PER_MIN: '1000000',
  });
  try {
    const seller = await registerAgent(t.call, evmWallet(), 'Bench Seller');
    const buyer = await registerAgent(t.call, evmWallet(), 'Bench Buyer');
    const listing = await createListing(t.call, seller.key, { private_endpoint_url: stubUrl });
    const gatewayUrl = `http://localhost/api/v1/gateway/${listing.id}`;
    const headers = { authorization: `Bearer ${buyer.key}`, 'content-type': 'application/json', 'content-length': String(BODY.length) };
    const gateway = () => t.app.handle(new Request(gatewayUrl, { method: 'POST', headers, body: BODY }));

    // What test/bench/servers/signing-proxy.ts does per request, minus its HTTP server.
    const secret = 'whsec_bench_secret_value_for_the_baseline_only';
    let n = 0;
    const proxyFetch = async (req: Request) => {
      const body = new Uint8Array(await req.arrayBuffer());
      const requestId = `gw_req_${(n++).toString(16).padStart(32, '0')}`;
      const signed = buildCrochetHeaders({ body, requestId, listingId: 'bench', buyerId: 'bench', timestamp: new Date().toISOString(), secret });
      const res = await fetch(stubUrl, { method: 'POST', headers: signed, body, redirect: 'manual' });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: { 'content-type': 'application/json', 'x-crochet-request-id': requestId } });
    };
    const proxy = () => proxyFetch(new Request('http://localhost/', { method: 'POST', headers, body: BODY }));

    await timed(calls, gateway); // warm-up, discarded
    await timed(calls, proxy);
    const p: Round[] = [];
    const g: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      p.push(await timed(calls, proxy));
      g.push(await timed(calls, gateway));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
    const ratio = median(g.map((r, i) => r.rate / (p[i] as Round).rate));
    const cpu = (rs: Round[]) => median(rs.map((r) => r.cpuUsPerCall));
    log(`in-process, ${CONCURRENCY} concurrent, median of ${rounds} alternating rounds of ${calls} calls (CPU: this process, all threads)`);
    log(`signing proxy ${median(p.map((r) => r.rate)).toFixed(0)} calls/s ${cpu(p).toFixed(1)} µs CPU/call   gateway ${median(g.map((r) => r.rate)).toFixed(0)} calls/s ${cpu(g).toFixed(1)} µs CPU/call   ratio ${ratio.toFixed(3)}`);
    return { proxy: p, gateway: g, ratio };
  } finally {
    await t.close();
    stubProc.kill();
  }
}

if (import.meta.main) await runInProcessBench(Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 4000));
