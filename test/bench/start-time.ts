// Start time and idle memory of the built executable (issue 16 target 5): exec → a healthy
// `/health` on an empty data folder, median of 5, and RSS after 2 s idle — beside the same figures
// for a bare compiled `Bun.serve` (the anchor: what the runtime itself costs), in interleaved runs.
// Run directly: `bun test/bench/start-time.ts [runs]`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/binary.ts';

const ROOT = join(import.meta.dir, '../..');
const IDLE_MS = 2_000;

export type StartFigures = { medianMs: number; runsMs: number[]; idleRssMb: number };

async function build(): Promise<{ crochet: string; anchor: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-bench-start-'));
  const crochet = join(dir, 'crochet');
  const built = Bun.spawn(['bun', 'scripts/build.ts', '--outfile', crochet], { cwd: ROOT, stdout: 'ignore', stderr: 'inherit' });
  if ((await built.exited) !== 0) throw new Error('build failed');
  const source = join(dir, 'anchor.ts');
  writeFileSync(source, `const i = process.argv.indexOf('--port');\nBun.serve({ hostname: '127.0.0.1', port: Number(process.argv[i + 1]), fetch: () => Response.json({ status: 'ok' }) });\n`);
  const anchor = join(dir, 'anchor');
  const compiled = Bun.spawn(['bun', 'build', '--compile', '--bytecode', source, '--outfile', anchor], { stdout: 'ignore', stderr: 'inherit' });
  if ((await compiled.exited) !== 0) throw new Error('anchor build failed');
  return { crochet, anchor, dir };
}

async function startOnce(bin: string): Promise<{ ms: number; rssMb: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crochet-bench-start-data-'));
  const port = freePort();
  const started = performance.now();
  const proc = Bun.spawn([bin, 'serve', '--port', String(port), '--host', '127.0.0.1'], { env: { ...process.env, CROCHET_DATA_DIR: dataDir, CROCHET_LOG_LEVEL: 'warn' }, stdout: 'ignore', stderr: 'ignore' });
  try {
    for (;;) {
      if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break;
      if (performance.now() - started > 20_000) throw new Error(`${bin} did not become healthy`);
      await Bun.sleep(1);
    }
    const ms = performance.now() - started;
    await Bun.sleep(IDLE_MS);
    const rssKb = Number((await Bun.file(`/proc/${proc.pid}/status`).text()).match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN);
    return { ms, rssMb: rssKb / 1024 };
  } finally {
    proc.kill();
    await proc.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function runStartTimeBench(runs = 5, log: (line: string) => void = console.log) {
  const { crochet, anchor, dir } = await build();
  try {
    const c: { ms: number; rssMb: number }[] = [];
    const a: { ms: number; rssMb: number }[] = [];
    await startOnce(anchor); // the first exec of a fresh file pays for reading it from disk
    await startOnce(crochet);
    for (let i = 0; i < runs; i++) {
      a.push(await startOnce(anchor));
      c.push(await startOnce(crochet));
    }
    const fig = (xs: { ms: number; rssMb: number }[]): StartFigures => ({ medianMs: median(xs.map((x) => x.ms)), runsMs: xs.map((x) => Math.round(x.ms)), idleRssMb: median(xs.map((x) => x.rssMb)) });
    const cf = fig(c);
    const af = fig(a);
    log(`start time: exec → healthy /health on an empty data folder, median of ${runs} interleaved runs; RSS after ${IDLE_MS / 1000} s idle`);
    log(`  bare compiled Bun.serve (anchor)   ${af.medianMs.toFixed(0).padStart(5)} ms   idle RSS ${af.idleRssMb.toFixed(0)} MB   runs ${af.runsMs.join(' ')}`);
    log(`  Crochet executable                 ${cf.medianMs.toFixed(0).padStart(5)} ms   idle RSS ${cf.idleRssMb.toFixed(0)} MB   runs ${cf.runsMs.join(' ')}`);
    log(`  [5] Crochet ${cf.medianMs.toFixed(0)} ms (target ≤ 200), ${(cf.medianMs - af.medianMs).toFixed(0)} ms above the runtime's own; idle RSS ${cf.idleRssMb.toFixed(0)} MB (target ≤ 80)`);
    return { crochet: cf, anchor: af };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runStartTimeBench(Number(process.argv[2] ?? 5));
