// The door of every money operation: idempotency records (the first successful response per
// user and key, kept on disk for 24 h), the per-user cap on live records, and the money rate.
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { type RateLimit, RateLimiter } from "../api/rateLimit.js";
import { ApiError } from "../errors.js";
import { noWrite, type Write } from "../store/commitQueue.js";
import type { Store } from "../store/store.js";

export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Records answered from memory. The disk holds every record; memory holds the recent ones and
 * the requests in flight, so it does not grow with the number of records (issue: 20,000 keys of
 * one user cost ~8 MB of heap, kept 24 h and reloaded at start).
 */
const CACHED_RECORDS = 10_000;
/** Users whose live-record count is known without a query. */
const CACHED_COUNTS = 10_000;

export interface MoneySettings {
  /** Live records (younger than 24 h) one user may have; a new key past it is 429. */
  maxRecordsPerUser: number;
  /** Charges and payments per user that do work (replays of a stored key are free). */
  rate: RateLimit;
}

export interface MoneyRequest {
  userId: string;
  /** The caller's Idempotency-Key, if any. */
  key: string | undefined;
  /** IdempotencyRecords.fingerprint of the op and body. */
  fingerprint: string;
  /** The status of the stored success (what a replay is answered with). */
  successStatus: number;
  now: number;
}

/** The record a money operation stores with its work, for a store that writes it itself (a cluster node's MoneyDesk). */
export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
  status: number;
}

/** The work of a money operation: given the write of its record (a commit queue's) and the record itself. */
export type MoneyWork<T> = (recordWrite: (response: T) => Write, claim: IdempotencyClaim | undefined) => Promise<T>;

interface Stored {
  fingerprint: string;
  createdAt: number;
  response: unknown;
}

interface InFlight {
  fingerprint: string;
  response: Promise<unknown>;
}

/** A user's live records, as last counted: `oldest` is when the first of them was made. */
interface LiveCount {
  live: number;
  oldest: number;
}

export class IdempotencyRecords {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly recent = new LRUCache<string, Stored>({ max: CACHED_RECORDS });
  private readonly counts = new LRUCache<string, LiveCount>({ max: CACHED_COUNTS });
  private readonly rate: RateLimiter;

  constructor(
    private readonly store: Store,
    private readonly settings: MoneySettings,
  ) {
    this.rate = new RateLimiter(settings.rate);
  }

  /** Fingerprint of one request: its op and its canonical body, so any other body is a mismatch. */
  static fingerprint(op: string, body: unknown): string {
    return createHash("sha256").update(op).update("\0").update(JSON.stringify(body)).digest("base64url");
  }

  /**
   * Runs `perform` once per (user, key): a replay with the same fingerprint gets the first
   * response (waiting for it if the first request is still committing) and costs no rate;
   * another body is IDEMPOTENCY_MISMATCH. Work is rate-limited per user, and a new key past the
   * user's cap of live records is refused until the oldest of them is 24 h old. `perform`
   * receives the write that stores the record, to be committed in the same transaction as the
   * work itself. A failed attempt stores nothing.
   */
  async run<T>(request: MoneyRequest, perform: MoneyWork<T>): Promise<T> {
    const { userId, key } = request;
    if (key === undefined) {
      this.takeRate(userId, request.now);
      return perform(() => noWrite, undefined);
    }
    const id = pairKey(userId, key);
    const pending = this.inFlight.get(id);
    if (pending !== undefined) {
      assertSameRequest(pending.fingerprint, request.fingerprint);
      return (await pending.response) as T;
    }
    // In flight from here, before the first await: a second request with this key waits for
    // this one's answer, whether a replay read from disk or the work itself.
    const attempt = this.attempt(id, request, key, perform);
    this.inFlight.set(id, { fingerprint: request.fingerprint, response: attempt });
    try {
      return await attempt;
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** A stored record's response (a replay, free), or the work done once and its record written with it. */
  private async attempt<T>(id: string, request: MoneyRequest, key: string, perform: MoneyWork<T>): Promise<T> {
    const { userId, now } = request;
    const stored = await this.stored(id, userId, key, now);
    if (stored !== undefined) {
      assertSameRequest(stored.fingerprint, request.fingerprint);
      return stored.response as T;
    }
    this.takeRate(userId, now);
    const count = await this.liveCount(userId, now);
    count.live++;
    const recordWrite =
      (response: T): Write =>
      () =>
        this.store.insertIdempotency({
          userId,
          key,
          fingerprint: request.fingerprint,
          status: request.successStatus,
          response: JSON.stringify(response),
          createdAt: now,
        });
    try {
      const response = await perform(recordWrite, {
        key,
        fingerprint: request.fingerprint,
        status: request.successStatus,
      });
      this.recent.set(id, { fingerprint: request.fingerprint, createdAt: now, response });
      return response;
    } catch (error) {
      count.live--;
      throw error;
    }
  }

  /** Deletes records older than 24 h on disk (memory only ever answers live ones). */
  prune(now: number): Write {
    const cutoff = now - IDEMPOTENCY_RETENTION_MS;
    return () => this.store.deleteIdempotencyBefore(cutoff);
  }

  /** The live record of (user, key), from memory or disk; undefined when there is none (or it lapsed). */
  private async stored(id: string, userId: string, key: string, now: number): Promise<Stored | undefined> {
    let stored = this.recent.get(id);
    if (stored === undefined) {
      const row = await this.store.reads.idempotencyRecord(userId, key);
      if (row === undefined) return undefined;
      stored = { fingerprint: row.fingerprint, createdAt: row.createdAt, response: JSON.parse(row.response) };
      this.recent.set(id, stored);
    }
    // A record past its 24 h is gone for the contract, even before the hourly prune deletes it.
    return stored.createdAt < now - IDEMPOTENCY_RETENTION_MS ? undefined : stored;
  }

  private takeRate(userId: string, now: number): void {
    if (!this.rate.take(userId, now)) {
      throw new ApiError("RATE_LIMITED", "too many charges and payments; slow down");
    }
  }

  /** The user's live records, counted on disk when not known (or when the oldest may have lapsed). */
  private async liveCount(userId: string, now: number): Promise<LiveCount> {
    const liveSince = now - IDEMPOTENCY_RETENTION_MS;
    let count = this.counts.get(userId);
    if (count === undefined || (count.live >= this.settings.maxRecordsPerUser && count.oldest < liveSince)) {
      const before = count;
      const counted = (await this.store.reads.idempotencyLiveCount(userId, liveSince)) ?? { live: 0, oldest: now };
      // Another request of this user may have counted meanwhile: keep one count per user, or increments are lost.
      const meanwhile = this.counts.get(userId);
      count = meanwhile !== undefined && meanwhile !== before ? meanwhile : counted;
      this.counts.set(userId, count);
    }
    if (count.live >= this.settings.maxRecordsPerUser) {
      const freedAt = count.oldest + IDEMPOTENCY_RETENTION_MS;
      throw new ApiError(
        "RATE_LIMITED",
        `at most ${this.settings.maxRecordsPerUser} idempotency keys per user in 24 h; retry without a new key later`,
        (freedAt - now) / 1000,
      );
    }
    return count;
  }
}

function assertSameRequest(stored: string, given: string): void {
  if (stored !== given) {
    throw new ApiError("IDEMPOTENCY_MISMATCH", "this Idempotency-Key was used with another request");
  }
}

/** (user, key) as one string that no other pair maps to: the user id is length-prefixed. */
function pairKey(userId: string, key: string): string {
  return `${userId.length}:${userId}${key}`;
}
