// Reads a request body with a size limit and a time limit (uWS streams it in chunks that must be copied).
import type { TrackedResponse } from "./reply.js";

export interface BodyLimits {
  maxBytes: number;
  /** A body not complete this long after the headers is a slow client: the connection is closed. */
  timeoutMs: number;
}

export function readBody(
  res: TrackedResponse,
  limits: BodyLimits,
  onBody: (body: Buffer) => void,
  onTooLarge: () => void,
  /** The deadline passed and the connection was closed. */
  onTimeout: () => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  // Slowloris: a client dribbling bytes keeps uWS's idle timer alive, so the whole body gets a deadline.
  const deadline = setTimeout(() => {
    over = true;
    onTimeout();
    if (!res.done) res.close();
  }, limits.timeoutMs);
  res.onData((chunk, isLast) => {
    if (over) return;
    size += chunk.byteLength;
    if (size > limits.maxBytes) {
      over = true;
      clearTimeout(deadline);
      onTooLarge();
      return;
    }
    // The ArrayBuffer is neutered when this callback returns: copy it.
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) {
      clearTimeout(deadline);
      onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    }
  });
}
