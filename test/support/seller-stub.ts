import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { verifyCrochetRequest, type VerifyResult } from '../../src/seller/verify.ts';

export type ReceivedCall = {
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The verification kit's verdict with the stub's secrets; v2 is required (SPEC §4 "Signature v2"). */
  kit: VerifyResult;
  /** v1 and v2 HMACs computed here, independently of the kit and of the gateway's signer: both must match. */
  independentOk: boolean;
};

export type StubBehaviour = (call: ReceivedCall, req: Request) => Response | Promise<Response>;

/**
 * A seller on loopback. Each path has a behaviour; every request is verified with the kit (v1 and
 * v2 required) and with v1 and v2 HMACs computed in the test, and recorded. `secrets` is what the seller currently holds.
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
        ? await verifyCrochetRequest({ headers: req.headers, rawBody: body, secrets: state.secrets, requireV2: true, ...(opts.now ? { now: opts.now() } : {}) })
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

/**
 * Recomputes the body hash and both signatures from the headers with node:crypto; true when the v1
 * and the v2 signature (or their previous-secret forms) each match a held secret.
 */
function independentCheck(h: Record<string, string>, body: Uint8Array, secrets: string[]): boolean {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  if (bodyHash !== h['x-crochet-body-sha256']) return false;
  const v1 = `${h['x-crochet-timestamp']}.${h['x-crochet-request-id']}.${h['x-crochet-listing-id']}.${bodyHash}`;
  const v2 = JSON.stringify(['crochet-v2', h['x-crochet-timestamp'], h['x-crochet-request-id'], h['x-crochet-listing-id'],
    h['x-crochet-buyer-id'], h['x-crochet-relay-request-id'] ?? null, bodyHash]);
  return (
    anySecretSigns(secrets, v1, [h['x-crochet-signature'], h['x-crochet-signature-previous']]) &&
    anySecretSigns(secrets, v2, [h['x-crochet-signature-v2'], h['x-crochet-signature-previous-v2']])
  );
}

function anySecretSigns(secrets: string[], payload: string, headers: (string | undefined)[]): boolean {
  const given = headers.filter((s): s is string => !!s);
  return secrets.some((secret) => {
    const expected = Buffer.from(createHmac('sha256', secret).update(payload).digest('hex'));
    return given.some((g) => g.length === expected.length && timingSafeEqual(Buffer.from(g), expected));
  });
}
