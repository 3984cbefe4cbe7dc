// docs/payment-lifecycle.md is the lifecycle table as it is: regenerated from the table, it must not change.
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLifecycleDoc } from '../../scripts/payment-lifecycle-doc.ts';
import { EVENTS, LIFECYCLE, PHASES } from '../../src/modules/payments/lifecycle.ts';

test('the committed page equals the page generated from the table (run `bun scripts/payment-lifecycle-doc.ts`)', () => {
  expect(readFileSync(join(import.meta.dir, '../../docs/payment-lifecycle.md'), 'utf8')).toBe(renderLifecycleDoc());
});

test('the table has exactly one cell for every phase and event', () => {
  expect(Object.keys(LIFECYCLE).sort()).toEqual([...PHASES].sort());
  for (const p of PHASES) expect(Object.keys(LIFECYCLE[p]).sort()).toEqual([...EVENTS].sort());
});
