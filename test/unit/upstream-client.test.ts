// The pinned upstream client against real loopback servers: statuses, size cap, redirects, timeouts, TLS with SNI.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { postToUpstream, type UpstreamRequest } from '../../src/shared/upstream/client.ts';
import { vetUpstreamUrl, type VettedUpstream } from '../../src/shared/upstream/guard.ts';

const FIXTURES = new URL('../fixtures/tls/', import.meta.url);
const read = (name: string) => Bun.file(new URL(name, FIXTURES)).text();
const MIB = 1024 * 1024;

type Seen = { path: string; host: string | null; headers: Record<string, string>; body: Uint8Array };
const seen: Seen[] = [];
let targetHits = 0;

function twoMiBStream(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= 2 * MIB) return controller.close();
      controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      sent += 64 * 1024;
    },
  });
}

async function route(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  seen.push({ path, host: req.headers.get('host'), headers: Object.fromEntries(req.headers), body: new Uint8Array(await req.arrayBuffer()) });
  switch (path) {
    case '/ok':
      return Response.json({ ok: true, n: 1 });
    case '/run':
      return Response.json({ ran: true });
    case '/bad':
      return Response.json({ error: 'bad input' }, { status: 400 });
    case '/err':
      return Response.json({ error: 'boom' }, { status: 500 });
    case '/html':
      return new Response('<html>hi</html>', { headers: { 'content-type': 'text/html' } });
    case '/html-500':
      return new Response('Internal Server Error', { status: 500 });
    case '/empty':
      return new Response(null, { status: 200 });
    case '/latin1':
      return new Response(new Uint8Array([0x22, 0xe9, 0x22]), { headers: { 'content-type': 'application/json' } });
    case '/exact':
      return new Response(`{"p":"${'x'.repeat(1024 - 8)}"}`);
    case '/exact-plus-one':
      return new Response(`{"p":"${'x'.repeat(1024 - 7)}"}`);
    case '/big-chunked':
      return new Response(twoMiBStream(), { headers: { 'content-type': 'application/json' } });
    case '/big-length':
      return new Response(new Uint8Array(2 * MIB).fill(0x20), { headers: { 'content-type': 'application/json' } });
    case '/gzip':
      return new Response(Bun.gzipSync(new TextEncoder().encode('{"zipped":true}')), {
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
    case '/gzip-bomb':
      return new Response(Bun.gzipSync(new Uint8Array(64 * MIB).fill(0x20)), { headers: { 'content-encoding': 'gzip' } });
    default:
      return new Response('not found', { status: 404 });
  }
}

let http: ReturnType<typeof Bun.serve>;
let target: ReturnType<typeof Bun.serve>;
let https: ReturnType<typeof Bun.serve>;
let plainSocketServers: NetServer[] = [];
const sockets: Socket[] = [];
let sellerCert = '';
let decoyCert = '';

function rawServer(onData: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.once('data', () => onData(socket));
  });
  plainSocketServers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

beforeAll(async () => {
  sellerCert = await read('seller.test.cert.pem');
  decoyCert = await read('decoy.test.cert.pem');
  target = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: () => {
      targetHits++;
      return Response.json({ followed: true });
    },
  });
  http = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      const redirect = /^\/redirect-(\d{3})$/.exec(path);
      if (redirect) return new Response(null, { status: Number(redirect[1]), headers: { location: `http://127.0.0.1:${target.port}/target` } });
      return route(req);
    },
  });
  // The first certificate is the default: a client that sends no SNI (or another name) gets the decoy.
  https = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    tls: [
      { serverName: 'decoy.test', cert: decoyCert, key: await read('decoy.test.key.pem') },
      { serverName: 'seller.test', cert: sellerCert, key: await read('seller.test.key.pem') },
    ],
    fetch: route,
  });
});

afterAll(() => {
  for (const server of [http, target, https]) server.stop(true);
  for (const socket of sockets) socket.destroy();
  for (const server of plainSocketServers) server.close();
  plainSocketServers = [];
});

