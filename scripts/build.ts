// Compiles src/main.ts into the single executable dist/crochet. Migrations are embedded through
// text imports (src/db/embedded-migrations.ts); the static UI folder through `assets`.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dir, '..');
const outfile = process.argv.includes('--outfile') ? String(process.argv[process.argv.indexOf('--outfile') + 1]) : join(root, 'dist/crochet');
mkdirSync(join(outfile, '..'), { recursive: true });

const result = await Bun.build({
  // The history writer's Worker is a second entry point: a compiled program finds it by its
  // source path (src/modules/gateway/history.ts starts it).
  entrypoints: [join(root, 'src/main.ts'), join(root, 'src/modules/gateway/history-worker.ts')],
  bytecode: true,
  format: 'esm',
  // Not minified: stack traces in the operator's logs stay readable.
  compile: {
    outfile,
    // The operator's working folder must not change the program's behaviour.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
    ...(existsSync(join(root, 'public')) ? { assets: [join(root, 'public')] } : {}),
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile}`);
