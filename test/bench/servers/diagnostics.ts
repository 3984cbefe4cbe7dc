// Bench diagnostics, preloaded into a server under load (`bun --preload …/diagnostics.ts`): the
// event-loop delay histogram, the time spent in SQLite commits (history batches, checkpoints) and
// in garbage collection, printed as one JSON line on stderr when the process gets SIGUSR2 (and
// reset), so a bench reads what happened during one load round. Never part of the product.
import { Database } from 'bun:sqlite';
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
// Stalls of 20 ms and more, with when they happened (ms since start), to line up with commits.
const stalls: [number, number][] = [];
const started = performance.now();
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last >= 21) stalls.push([Math.round(last - started), Math.round(now - last - 1)]);
  last = now;
}, 1).unref();
// Commits: every transaction of bun:sqlite ends in this "COMMIT"/"RELEASE" run; time each one.
const commits: number[] = [];
const slowCommits: [number, number][] = [];
const origin = performance.now();
const original = Database.prototype.transaction;
Database.prototype.transaction = function (this: Database, fn: (...args: any[]) => any) {
  const tx = original.call(this, fn) as any;
  const timed = (variant: (...args: any[]) => any) => (...args: any[]) => {
    const started = performance.now();
    try {
      return variant(...args);
    } finally {
      const ms = performance.now() - started;
      commits.push(ms);
      if (ms >= 5) slowCommits.push([Math.round(started - origin), Math.round(ms)]);
    }
  };
  const wrapped: any = timed(tx);
  for (const k of ['deferred', 'immediate', 'exclusive']) wrapped[k] = timed(tx[k]);
  return wrapped;
} as typeof original;

let gcMs = 0;
let gcCount = 0;
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount++;
    }
  }).observe({ entryTypes: ['gc'] });
} catch {
  // Not every runtime reports GC entries; the JSC GC log (BUN_JSC_logGC=1) is the fallback.
}

// Time this process's threads waited for a CPU (Linux schedstat: ns on a run queue), per round:
// a stall with no commit, GC or handler behind it is the machine's other work, not ours.
const runQueueNs = () => {
  let total = 0;
  try {
    for (const task of readdirSync('/proc/self/task')) total += Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[1] ?? 0);
  } catch {
    return 0;
  }
  return total;
};
let queuedBefore = runQueueNs();

process.on('SIGUSR2', () => {
  const queued = runQueueNs();
  const waitedMs = Math.round((queued - queuedBefore) / 1e6);
  queuedBefore = queued;
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  commits.sort((a, b) => a - b);
  const q = (p: number) => Math.round((commits[Math.min(commits.length - 1, Math.floor(p * commits.length))] ?? 0) * 100) / 100;
  console.error(
    `DIAG ${JSON.stringify({
      loopDelay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      waitedForCpuMs: waitedMs,
      commits: { n: commits.length, p50: q(0.5), p99: q(0.99), max: q(1), totalMs: Math.round(commits.reduce((a, b) => a + b, 0)) },
      gc: { n: gcCount, totalMs: Math.round(gcMs) },
      stallsAtMs: stalls.slice(0, 40),
      slowCommitsAtMs: slowCommits.slice(0, 40),
    })}`,
  );
  delay.reset();
  commits.length = 0;
  stalls.length = 0;
  slowCommits.length = 0;
  gcMs = 0;
  gcCount = 0;
});