/** Vets a URL the way the gateway does, with `seller.test` resolving to loopback. */
async function vet(url: string): Promise<VettedUpstream> {
  const resolve = async (name: string) => (name.endsWith('.test') ? ['127.0.0.1'] : []);
  const { vetted } = await vetUpstreamUrl(url, { allowPrivate: true, resolve, phase: 'call' });
  if (!vetted) throw new Error('did not vet');
  return vetted;
}

function request(overrides: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return { headers: {}, body: new TextEncoder().encode('{"q":1}'), timeoutMs: 5000, maxResponseBytes: MIB, maxJsonDepth: 64, ...overrides };
}

describe('JSON replies', () => {
  for (const [path, status, json] of [
    ['/ok', 200, { ok: true, n: 1 }],
    ['/bad', 400, { error: 'bad input' }],
    ['/err', 500, { error: 'boom' }],
    ['/gzip', 200, { zipped: true }],
  ] as const) {
    test(`${path} → response ${status}`, async () => {
      const outcome = await postToUpstream(await vet(`http://127.0.0.1:${http.port}${path}`), request());
      expect(outcome).toMatchObject({ kind: 'response', status });
      if (outcome.kind !== 'response') throw new Error('unreachable');
      expect(JSON.parse(new TextDecoder().decode(outcome.body))).toEqual(json);
      expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    });
  }

  test('a body of exactly maxResponseBytes is accepted', async () => {
    const outcome = await postToUpstream(await vet(`http://127.0.0.1:${http.port}/exact`), request({ maxResponseBytes: 1024 }));
    expect(outcome.kind).toBe('response');
    if (outcome.kind === 'response') expect(outcome.body.byteLength).toBe(1024);
  });
});

describe('what reaches the seller', () => {
  test('exact body bytes, the original Host, our framing headers, none of the caller’s', async () => {
    const body = new TextEncoder().encode('{ "b" :"é",\n  "a":[1,2.50]}  ');
    const vetted = await vet(`http://seller.test:${http.port}/ok?x=1`);
    expect(vetted.address).toBe('127.0.0.1');
    const outcome = await postToUpstream(vetted, request({
      body,
      headers: { 'X-Crochet-Request-Id': 'gw_req_1', Host: 'evil.example', 'Content-Length': '1', 'Transfer-Encoding': 'chunked', 'Content-Type': 'text/plain' },
    }));
    expect(outcome.kind).toBe('response');
    const last = seen.at(-1)!;
    expect(last.body).toEqual(body);
    expect(last.host).toBe(`seller.test:${http.port}`);
    expect(last.headers['x-crochet-request-id']).toBe('gw_req_1');
    expect(last.headers['content-type']).toBe('application/json');
    expect(last.headers['content-length']).toBe(String(body.byteLength));
    expect(last.headers['accept-encoding']).toBe('identity');
    expect(last.headers['transfer-encoding']).toBeUndefined();
    expect(last.headers.cookie).toBeUndefined();
  });
});

