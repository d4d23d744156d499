// Reads a request body with a size limit (uWS streams it in chunks that must be copied).
import type { TrackedResponse } from "./reply.js";

export function readBody(
  res: TrackedResponse,
  limit: number,
  onBody: (body: Buffer) => void,
  onTooLarge: () => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  res.onData((chunk, isLast) => {
    if (over) return;
    size += chunk.byteLength;
    if (size > limit) {
      over = true;
      onTooLarge();
      return;
    }
    // The ArrayBuffer is neutered when this callback returns: copy it.
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
}
