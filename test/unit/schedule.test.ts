import { expect, test } from 'bun:test';
import { Elysia } from 'elysia';
import { memoryLogger } from '../../src/shared/logger.ts';
import { schedulePlugin } from '../../src/shared/schedule.ts';

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await Bun.sleep(5);
  }
}

test('tasks run while the server listens, never overlap, log failures, and stop with the server', async () => {
  const logger = memoryLogger();
  let ticks = 0;
  let running = 0;
  let maxRunning = 0;
  let slowRuns = 0;
  const app = new Elysia().use(
    schedulePlugin(logger, [
      { name: 'tick', everyMs: 5, run: () => ticks++ },
      { name: 'broken task', everyMs: 5, run: () => { throw new Error('boom'); } },
      {
        name: 'slow',
        everyMs: 5,
        run: async () => {
          maxRunning = Math.max(maxRunning, ++running);
          await Bun.sleep(30);
          running--;
          slowRuns++;
        },
      },
    ]),
  );
  await Bun.sleep(20);
  expect(ticks).toBe(0); // not listening: nothing runs
  app.listen({ port: 0, hostname: '127.0.0.1' });
  await until(() => ticks >= 3 && slowRuns >= 2 && logger.lines.some((l) => l.includes('broken task failed') && l.includes('boom')));
  expect(maxRunning).toBe(1);
  await app.stop(true);
  await until(() => running === 0);
  const stoppedAt = ticks;
  await Bun.sleep(30);
  expect(ticks).toBe(stoppedAt);
});
