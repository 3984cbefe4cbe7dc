import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { recomputeScores } from '../modules/trust/service.ts';
import { createRuntime } from '../runtime.ts';
import { bootstrap, DATABASE_FILE } from '../server.ts';
import { createLogger } from '../shared/logger.ts';

export const SCORES_HELP = `crochet scores recompute — recompute every Crochet Score now

Usage: crochet scores recompute [--data-dir <dir>] [--config <file>]

Reads new gateway outcomes into score events, recomputes every profile's snapshot and refreshes
listing usage stats and ratings, in <data-dir>/${DATABASE_FILE} (migrated first if needed).
Safe while the server runs; the server also does this every 5 minutes, and an external cron can
use POST /api/v1/internal/recompute-scores with CROCHET_CRON_SECRET instead.
Exit status: 0 when done, 1 on failure, 2 on usage or config errors.

Example:
  crochet scores recompute --data-dir /var/lib/crochet
`;

/** \`crochet scores recompute\`: prints what it did; returns the exit code. */
export function runScoresRecompute(config: Config, out: (line: string) => void = console.log, err: (line: string) => void = console.error): number {
  const path = join(config.data_dir, DATABASE_FILE);
  if (!existsSync(path)) {
    err(`no database at ${path} (is --data-dir right?)`);
    return 1;
  }
  // Logs go to stderr at warn and above: stdout carries the result line only.
  const { deps } = bootstrap(config, createLogger('warn', (line) => process.stderr.write(line + '\n')));
  try {
    const r = recomputeScores({ ...deps, ...createRuntime(deps) });
    out(`scores recomputed: ${r.profiles_scored} profiles, ${r.events_ingested} new events, ${r.listings_refreshed} listings refreshed in ${r.duration_ms} ms (computed_at ${r.computed_at})`);
    return 0;
  } finally {
    deps.db.sqlite.close();
  }
}
