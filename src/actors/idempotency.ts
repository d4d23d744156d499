// Idempotency records of payments and charges: the first successful response per (user, key).
import { createHash } from "node:crypto";
import { ApiError } from "../errors.js";
import type { Store } from "../store/store.js";

const RETENTION_MS = 24 * 60 * 60 * 1000;

interface Entry {
  fingerprint: string;
  createdAt: number;
  /** The stored body once committed; a promise of it while the first request is in flight. */
  response: unknown | Promise<unknown>;
}

export class IdempotencyRecords {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly store: Store,
    now: number,
  ) {
    for (const row of store.idempotencySince(now - RETENTION_MS)) {
      this.entries.set(entryKey(row.userId, row.key), {
        fingerprint: row.fingerprint,
        createdAt: row.createdAt,
        response: JSON.parse(row.response),
      });
    }
  }

  /** Fingerprint of one request: its op and its canonical body, so any other body is a mismatch. */
  static fingerprint(op: string, body: unknown): string {
    return createHash("sha256").update(op).update("\0").update(JSON.stringify(body)).digest("base64url");
  }

  /**
   * Runs `perform` once per (user, key): a replay with the same fingerprint gets the first
   * response (waiting for it if the first request is still committing); another body is
   * IDEMPOTENCY_MISMATCH. `perform` receives the write that stores the record, to be committed
   * in the same transaction as the work itself. A failed first attempt stores nothing.
   */
  async run<T>(
    userId: string,
    key: string,
    fingerprint: string,
    successStatus: number,
    now: number,
    perform: (recordWrite: (response: T) => () => void) => Promise<T>,
  ): Promise<T> {
    const id = entryKey(userId, key);
    const existing = this.entries.get(id);
    if (existing) {
      if (existing.fingerprint !== fingerprint) {
        throw new ApiError("IDEMPOTENCY_MISMATCH", "this Idempotency-Key was used with another request");
      }
      return (await existing.response) as T;
    }
    const recordWrite = (response: T) => () =>
      this.store.insertIdempotency({
        userId,
        key,
        fingerprint,
        status: successStatus,
        response: JSON.stringify(response),
        createdAt: now,
      });
    const attempt = perform(recordWrite);
    const entry: Entry = { fingerprint, createdAt: now, response: attempt };
    this.entries.set(id, entry);
    try {
      entry.response = await attempt;
      return entry.response as T;
    } catch (error) {
      if (this.entries.get(id) === entry) this.entries.delete(id);
      throw error;
    }
  }

  /** Drops records older than 24 h; returns the write that drops them on disk too. */
  prune(now: number): () => void {
    const cutoff = now - RETENTION_MS;
    for (const [id, entry] of this.entries) {
      if (entry.createdAt < cutoff && !(entry.response instanceof Promise)) this.entries.delete(id);
    }
    return () => this.store.deleteIdempotencyBefore(cutoff);
  }
}

function entryKey(userId: string, key: string): string {
  return `${userId}\u0000${key}`;
}
