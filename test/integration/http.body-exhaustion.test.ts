// Threat: a client (no key needed) makes the server buffer a huge chunked body before anything refuses it.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createTestApp, type TestContext } from '../support/app.ts';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const MiB = 1 << 20;

/** A chunked body (no Content-Length) of `totalMiB` that counts how much of it the server pulled. */
function countingBody(totalMiB: number) {
  let pulled = 0;
  const chunk = new Uint8Array(MiB).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= totalMiB * MiB) return controller.close();
      pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulledMiB: () => pulled / MiB };
}

test.each([
  ['an API route (1 MiB limit)', '/api/v1/auth/challenge', 1],
  ['the gateway, before authentication (16 MiB ceiling)', '/api/v1/gateway/some-listing', 16],
])('%s stops reading a chunked body at its limit', async (_name, path, limitMiB) => {
  const body = countingBody(96);
  const res = await t.app.handle(
    new Request(`http://localhost${path}`, { method: 'POST', body: body.stream, headers: { 'content-type': 'application/json' } }),
  );
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  // One chunk of read-ahead past the limit at most, never the whole 96 MiB.
  expect(body.pulledMiB()).toBeLessThanOrEqual(limitMiB + 2);
});

test('the gateway still receives a chunked body within the ceiling byte for byte', async () => {
  // Unauthenticated: the body is read (within the ceiling) and then the key is refused.
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode('{"a":'));
      c.enqueue(new TextEncoder().encode('1}'));
      c.close();
    },
  });
  const res = await t.app.handle(new Request('http://localhost/api/v1/gateway/x', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' } }));
  expect(res.status).toBe(401);
});
