import { Elysia } from 'elysia';
import type { Logger } from './logger.ts';

/** `keepGoing()` turns false once the server stops: a long run ends after its current step. */
export type ScheduledTask = { name: string; everyMs: number; run: (keepGoing: () => boolean) => unknown };

/**
 * Background timers of an app, listed where the app is composed: each task runs every `everyMs`
 * while the server listens (started on start, cleared on stop). A run still going (async) is not
 * started again, and a failure is logged, never thrown from a timer.
 */
export function schedulePlugin(logger: Logger, tasks: readonly ScheduledTask[]) {
  const timers: ReturnType<typeof setInterval>[] = [];
  let stopping = false;
  const keepGoing = () => !stopping;
  const runner = (task: ScheduledTask) => {
    let running = false;
    return async () => {
      if (running) return;
      running = true;
      try {
        await task.run(keepGoing);
      } catch (error) {
        logger.error(`${task.name} failed`, { error: error instanceof Error ? error.message : String(error) });
      } finally {
        running = false;
      }
    };
  };
  return new Elysia()
    .onStart(() => {
      stopping = false;
      if (timers.length === 0) for (const task of tasks) timers.push(setInterval(runner(task), task.everyMs));
    })
    .onStop(() => {
      stopping = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
    });
}
