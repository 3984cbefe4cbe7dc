// Imported first by src/main.ts, for its side effect. Elysia decides once, when its module is first
// evaluated, whether it runs in production mode, from NODE_ENV; in development mode its validation
// errors copy the rejected value, indented, into the error (quadratic in a hostile body's depth).
// ES modules are evaluated in import order, so setting the mode here — from our own config, before
// any module that imports Elysia is evaluated — makes it deterministic: only CROCHET_MODE=development
// gives development mode, whatever NODE_ENV the caller's environment holds.
import { parseArgs, splitCommandFlags } from './cli/args.ts';
import { applyFrameworkMode, loadConfig } from './config.ts';

// Options only: command flags are not config (main.ts reports a bad config properly).
const { options } = splitCommandFlags(parseArgs(Bun.argv.slice(2)).flags);
let development = false;
try {
  development = loadConfig({ flags: options }).mode === 'development';
} catch {
  // An invalid config stops the command with its message in main.ts; production until then.
}
applyFrameworkMode(development ? 'development' : 'production');
