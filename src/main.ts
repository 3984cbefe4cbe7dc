#!/usr/bin/env bun
// Entry point. Elysia decides once, when its module is first evaluated, whether it runs in
// production mode, from NODE_ENV: in development mode its validation errors copy the rejected
// value, indented, into the error (quadratic in nesting depth for a hostile body). So the mode is
// fixed from our own config before anything imports Elysia — only `CROCHET_MODE=development`
// gives development mode, whatever NODE_ENV the caller's environment holds — and only then are
// the commands loaded.
import { parseArgs } from './cli/args.ts';
import { applyFrameworkMode, loadConfig } from './config.ts';

const { flags } = parseArgs(Bun.argv.slice(2));
// Options only: command flags are not config (commands.ts reports a bad config properly).
const { 'tx-ref': _txRef, all: _all, help: _help, version: _version, ...options } = flags;
let development = false;
try {
  development = loadConfig({ flags: options }).mode === 'development';
} catch {
  // An invalid config stops the command with its message below; production until then.
}
applyFrameworkMode(development ? 'development' : 'production');
await import('./cli/commands.ts');
