// Reused: decoding without `stream` keeps no state between calls. `fatal`: invalid UTF-8 is not
// JSON, rather than something silently repaired with U+FFFD.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** True when `bytes` are one JSON document in valid UTF-8 (blank is not JSON). */
export function isJsonBytes(bytes: Uint8Array): boolean {
  try {
    // Blank text throws too: JSON.parse accepts exactly one value, surrounded by whitespace only.
    JSON.parse(STRICT_UTF8.decode(bytes));
    return true;
  } catch {
    return false;
  }
}
