import { setDefaultTimeout } from 'bun:test';

/**
 * Gives this test file's tests and hooks 60 s instead of Bun's 5 s: they start chains, compile
 * the test token with solc or build the binary. `bun run test` passes --timeout for the whole
 * suite; this covers `bun test <file>`. It applies to the calling file only, so call it at the
 * top of each such file (a preload or a shared import would reach only the first file run).
 */
export function allowSlowSetup(): void {
  setDefaultTimeout(60_000);
}
