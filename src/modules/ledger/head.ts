// The chain head as an operator records it (SPEC §5 item 8). A hash chain shows any rewritten or
// removed entry *before* its last one, but deleting the newest entries leaves a shorter chain that
// is perfectly valid; only a head kept outside the database can show that something is missing.
import type { Database } from 'bun:sqlite';
import { GENESIS_HASH } from './chain.ts';

export type LedgerHead = { seq: number; hash: string };

/** The head of an empty ledger: nothing before seq 1, whose prev_hash is the genesis hash. */
export const EMPTY_LEDGER_HEAD: LedgerHead = { seq: 0, hash: GENESIS_HASH };

/** `<seq>:<hash>`, the one line `crochet ledger head` prints and `--expect-head` takes. */
export function formatLedgerHead(head: LedgerHead): string {
  return `${head.seq}:${head.hash}`;
}

const HEAD_FORMAT = /^(0|[1-9][0-9]{0,15}):([0-9a-fA-F]{64})$/;

/**
 * Parses `<seq>:<hash>` (surrounding whitespace ignored, hex in either case); null when malformed.
 *
 * @example parseLedgerHead('12:9f86d0…') // { seq: 12, hash: '9f86d0…' }
 */
export function parseLedgerHead(text: string): LedgerHead | null {
  const match = HEAD_FORMAT.exec(text.trim());
  if (!match) return null;
  const seq = Number(match[1]);
  if (!Number.isSafeInteger(seq)) return null;
  return { seq, hash: (match[2] as string).toLowerCase() };
}

/** The newest stored entry's seq and hash, or the empty-ledger head. */
export function readLedgerHead(sqlite: Database): LedgerHead {
  return sqlite.query<LedgerHead, []>('SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1').get() ?? EMPTY_LEDGER_HEAD;
}

/**
 * Whether the ledger still holds the entry `expected` names, with that hash. Returns null when it
 * does, else a sentence naming the missing or changed entry. Together with a clean
 * `verifyLedger`, a match proves every entry up to that seq is the one recorded: each entry's hash
 * covers its prev_hash, so the expected hash pins the whole chain before it.
 */
export function expectedHeadProblem(sqlite: Database, expected: LedgerHead): string | null {
  const named = `entry seq ${expected.seq} (hash ${expected.hash})`;
  if (expected.seq === 0) {
    return expected.hash === GENESIS_HASH ? null : `${named}: seq 0 can only be the empty ledger's head ${formatLedgerHead(EMPTY_LEDGER_HEAD)}`;
  }
  const stored = sqlite.query<{ id: string; hash: string }, [number]>('SELECT id, hash FROM ledger_entries WHERE seq = ?').get(expected.seq);
  if (!stored) {
    const head = readLedgerHead(sqlite);
    if (head.seq > expected.seq) return `${named} is missing: the chain has a gap there`;
    const gone = expected.seq - head.seq;
    const now = head.seq === 0 ? 'the ledger is now empty' : `the chain now ends at seq ${head.seq}`;
    return `${named} is missing: ${now}, so at least ${gone} entr${gone === 1 ? 'y was' : 'ies were'} removed from the end`;
  }
  if (stored.hash !== expected.hash) {
    return `${named} was rewritten: entry ${stored.id} at seq ${expected.seq} now has hash ${stored.hash}`;
  }
  return null;
}
