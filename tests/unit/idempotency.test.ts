// The door of money operations, on a real database: records keyed by the (user, key) pair,
// memory bounded whatever the number of records, the per-user cap and the money rate.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IDEMPOTENCY_RETENTION_MS, IdempotencyRecords, type MoneySettings } from "../../src/actors/idempotency.js";
import { ApiError } from "../../src/errors.js";
import { CommitQueue } from "../../src/store/commitQueue.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { InlineWriter } from "../../src/store/inlineWriter.js";
import { sqliteStore } from "../../src/store/sqliteReads.js";
import type { Store } from "../../src/store/store.js";

const OPEN: MoneySettings = { maxRecordsPerUser: 1_000_000, rate: { perSecond: 0, burst: 1 } };

describe("idempotency records", () => {
  let dir: string;
  let db: Db;
  let store: Store;
  let commits: CommitQueue;
  let runs = 0;
  const now = Date.now();

  beforeEach(() => {
    runs = 0;
    dir = mkdtempSync(join(tmpdir(), "idempotency-"));
    db = openDatabase(dir, "normal");
    store = sqliteStore(db);
    commits = new CommitQueue(store, new InlineWriter(db), {
      onFatal: (error) => {
        throw error;
      },
    });
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A money operation that counts its runs and stores `{ user, n }` as its response. */
  function charge(records: IdempotencyRecords, userId: string, key: string | undefined, at = now, amount = 1) {
    const fingerprint = IdempotencyRecords.fingerprint("balance.charge", { amount });
    return records.run({ userId, key, fingerprint, successStatus: 200, now: at }, async (recordWrite) => {
      runs++;
      const response = { userId, n: runs };
      const record = recordWrite(response);
      await commits.commit(record);
      return response;
    });
  }

  const code = (attempt: Promise<unknown>) =>
    attempt.then(
      () => "OK",
      (error: ApiError) => error.code,
    );

  it("records are keyed by the (user, key) pair: user vic\\0x with key k1 and user vic with key x\\0k1 are two records", async () => {
    const records = new IdempotencyRecords(store, OPEN);
    const first = await charge(records, "vic\u0000x", "k1");
    const second = await charge(records, "vic", "x\u0000k1");
    expect(second).toEqual({ userId: "vic", n: 2 });
    expect(first).toEqual({ userId: "vic\u0000x", n: 1 });
    // And after a restart, each replay gets its own user's response.
    const restarted = new IdempotencyRecords(store, OPEN);
    expect(await charge(restarted, "vic", "x\u0000k1")).toEqual({ userId: "vic", n: 2 });
    expect(runs).toBe(2);
  });

  it("memory does not grow with the number of records: 25,000 keys of one user leave a bounded cache, and the first still replays from disk", async () => {
    const records = new IdempotencyRecords(store, OPEN);
    for (let i = 0; i < 25_000; i++) await charge(records, "big", `k-${i}`);
    const internals = records as unknown as {
      recent: { size: number };
      inFlight: Map<string, unknown>;
      counts: { size: number };
    };
    expect(internals.recent.size).toBeLessThanOrEqual(10_000);
    expect(internals.inFlight.size).toBe(0);
    expect(internals.counts.size).toBe(1);
    expect(await charge(records, "big", "k-0")).toEqual({ userId: "big", n: 1 });
    expect(await code(charge(records, "big", "k-0", now, 2))).toBe("IDEMPOTENCY_MISMATCH");
    expect(runs).toBe(25_000);
  });

  it("a new key past IDEMPOTENCY_MAX_PER_USER is 429 with Retry-After until the oldest record is 24 h old; replays still answer", async () => {
    const records = new IdempotencyRecords(store, { ...OPEN, maxRecordsPerUser: 3 });
    for (const key of ["a", "b", "c"]) await charge(records, "capped", key, now);
    const refused = await charge(records, "capped", "d", now + 1000).catch((error: ApiError) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("RATE_LIMITED");
    expect((refused as ApiError).retryAfter).toBe(Math.ceil((IDEMPOTENCY_RETENTION_MS - 1000) / 1000));
    expect(await charge(records, "capped", "a", now + 1000)).toEqual({ userId: "capped", n: 1 });
    // Another user is not affected; a failed attempt does not use up a place.
    expect(await code(charge(records, "other", "a", now))).toBe("OK");
    // No record is dropped early: a day later the first ones lapse and new keys are taken again.
    const dayLater = now + IDEMPOTENCY_RETENTION_MS + 1;
    expect(await code(charge(records, "capped", "d", dayLater))).toBe("OK");
    // Also after a restart: the cap is counted on disk.
    const restarted = new IdempotencyRecords(store, { ...OPEN, maxRecordsPerUser: 3 });
    expect(await code(charge(restarted, "capped", "e", now + 2000))).toBe("RATE_LIMITED");
  });

  it("a key reused after its 24 h, before the hourly prune deleted its row, does the work again and replaces the record", async () => {
    const records = new IdempotencyRecords(store, OPEN);
    expect(await charge(records, "late", "k", now)).toEqual({ userId: "late", n: 1 });
    const dayLater = now + IDEMPOTENCY_RETENTION_MS + 1;
    // Before: the insert hit the (user, key) primary key, the commit failed and the server stopped.
    expect(await charge(records, "late", "k", dayLater, 2)).toEqual({ userId: "late", n: 2 });
    const restarted = new IdempotencyRecords(store, OPEN);
    expect(await charge(restarted, "late", "k", dayLater, 2)).toEqual({ userId: "late", n: 2 });
    expect(await code(charge(restarted, "late", "k", dayLater, 3))).toBe("IDEMPOTENCY_MISMATCH");
  });

  it("a failed attempt stores nothing and frees its place under the cap", async () => {
    const records = new IdempotencyRecords(store, { ...OPEN, maxRecordsPerUser: 1 });
    const fingerprint = IdempotencyRecords.fingerprint("balance.charge", { amount: 1 });
    const failing = records.run({ userId: "u", key: "x", fingerprint, successStatus: 200, now }, async () => {
      throw new ApiError("BALANCE_LIMIT", "no");
    });
    expect(await code(failing)).toBe("BALANCE_LIMIT");
    expect(await code(charge(records, "u", "x"))).toBe("OK");
  });

  it("the money rate counts work, not replays of a stored key", async () => {
    const records = new IdempotencyRecords(store, { ...OPEN, rate: { perSecond: 1, burst: 2 } });
    expect(await code(charge(records, "r", "k1"))).toBe("OK");
    expect(await code(charge(records, "r", undefined))).toBe("OK");
    const limited = await charge(records, "r", "k2").catch((error: ApiError) => error);
    expect((limited as ApiError).code).toBe("RATE_LIMITED");
    expect((limited as ApiError).retryAfter).toBe(1);
    for (let i = 0; i < 5; i++) expect(await code(charge(records, "r", "k1"))).toBe("OK");
    expect(await code(charge(records, "r", undefined, now + 1000))).toBe("OK");
    expect(runs).toBe(3);
  });
});
