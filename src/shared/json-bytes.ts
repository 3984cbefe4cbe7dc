// Reused: decoding without `stream` keeps no state between calls. `fatal`: invalid UTF-8 is not
// JSON, rather than something silently repaired with U+FFFD.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when the JSON text in `bytes` opens more than `maxDepth` arrays/objects inside each other.
 * One pass over the bytes, no parsing and no allocation, so it can run before anything recursive
 * (the parser, schema validation, error rendering) sees a hostile body. Brackets inside strings
 * do not count; a backslash in a string skips the byte after it (so `\"` does not end the string).
 * UTF-8 continuation bytes are all ≥ 0x80, so no multi-byte character can look like a bracket.
 * Text that is not JSON may be miscounted only after the point where a parser would reject it.
 *
 * @example exceedsJsonDepth(new TextEncoder().encode('[[1]]'), 1) // true
 */
export function exceedsJsonDepth(bytes: Uint8Array, maxDepth: number): boolean {
  // Going past the limit takes at least maxDepth + 1 opening bytes.
  if (bytes.length <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

export type JsonVerdict = 'json' | 'too_deep' | 'not_json';

/**
 * Whether `bytes` are one JSON document in valid UTF-8 (blank is not JSON) nested at most
 * `maxDepth` levels. Depth is checked first, so a deep body never reaches the parser.
 */
export function judgeJsonBytes(bytes: Uint8Array, maxDepth: number): JsonVerdict {
  if (exceedsJsonDepth(bytes, maxDepth)) return 'too_deep';
  try {
    // Blank text throws too: JSON.parse accepts exactly one value, surrounded by whitespace only.
    JSON.parse(STRICT_UTF8.decode(bytes));
    return 'json';
  } catch {
    // Anything, including a RangeError from a parser that ran out of stack, means "not usable JSON".
    return 'not_json';
  }
}
