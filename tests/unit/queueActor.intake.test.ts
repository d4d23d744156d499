// The waiting room's intake: a rush of check-ins joins in bounded batches, one per event-loop
// turn, in arrival order, so the booking path keeps being served while fans pour in; and the
// line's bounds (QUEUE_WAITING_MAX, new tokens per address).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { QueueActor, type QueueStatus } from "../../src/actors/queue.js";
import { AddressLimiter } from "../../src/api/rateLimit.js";
import type { ApiError } from "../../src/errors.js";
import { CommitQueue } from "../../src/store/commitQueue.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { InlineWriter } from "../../src/store/inlineWriter.js";
import { sqliteStore } from "../../src/store/sqliteReads.js";
import type { Store } from "../../src/store/store.js";
import { ThreadWriter } from "../../src/store/threadWriter.js";

const anyAddress = () => "198.51.100.7";

const ACTIVE_MAX = 10;
const RUSH = 700;

describe("queue actor intake", () => {
  let dir: string;
  let db: Db;
  let store: Store;
  let writer: ThreadWriter;
  let queue: QueueActor;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "intake-"));
    db = openDatabase(dir, "normal");
    store = sqliteStore(db);
    writer = await ThreadWriter.start(dir, "normal");
    const commits = new CommitQueue(store, writer, {
      onFatal: (error) => {
        throw error;
      },
    });
    queue = new QueueActor(
      { activeMax: ACTIVE_MAX, activeTtlMs: 60_000, waitingIdleMs: 60_000, tickMs: 100, waitingMax: 1_000_000 },
      store,
      commits,
      new AddressLimiter({ perSecond: 0, burst: 1 }),
    );
  });

  afterEach(async () => {
    queue.stop();
    await writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("joins a rush in batches per turn, in arrival order, each user once", async () => {
    const now = Date.now();
    const checks: Promise<QueueStatus>[] = [];
    for (let i = 0; i < RUSH; i++) checks.push(queue.check(`fan-${i}`, undefined, now, anyAddress));
    // A fan who checks in again before being let in gets the same (pending) answer.
    const again = queue.check("fan-699", undefined, now, anyAddress);
    // Only the first batch joined in this turn; the rest wait in the intake.
    const joinedNow = queue.active + queue.waiting;
    expect(joinedNow).toBeGreaterThan(0);
    expect(joinedNow).toBeLessThan(RUSH);

    const statuses = await Promise.all(checks);
    expect(queue.active + queue.waiting).toBe(RUSH);
    expect(new Set(statuses.map((s) => s.token)).size).toBe(RUSH);
    // First come, first served: the first ACTIVE_MAX are active, then positions 1, 2, 3, ...
    statuses.forEach((status, i) => {
      if (i < ACTIVE_MAX) expect(status.status).toBe("active");
      else expect(queue.status(status.token, now)).toMatchObject({ status: "waiting", position: i - ACTIVE_MAX + 1 });
    });
    expect((await again).token).toBe(statuses[RUSH - 1]!.token);
    // Every token is durable once its check-in answered.
    expect((await store.reads.startupState()).queueTokens).toHaveLength(RUSH);
  });

  it("refuses check-ins still in the intake when the server stops", async () => {
    const now = Date.now();
    const checks = Array.from({ length: RUSH }, (_, i) => queue.check(`fan-${i}`, undefined, now, anyAddress));
    queue.stop();
    const results = await Promise.allSettled(checks);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "UNAVAILABLE" });
    // Those refused were never joined nor written.
    expect((await store.reads.startupState()).queueTokens).toHaveLength(RUSH - refused.length);
  });
});

describe("queue actor bounds", () => {
  let dir: string;
  let db: Db;
  let queue: QueueActor;

  function makeQueue(waitingMax: number, joinsPerAddress: AddressLimiter): QueueActor {
    dir = mkdtempSync(join(tmpdir(), "bounds-"));
    db = openDatabase(dir, "normal");
    const store = sqliteStore(db);
    const commits = new CommitQueue(store, new InlineWriter(db), {
      onFatal: (error) => {
        throw error;
      },
    });
    const settings = { activeMax: 1, activeTtlMs: 60_000, waitingIdleMs: 60_000, tickMs: 100, waitingMax };
    return new QueueActor(settings, store, commits, joinsPerAddress);
  }

  afterEach(() => {
    queue.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = (check: Promise<unknown>) =>
    check.then(
      () => null,
      (error: ApiError) => ({ code: error.code, retryAfter: error.retryAfter }),
    );

  it("a full line (QUEUE_WAITING_MAX counts every waiting token) turns new fans away with 503 and Retry-After; those already in line keep their place", async () => {
    queue = makeQueue(3, new AddressLimiter({ perSecond: 0, burst: 1 }));
    const now = Date.now();
    // One admitted (activeMax 1), then three waiting: the line is full.
    const first = await Promise.all(
      ["a", "b", "c", "d"].map((user, i) => queue.check(user, undefined, now, () => `10.0.0.${i}`)),
    );
    expect(first.map((s) => s.status)).toEqual(["active", "waiting", "waiting", "waiting"]);
    expect(await refusal(queue.check("e", undefined, now, anyAddress))).toEqual({
      code: "UNAVAILABLE",
      retryAfter: 10,
    });
    // A fan already in line checks in again as usual.
    const again = await queue.check("d", undefined, now, anyAddress);
    expect(again).toMatchObject({ token: first[3]!.token, position: 3 });
    // A place freed (the active token ends, the first waiter is admitted): the next fan gets in.
    queue.endFor("a", now);
    queue.tick(now);
    expect((await queue.check("e", undefined, now, anyAddress)).status).toBe("waiting");
  });

  it("new tokens are limited per client address; refreshes of a live token are not", async () => {
    queue = makeQueue(1_000_000, new AddressLimiter({ perSecond: 1, burst: 3 }));
    const now = Date.now();
    const joined = await Promise.all(["u1", "u2", "u3"].map((user) => queue.check(user, undefined, now, anyAddress)));
    expect(joined).toHaveLength(3);
    expect(await refusal(queue.check("u4", undefined, now, anyAddress))).toEqual({
      code: "RATE_LIMITED",
      retryAfter: 1,
    });
    // Another address is not affected, nor a refresh from the spent one.
    expect((await queue.check("u5", undefined, now, () => "203.0.113.9")).status).toBe("waiting");
    expect((await queue.check("u2", undefined, now, anyAddress)).token).toBe(joined[1]!.token);
    // A second later the address has one more.
    expect((await queue.check("u4", undefined, now + 1000, anyAddress)).status).toBe("waiting");
  });
});
