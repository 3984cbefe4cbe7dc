/**
 * Reads a byte stream to the end, or stops (cancelling it) as soon as more than `limit` bytes
 * arrived: null then. Declared lengths can lie or be absent, so counting is the only safe cap.
 */
export async function readCapped(stream: ReadableStream<Uint8Array> | null | undefined, limit: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = stream?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      void reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const only = chunks[0];
  if (chunks.length === 1 && only && only.buffer instanceof ArrayBuffer && only.byteLength === only.buffer.byteLength) {
    return only as Uint8Array<ArrayBuffer>;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
