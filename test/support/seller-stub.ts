import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { verifyCrochetRequest, type VerifyResult } from '../../src/seller/verify.ts';

export type ReceivedCall = {
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The verification kit's verdict with the stub's secrets. */
  kit: VerifyResult;
  /** An HMAC computed here, independently of the kit and of the gateway's signer. */
  independentOk: boolean;
};

export type StubBehaviour = (call: ReceivedCall, req: Request) => Response | Promise<Response>;

/**
 * A seller on loopback. Each path has a behaviour; every request is verified with the kit and with
 * an HMAC computed in the test, and recorded. `secrets` is what the seller currently holds.
 */
export function startSellerStub(opts: { secrets?: string[]; now?: () => Date; routes?: Record<string, StubBehaviour> } = {}) {
  const calls: ReceivedCall[] = [];
  const state = { secrets: opts.secrets ?? [] };
  const routes: Record<string, StubBehaviour> = {
    '/echo': (call) => Response.json({ echo: JSON.parse(new TextDecoder().decode(call.body)), verified: call.kit.ok }),
    ...opts.routes,
  };
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = new Uint8Array(await req.arrayBuffer());
      const headers = Object.fromEntries(req.headers.entries());
      const kit = state.secrets.length
        ? await verifyCrochetRequest({ headers: req.headers, rawBody: body, secrets: state.secrets, ...(opts.now ? { now: opts.now() } : {}) })
        : ({ ok: false, reason: 'bad_signature' } as const);
      const call: ReceivedCall = { path: url.pathname, headers, body, kit, independentOk: independentCheck(headers, body, state.secrets) };
      calls.push(call);
      const route = routes[url.pathname];
      if (!route) return Response.json({ error: 'no such stub route' }, { status: 404 });
      return route(call, req);
    },
  });
  return {
    url: (path: string) => `http://127.0.0.1:${server.port}${path}`,
    port: server.port as number,
    calls,
    setSecrets(secrets: string[]) {
      state.secrets = secrets;
    },
    stop: () => server.stop(true),
  };
}

/** Recomputes body hash and HMAC from the headers with node:crypto; true when any held secret matches. */
function independentCheck(h: Record<string, string>, body: Uint8Array, secrets: string[]): boolean {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  if (bodyHash !== h['x-crochet-body-sha256']) return false;
  const payload = `${h['x-crochet-timestamp']}.${h['x-crochet-request-id']}.${h['x-crochet-listing-id']}.${bodyHash}`;
  const given = [h['x-crochet-signature'], h['x-crochet-signature-previous']].filter((s): s is string => !!s);
  return secrets.some((secret) => {
    const expected = Buffer.from(createHmac('sha256', secret).update(payload).digest('hex'));
    return given.some((g) => g.length === expected.length && timingSafeEqual(Buffer.from(g), expected));
  });
}
