/** Splits argv into positional words and `--flag value` / `--flag=value` / bare `--flag` (= "1"). */
export function parseArgs(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--') || arg === '--') {
      positional.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    if (eq >= 0) {
      flags[body.slice(0, eq)] = body.slice(eq + 1);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags[body] = next;
      i++;
    } else {
      flags[body] = '1';
    }
  }
  return { positional, flags };
}

/** Flags that belong to one command, not configuration options; every other flag is config. */
export const COMMAND_FLAGS = ['tx-ref', 'all', 'expect-head', 'email', 'name', 'help', 'version'] as const;

/** Splits parsed flags into the command's own flags and the configuration options. */
export function splitCommandFlags(flags: Record<string, string>): { command: Partial<Record<(typeof COMMAND_FLAGS)[number], string>>; options: Record<string, string> } {
  const command: Partial<Record<(typeof COMMAND_FLAGS)[number], string>> = {};
  const options: Record<string, string> = {};
  for (const [name, value] of Object.entries(flags)) {
    if ((COMMAND_FLAGS as readonly string[]).includes(name)) command[name as (typeof COMMAND_FLAGS)[number]] = value;
    else options[name] = value;
  }
  return { command, options };
}