describe('failures', () => {
  test('non-JSON, empty and invalid UTF-8 bodies → not_json', async () => {
    for (const path of ['/html', '/empty', '/latin1']) {
      const outcome = await postToUpstream(await vet(`http://127.0.0.1:${http.port}${path}`), request());
      expect(outcome).toMatchObject({ kind: 'failure', reason: 'not_json', status: 200 });
    }
    const html500 = await postToUpstream(await vet(`http://127.0.0.1:${http.port}/html-500`), request());
    expect(html500).toMatchObject({ kind: 'failure', reason: 'not_json', status: 500 });
  });

  test('over the cap → too_large, with or without Content-Length, and after decompression', async () => {
    for (const path of ['/big-chunked', '/big-length', '/gzip-bomb', '/exact-plus-one']) {
      const outcome = await postToUpstream(await vet(`http://127.0.0.1:${http.port}${path}`), request({ maxResponseBytes: 1024 }));
      expect(outcome).toMatchObject({ kind: 'failure', reason: 'too_large', status: 200 });
    }
  });

  test('3xx → redirect, and the target is never requested', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const outcome = await postToUpstream(await vet(`http://127.0.0.1:${http.port}/redirect-${status}`), request());
      expect(outcome).toMatchObject({ kind: 'failure', reason: 'redirect', status });
    }
    await Bun.sleep(100);
    expect(targetHits).toBe(0);
  });

  test('a server that never answers → timeout after about timeoutMs', async () => {
    const port = await rawServer(() => {});
    const outcome = await postToUpstream(await vet(`http://127.0.0.1:${port}/`), request({ timeoutMs: 300 }));
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'timeout' });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(290);
    expect(outcome.latencyMs).toBeLessThan(2000);
  });

  test('a server that sends headers then stalls the body → timeout', async () => {
    const port = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":'));
    const outcome = await postToUpstream(await vet(`http://127.0.0.1:${port}/`), request({ timeoutMs: 300 }));
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'timeout' });
    expect(outcome.latencyMs).toBeLessThan(2000);
  });

  test('a closed port → connect_failed', async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    const outcome = await postToUpstream(await vet(`http://127.0.0.1:${port}/`), request());
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'connect_failed' });
  });

  test('a connection reset mid-reply → connect_failed', async () => {
    const port = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":', () => socket.destroy()));
    const outcome = await postToUpstream(await vet(`http://127.0.0.1:${port}/`), request());
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'connect_failed' });
  });
});

describe('https pinned to the vetted address', () => {
  test('connects to 127.0.0.1 with SNI and certificate name seller.test', async () => {
    const vetted = await vet(`https://seller.test:${https.port}/run?x=1`);
    expect(vetted).toMatchObject({ address: '127.0.0.1', hostname: 'seller.test' });
    const body = new TextEncoder().encode('{"over":"tls"}');
    // Only the seller certificate is trusted: success proves the server picked it from our SNI
    // (without SNI it presents the decoy). `seller.test` exists in no DNS: success also proves
    // the client connected to the vetted address without a lookup of its own.
    const outcome = await postToUpstream(vetted, request({ body, tlsCa: sellerCert }));
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    expect(JSON.parse(new TextDecoder().decode((outcome as { body: Uint8Array }).body))).toEqual({ ran: true });
    const last = seen.at(-1)!;
    expect(last.path).toBe('/run');
    expect(last.host).toBe(`seller.test:${https.port}`);
    expect(last.body).toEqual(body);
  });

  test('a JSON reply over TLS', async () => {
    const outcome = await postToUpstream(await vet(`https://seller.test:${https.port}/ok`), request({ tlsCa: sellerCert }));
    expect(outcome).toMatchObject({ kind: 'response', status: 200 });
    expect(JSON.parse(new TextDecoder().decode((outcome as { body: Uint8Array }).body))).toEqual({ ok: true, n: 1 });
  });

  // Runs after successful seller.test calls to the same IP and port: a reused, already verified
  // connection would wrongly succeed here.
  test('a certificate for another name → tls_failed, even when its CA is trusted', async () => {
    const vetted = await vet(`https://other.test:${https.port}/ok`);
    const outcome = await postToUpstream(vetted, request({ tlsCa: `${sellerCert}\n${decoyCert}` }));
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'tls_failed' });
  });

  test('the IP itself is not accepted as the certificate name', async () => {
    const outcome = await postToUpstream(await vet(`https://127.0.0.1:${https.port}/ok`), request({ tlsCa: `${sellerCert}\n${decoyCert}` }));
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'tls_failed' });
  });

  test('an untrusted certificate → tls_failed', async () => {
    const outcome = await postToUpstream(await vet(`https://seller.test:${https.port}/ok`), request());
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'tls_failed' });
  });

  test('a server that does not speak TLS → tls_failed', async () => {
    const outcome = await postToUpstream(await vet(`https://seller.test:${http.port}/ok`), request({ tlsCa: sellerCert }));
    expect(outcome).toMatchObject({ kind: 'failure', reason: 'tls_failed' });
  });
});
