import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';

/** A free loopback port (bind to 0, read it, release it). */
export function freePort(): number {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Compiles the executable into a temporary folder with the project's own build script. */
export async function buildBinary(): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'crochet-bin-')), 'crochet');
  const proc = Bun.spawn(['bun', 'scripts/build.ts', '--outfile', out], { cwd: join(import.meta.dir, '../..'), stdout: 'pipe', stderr: 'pipe' });
  if ((await proc.exited) !== 0) throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
  return out;
}

export type RunningBinary = { proc: Subprocess<'ignore', 'pipe', 'pipe'>; baseUrl: string; dir: string; output(): Promise<string> };

/** Starts `crochet serve` from an empty temporary folder and waits for /health. */
export async function startBinary(binary: string, env: Record<string, string> = {}, files: Record<string, string> = {}): Promise<RunningBinary> {
  const dir = mkdtempSync(join(tmpdir(), 'crochet-run-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const port = freePort();
  const proc = Bun.spawn([binary, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`binary exited early (${proc.exitCode}): ${await new Response(proc.stderr).text()}`);
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('binary did not become healthy within 15 s');
    await Bun.sleep(50);
  }
  let collected: Promise<string> | null = null;
  return {
    proc,
    baseUrl,
    dir,
    output: () => (collected ??= Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(([o, e]) => o + e)),
  };
}
