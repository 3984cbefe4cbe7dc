// Reused: decoding without `stream` keeps no state between calls. `fatal`: invalid UTF-8 is not
// JSON, rather than something silently repaired with U+FFFD.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** True when `bytes` are one JSON document in valid UTF-8 (blank is not JSON). */
export function isJsonBytes(bytes: Uint8Array): boolean {
  try {
    const text = STRICT_UTF8.decode(bytes);
    if (text.trim() === '') return false;
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
