import type { Database } from 'bun:sqlite';

/**
 * Runs `fn` in one `BEGIN IMMEDIATE` transaction. `fn` must be synchronous and free of I/O:
 * bun:sqlite cannot roll back an async callback that throws after an `await`.
 */
export function immediate<T>(sqlite: Database, fn: () => T extends PromiseLike<unknown> ? never : T): T {
  return sqlite.transaction(fn).immediate() as T;
}
