// The waiting room's intake: a rush of check-ins joins in bounded batches, one per event-loop
// turn, in arrival order, so the booking path keeps being served while fans pour in.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { QueueActor, type QueueStatus } from "../../src/actors/queue.js";
import { CommitQueue } from "../../src/store/commitQueue.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { Store } from "../../src/store/store.js";
import { WriterThread } from "../../src/store/writerThread.js";

const ACTIVE_MAX = 10;
const RUSH = 700;

describe("queue actor intake", () => {
  let dir: string;
  let db: Db;
  let store: Store;
  let writer: WriterThread;
  let queue: QueueActor;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "intake-"));
    db = openDatabase(dir, "normal");
    store = new Store(db);
    writer = await WriterThread.start(dir, "normal");
    const commits = new CommitQueue(store, writer, {
      onFatal: (error) => {
        throw error;
      },
    });
    queue = new QueueActor(
      { activeMax: ACTIVE_MAX, activeTtlMs: 60_000, waitingIdleMs: 60_000, tickMs: 100 },
      store,
      commits,
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
    for (let i = 0; i < RUSH; i++) checks.push(queue.check(`fan-${i}`, undefined, now));
    // A fan who checks in again before being let in gets the same (pending) answer.
    const again = queue.check("fan-699", undefined, now);
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
    expect(store.allQueueTokens()).toHaveLength(RUSH);
  });

  it("refuses check-ins still in the intake when the server stops", async () => {
    const now = Date.now();
    const checks = Array.from({ length: RUSH }, (_, i) => queue.check(`fan-${i}`, undefined, now));
    queue.stop();
    const results = await Promise.allSettled(checks);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "UNAVAILABLE" });
    // Those refused were never joined nor written.
    expect(store.allQueueTokens()).toHaveLength(RUSH - refused.length);
  });
});
