import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import * as Admin from '../modules/admin/service.ts';
import { bootstrap, DATABASE_FILE } from '../server.ts';
import { createLogger } from '../shared/logger.ts';

export const ADMIN_HELP = `crochet admin create — create an operator (admin) account

Usage:
  crochet admin create --email E [--name "Display name"]

The password is read from standard input (first line), or from CROCHET_ADMIN_PASSWORD when set;
never from a flag (flags show up in process lists and shell history). At least 10 characters.
Takes the same --data-dir / CROCHET_* options as serve; works while the server runs.

Examples:
  printf '%s\\n' "$PASSWORD" | crochet admin create --email ops@example.com
  CROCHET_ADMIN_PASSWORD=… crochet admin create --email ops@example.com --data-dir /var/lib/crochet
`;

/** `crochet admin create`: `password` comes from the environment or standard input, read by main.ts. */
export async function runAdminCreate(config: Config, args: { sub: string | undefined; email: string | undefined; name: string | undefined; password: string | null }): Promise<number> {
  if (args.sub !== 'create' || !args.email) {
    console.error(ADMIN_HELP);
    return 2;
  }
  if (args.password === null || args.password.length < 10) {
    console.error('password: expected at least 10 characters on standard input or in CROCHET_ADMIN_PASSWORD');
    return 2;
  }
  const path = join(config.data_dir, DATABASE_FILE);
  // A mistyped --data-dir must not quietly create a new, empty instance... unless it is the first run.
  if (!existsSync(config.data_dir)) {
    console.error(`no data folder at ${config.data_dir} (is --data-dir right?)`);
    return 1;
  }
  const { deps } = bootstrap(config, createLogger('error'));
  try {
    const profile = await Admin.createAdmin(deps, { email: args.email, password: args.password, display_name: args.name ?? 'Operator' });
    console.log(JSON.stringify({ created: 'admin', profile_id: profile.id, email: args.email.trim().toLowerCase(), database: path }));
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    deps.db.sqlite.close();
  }
}
