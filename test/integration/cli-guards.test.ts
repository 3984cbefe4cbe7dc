import { expect, test } from 'bun:test';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Operator commands on a mistyped --data-dir fail loudly instead of creating a new, empty instance.
test.each([['refunds', 'list'], ['scores', 'recompute'], ['ledger', 'verify']] as const)('crochet %s %s on a missing data folder exits 1 and creates nothing', async (command, sub) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'crochet-cli-')), 'typo');
  const proc = Bun.spawn(['bun', 'src/main.ts', command, sub, '--data-dir', dir], { stdout: 'pipe', stderr: 'pipe' });
  const [code, err] = [await proc.exited, await new Response(proc.stderr).text()];
  expect(code).toBe(1);
  expect(err.toLowerCase()).toContain('no database');
  expect(existsSync(dir)).toBe(false);
});
