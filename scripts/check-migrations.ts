// Fails when the drizzle schema has changes without a committed migration, or when
// src/db/embedded-migrations.ts does not list every migration.
import { join } from 'node:path';

const root = join(import.meta.dir, '..');
const run = (cmd: string[]) => Bun.spawnSync(cmd, { cwd: root, stdout: 'pipe', stderr: 'pipe' });

const check = run(['bunx', 'drizzle-kit', 'check']);
if (check.exitCode !== 0) {
  console.error(check.stdout.toString(), check.stderr.toString());
  process.exit(1);
}
const generate = run(['bunx', 'drizzle-kit', 'generate', '--name', 'uncommitted_schema_change']);
const status = run(['git', 'status', '--porcelain', '--', 'migrations']).stdout.toString().trim();
if (generate.exitCode !== 0 || status.includes('uncommitted_schema_change')) {
  console.error(generate.stdout.toString(), generate.stderr.toString());
  console.error('the schema changed without a migration: run `bun run db:generate --name <change>` and commit migrations/');
  process.exit(1);
}
const embed = run(['bun', 'scripts/embed-migrations.ts', '--check']);
if (embed.exitCode !== 0) {
  console.error(embed.stderr.toString());
  process.exit(1);
}
console.log('migrations: in sync with the schema and embedded');
