// `bun run db:generate [--name x] [--custom]`: drizzle-kit generate, then re-embed the migrations.
const args = process.argv.slice(2);
const gen = Bun.spawnSync(['bunx', 'drizzle-kit', 'generate', ...args], { stdout: 'inherit', stderr: 'inherit' });
if (gen.exitCode !== 0) process.exit(gen.exitCode ?? 1);
const embed = Bun.spawnSync(['bun', 'scripts/embed-migrations.ts'], { stdout: 'inherit', stderr: 'inherit' });
process.exit(embed.exitCode ?? 1);
