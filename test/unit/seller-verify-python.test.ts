// The Python example in docs/selling-on-crochet.md really verifies gateway calls (and rejects forgeries).
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { fixtureHeaders, signingVectors } from '../support/signing-vectors.ts';
import type { SigningVector } from '../support/signing-vectors.ts';

const script = join(import.meta.dir, '../../docs/examples/verify_crochet.py');

type Check = { headers: Record<string, string>; body: string; secrets: string[]; now: string };

/** Runs `python3 verify_crochet.py check <json>`; returns exit code and the printed result. */
function runPython(check: Check): { exitCode: number; result: Record<string, unknown> } {
  const run = Bun.spawnSync(['python3', script, 'check', JSON.stringify(check)], { stdout: 'pipe', stderr: 'pipe' });
  expect(run.stderr.toString()).toBe('');
  return { exitCode: run.exitCode, result: JSON.parse(run.stdout.toString()) as Record<string, unknown> };
}

const checkFor = (v: SigningVector, change: Partial<Check> = {}): Check => ({
  headers: fixtureHeaders(v),
  body: v.body,
  secrets: [v.secret],
  now: v.timestamp,
  ...change,
});

describe('docs/examples/verify_crochet.py', () => {
  for (const v of signingVectors) {
    test(`accepts vector: ${v.name}`, () => {
      const { exitCode, result } = runPython(checkFor(v));
      expect(result).toMatchObject({ ok: true, request_id: v.request_id, used_previous_signature: false });
      expect(exitCode).toBe(0);
    });
  }

  const first = signingVectors[0] as SigningVector;

  test('rejects a tampered body', () => {
    const { exitCode, result } = runPython(checkFor(first, { body: `${first.body} ` }));
    expect(result).toEqual({ ok: false, reason: 'body_hash_mismatch', header: 'X-Crochet-Body-SHA256' });
    expect(exitCode).toBe(1);
  });

  test('rejects a wrong secret, a stale timestamp and a missing header (lowercase names)', () => {
    expect(runPython(checkFor(first, { secrets: ['whsec_wrong'] })).result).toMatchObject({ reason: 'bad_signature' });
    expect(runPython(checkFor(first, { now: '2026-05-03T12:05:00.001Z' })).result).toMatchObject({
      reason: 'stale_timestamp',
    });
    const headers = Object.fromEntries(
      Object.entries(fixtureHeaders(first))
        .filter(([name]) => name !== 'X-Crochet-Listing-Id')
        .map(([name, value]) => [name.toLowerCase(), value]),
    );
    expect(runPython(checkFor(first, { headers })).result).toMatchObject({
      reason: 'missing_header', header: 'X-Crochet-Listing-Id',
    });
  });

  test('rotation: the old secret verifies via X-Crochet-Signature-Previous, and not without it', () => {
    const rotation = signingVectors.find((v) => v.previous_secret !== undefined) as SigningVector;
    const old = [rotation.previous_secret ?? ''];
    expect(runPython(checkFor(rotation, { secrets: old })).result).toMatchObject({
      ok: true, used_previous_signature: true,
    });
    const { 'X-Crochet-Signature-Previous': _dropped, ...graceOver } = fixtureHeaders(rotation);
    expect(runPython(checkFor(rotation, { secrets: old, headers: graceOver })).result).toMatchObject({
      ok: false, reason: 'bad_signature',
    });
  });
});
