// CI smoke test of the built executable: start from an empty temporary folder, poll /health,
// fetch the UI page, an embedded asset and the API document, stop with SIGTERM and require a clean exit.
import { join, resolve } from 'node:path';
import { startBinary } from '../test/support/binary.ts';

const binary = resolve(process.argv[2] ?? join(import.meta.dir, '../dist/crochet'));
const running = await startBinary(binary);
const fail = (why: string) => {
  running.proc.kill('SIGKILL');
  console.error(`smoke test failed: ${why}`);
  process.exit(1);
};
const health = (await (await fetch(`${running.baseUrl}/health`)).json()) as { status?: string; database?: string };
if (health.status !== 'ok' || health.database !== 'ok') fail(`unhealthy: ${JSON.stringify(health)}`);
for (const [path, type] of [['/', 'text/html'], ['/assets/app.js', 'text/javascript'], ['/api/openapi.json', 'application/json']] as const) {
  const res = await fetch(`${running.baseUrl}${path}`);
  if (!res.ok || !res.headers.get('content-type')?.startsWith(type)) fail(`${path} answered ${res.status} ${res.headers.get('content-type')}`);
}
running.proc.kill('SIGTERM');
const code = await Promise.race([running.proc.exited, Bun.sleep(10_000).then(() => 'timeout' as const)]);
if (code !== 0) fail(`exit after SIGTERM: ${code}\n${await running.output()}`);
console.log(`smoke test passed: ${binary} started from ${running.dir}, served /health, stopped cleanly`);
