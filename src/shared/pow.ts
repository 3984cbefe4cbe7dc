import { createHash } from 'node:crypto';
import { randomHex } from './ids.ts';

/** A proof-of-work puzzle: find `pow_nonce` so that sha256(challenge + pow_nonce) starts with `difficulty` hex zeros. */
export type PowPuzzle = { algorithm: 'sha256'; challenge: string; difficulty: number; expires_at: string };

export const newPowChallenge = () => randomHex(16);

/** True when `powNonce` solves the puzzle. */
export function checkPow(challenge: string, difficulty: number, powNonce: string): boolean {
  if (powNonce.length === 0 || powNonce.length > 128) return false;
  const digest = createHash('sha256').update(challenge + powNonce).digest('hex');
  return digest.startsWith('0'.repeat(difficulty));
}

/** Brute-forces a solution (clients and tests). */
export function solvePow(challenge: string, difficulty: number): string {
  for (let i = 0; ; i++) {
    const candidate = i.toString(36);
    if (checkPow(challenge, difficulty, candidate)) return candidate;
  }
}
