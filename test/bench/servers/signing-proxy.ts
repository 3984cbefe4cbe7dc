// Bench baseline (b): a bare Bun proxy that does the gateway's signing and nothing else —
// no auth, limits, listing lookup, vault or history. Usage: bun signing-proxy.ts <upstream-url>
import { buildCrochetHeaders } from '../../../src/shared/request-signing.ts';

const upstream = process.argv[2] ?? '';
const secret = 'whsec_bench_secret_value_for_the_baseline_only';
let n = 0;
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req) {
    const body = new Uint8Array(await req.arrayBuffer());
    const requestId = `gw_req_${(n++).toString(16).padStart(32, '0')}`;
    const headers = buildCrochetHeaders({ body, requestId, listingId: 'bench', buyerId: 'bench', timestamp: new Date().toISOString(), secret });
    const res = await fetch(upstream, { method: 'POST', headers, body, redirect: 'manual' });
    return new Response(await res.arrayBuffer(), { status: res.status, headers: { 'content-type': 'application/json', 'x-crochet-request-id': requestId } });
  },
});
console.log(server.port);
