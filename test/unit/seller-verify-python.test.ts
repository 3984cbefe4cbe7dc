// The Python example in docs/selling-on-crochet.md really verifies gateway calls (and rejects forgeries).
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { fixtureHeaders, signingVectors } from '../support/signing-vectors.ts';
import type { SigningVector } from '../support/signing-vectors.ts';
import { allowSlowSetup } from '../support/timeouts.ts';

// Every check starts a python3 process; several per test overrun Bun's 5 s on a loaded machine.
allowSlowSetup();

const script = join(import.meta.dir, '../../docs/examples/verify_crochet.py');

type Check = { headers: Record<string, string>; body: string; secrets: string[]; now: string; require_v2?: boolean };

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
      expect(result).toEqual({
        ok: true, request_id: v.request_id, listing_id: v.listing_id, timestamp: v.timestamp, matched_secret_index: 0,
        used_previous_signature: false, signature_version: 2, buyer_id: v.buyer_id, relay_request_id: v.relay_request_id ?? null,
      });
      expect(exitCode).toBe(0);
    });
  }

  const paid = signingVectors.find((v) => v.relay_request_id !== undefined) as SigningVector;
  const v2Fails = { ok: false, reason: 'bad_signature', header: 'X-Crochet-Signature-V2' };

  test('v2: a changed buyer id or relay id is rejected (v1 alone would have passed)', () => {
    const changes: Record<string, string>[] = [{ 'X-Crochet-Buyer-Id': 'prof_someone_else' }, { 'X-Crochet-Relay-Request-Id': 'rly_other_payment' }];
    for (const change of changes) {
      const { exitCode, result } = runPython(checkFor(paid, { headers: { ...fixtureHeaders(paid), ...change } }));
      expect(result).toEqual(v2Fails);
      expect(exitCode).toBe(1);
    }
    const { 'X-Crochet-Relay-Request-Id': _relay, ...withoutRelay } = fixtureHeaders(paid);
    expect(runPython(checkFor(paid, { headers: withoutRelay })).result).toEqual(v2Fails);
  });

  test('v1 only: verified as version 1 with no buyer_id or relay_request_id; require_v2 refuses it', () => {
    const headers = fixtureHeaders(paid, { v1Only: true });
    const { result } = runPython(checkFor(paid, { headers }));
    expect(result).toMatchObject({ ok: true, signature_version: 1 });
    expect(Object.keys(result)).not.toContain('buyer_id');
    expect(Object.keys(result)).not.toContain('relay_request_id');
    expect(runPython(checkFor(paid, { headers, require_v2: true })).result).toEqual({
      ok: false, reason: 'missing_header', header: 'X-Crochet-Signature-V2',
    });
  });

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
    expect(runPython(checkFor(rotation, { secrets: old, require_v2: true })).result).toMatchObject({
      ok: true, used_previous_signature: true, signature_version: 2, buyer_id: rotation.buyer_id,
    });
    for (const dropped of ['X-Crochet-Signature-Previous', 'X-Crochet-Signature-Previous-V2']) {
      const { [dropped]: _dropped, ...graceOver } = fixtureHeaders(rotation);
      expect(runPython(checkFor(rotation, { secrets: old, headers: graceOver })).result).toMatchObject({
        ok: false, reason: 'bad_signature',
      });
    }
  });
});
