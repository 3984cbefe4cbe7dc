#!/usr/bin/env bun
// First: fixes the web framework's production/development mode before anything loads it.
import './framework-mode.ts';
import { join } from 'node:path';
import { parseArgs, splitCommandFlags } from './cli/args.ts';
import { ADMIN_HELP, runAdminCreate } from './cli/admin-create.ts';
import { BACKUP_HELP, runBackup } from './cli/backup.ts';
import { LEDGER_VERIFY_HELP, runLedgerHead, runLedgerVerify } from './cli/ledger-verify.ts';
import { REFUNDS_HELP, runRefunds } from './cli/refunds.ts';
import { SCORES_HELP, runScoresRecompute } from './cli/scores-recompute.ts';
import { adminPasswordFromEnv, ConfigError, describeOptions, loadConfig } from './config.ts';
import { openDatabase } from './db/open.ts';
import { VAULT_HELP, runVaultRotateKey } from './modules/vault/cli.ts';
import { DATABASE_FILE, startServer } from './server.ts';
import { VERSION } from './version.ts';

const HELP = `crochet ${VERSION} — agent-to-agent API marketplace and pay-per-call gateway

Usage: crochet <command> [options]

Commands:
  serve            start the server (creates the data folder, key and database on first start)
  migrate          apply database migrations and exit
  backup FILE      consistent online copy of the database (keep the master key separately)
  ledger verify    check the ledger's hash chain and that every transaction balances
                   (--expect-head <seq>:<hash>: and that it still holds a recorded head)
  ledger head      print the verified chain head as <seq>:<hash>, to record outside the server
  vault rotate-key re-encrypt every vault value under a new master key (server stopped)
  admin create     create an operator account: --email E (password on standard input or CROCHET_ADMIN_PASSWORD)
  refunds list     payments owed back to buyers (settled intents that expired unused)
  refunds mark     record a refund paid on chain: crochet refunds mark <relay_request_id> --tx-ref REF
  scores recompute recompute every Crochet Score now (the server also does it every 5 minutes)
  --version        print the version
  --help           this text (also: crochet <command> --help)

Options (flags override CROCHET_* env, which overrides the --config JSON file):
${describeOptions()}

Examples:
  crochet serve
  crochet serve --port 9000 --data-dir /var/lib/crochet --public-url https://market.example.com
  CROCHET_LOG_LEVEL=debug crochet serve
  crochet migrate --data-dir ./crochet-data
  crochet ledger verify --data-dir ./crochet-data
  crochet ledger head --data-dir ./crochet-data > ledger-head.txt
  crochet ledger verify --data-dir ./crochet-data --expect-head "$(cat ledger-head.txt)"
  crochet vault rotate-key --data-dir ./crochet-data
  crochet refunds mark rly_0193… --tx-ref 0xabc…
  crochet scores recompute --data-dir ./crochet-data
`;

async function main(argv: string[]): Promise<number> {
  const { positional, flags: allFlags } = parseArgs(argv);
  // Flags of one command, not configuration options (one list, shared with framework-mode.ts).
  const { command: commandFlags, options: flags } = splitCommandFlags(allFlags);
  const { 'tx-ref': txRef, all, 'expect-head': expectHead, email, name } = commandFlags;
  if (flags['password'] !== undefined || flags['admin-password'] !== undefined) {
    console.error('a password is never taken from a flag: pipe it on standard input or set CROCHET_ADMIN_PASSWORD');
    return 2;
  }
  if (commandFlags.version !== undefined || positional[0] === 'version') {
    console.log(VERSION);
    return 0;
  }
  const command = positional[0] ?? 'serve';
  if (commandFlags.help !== undefined || command === 'help') {
    const help: Record<string, string> = { admin: ADMIN_HELP, backup: BACKUP_HELP, ledger: LEDGER_VERIFY_HELP, vault: VAULT_HELP, refunds: REFUNDS_HELP, scores: SCORES_HELP };
    console.log(help[command] ?? HELP);
    return 0;
  }
  const config = loadConfig({ flags });
  switch (command) {
    case 'serve': {
      const server = startServer(config);
      const shutdown = () => void server.stop().then(() => process.exit(0));
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
      return await new Promise<number>(() => {});
    }
    case 'migrate': {
      const { sqlite } = openDatabase(join(config.data_dir, DATABASE_FILE));
      sqlite.close();
      console.log(`database migrated: ${join(config.data_dir, DATABASE_FILE)}`);
      return 0;
    }
    case 'ledger': {
      if (positional[1] === 'verify') return runLedgerVerify(config, { expectHead });
      if (positional[1] === 'head' && expectHead === undefined) return runLedgerHead(config);
      if (positional[1] === 'head') {
        console.error('--expect-head belongs to `crochet ledger verify`, not `crochet ledger head`');
        return 2;
      }
      console.error(`unknown ledger command "${positional[1] ?? ''}" (try: crochet ledger verify, crochet ledger head)`);
      return 2;
    }
    case 'vault': {
      if (positional[1] === 'rotate-key') {
        return runVaultRotateKey({ dataDir: config.data_dir, dbPath: join(config.data_dir, DATABASE_FILE), envKey: config.master_key });
      }
      console.error(`unknown vault command "${positional[1] ?? ''}" (try: crochet vault rotate-key)`);
      return 2;
    }
    case 'admin': {
      // Standard input only when the environment does not give the password (first line, no echo of it anywhere).
      const password = adminPasswordFromEnv() ?? ((await Bun.stdin.text()).split(/\r?\n/)[0] ?? null);
      return runAdminCreate(config, { sub: positional[1], email: typeof email === 'string' ? email : undefined, name: typeof name === 'string' ? name : undefined, password });
    }
    case 'backup':
      return runBackup(config, positional[1]);
    case 'refunds':
      return runRefunds(config, { sub: positional[1], refundId: positional[2], txRef, all: all !== undefined });
    case 'scores': {
      if (positional[1] === 'recompute') return runScoresRecompute(config);
      console.error(`unknown scores command "${positional[1] ?? ''}" (try: crochet scores recompute)`);
      return 2;
    }
    default:
      console.error(`unknown command "${command}" (see crochet --help)`);
      return 2;
  }
}

main(Bun.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`configuration error:\n${error.message}`);
      return process.exit(2);
    }
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
