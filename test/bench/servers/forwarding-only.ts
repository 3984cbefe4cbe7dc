// Bench diagnostic (d): Crochet's HTTP stack and forwarding path with nothing per caller — the
// foundation plugin on Elysia, then the gateway's own forwardCall (URL re-vet, address pinning,
// signing, deadline, size caps, JSON check of the reply) — but no authentication, limits, listing
// lookup, body check or history. Between (b) and (c) it shows which side of the gap is which.
// Usage: bun forwarding-only.ts <upstream-url>
import { Elysia } from 'elysia';
import { forwardCall } from '../../../src/modules/gateway/forward.ts';
import { foundationPlugin, readRequestBody } from '../../../src/shared/http/foundation.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createMetrics } from '../../../src/shared/metrics.ts';
import { cachedResolver } from '../../../src/shared/upstream/resolver-cache.ts';
import { systemResolver } from '../../../src/shared/upstream/guard.ts';
import { instanceAddressOf } from '../../../src/shared/upstream/self-address.ts';

const upstream = process.argv[2] ?? '';
const target = {
  listingId: 'lst_bench',
  privateUrl: upstream,
  upstreamAuth: null,
  signingSecret: 'whsec_bench_secret_value_for_the_baseline_only',
  previousSigningSecret: null,
  timeoutMs: 15_000,
  maxResponseBytes: 1 << 20,
};
const resolve = cachedResolver(systemResolver, 10_000);
const self = instanceAddressOf({ public_url: 'http://127.0.0.1', host: '127.0.0.1', port: 0 });
let n = 0;

const app = new Elysia()
  .use(foundationPlugin({ logger: createLogger('warn'), metrics: createMetrics(), publicUrl: 'http://127.0.0.1', maxBodyBytes: 1 << 20, maxGatewayBodyBytes: 1 << 20, maxJsonDepth: 64 }))
  .post('/api/v1/gateway/:listingId', async ({ request, set }) => {
    const body = await readRequestBody(request, 1 << 16);
    const requestId = `gw_req_${(n++).toString(16).padStart(32, '0')}`;
    const result = await forwardCall({ target, body: body ?? new Uint8Array(), requestId, buyerId: 'bench', now: new Date(), allowPrivate: true, resolve, self, maxJsonDepth: 64 });
    set.headers['content-type'] = 'application/json';
    set.headers['x-crochet-request-id'] = requestId;
    if (result.reply.kind === 'error') {
      set.status = result.reply.error.status;
      return { success: false, error: { code: result.reply.error.code } };
    }
    set.status = result.reply.httpStatus;
    return result.reply.body;
  });
app.listen({ hostname: '127.0.0.1', port: 0, development: false, reusePort: false });
console.log(app.server?.port);
