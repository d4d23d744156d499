// Group commit, with either writer (in place, or the writer thread used with DURABILITY=full):
// a turn's writes share one transaction, batches commit in the order they were formed, nothing
// resolves before its batch is on disk, and a batch that fails stops everything after it (its
// requests get UNAVAILABLE and the owner is told once).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.js";
import { CommitQueue, DeclinedByDatabase } from "../../src/store/commitQueue.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { InlineWriter } from "../../src/store/inlineWriter.js";
import { sqliteStore } from "../../src/store/sqliteReads.js";
import type { Store } from "../../src/store/store.js";
import { ThreadWriter } from "../../src/store/threadWriter.js";
import type { Writer } from "../../src/store/writer.js";
import { AFTER_DECLINES, commitBatchWithDeclines, outcomes } from "../helpers/declinedBatch.js";

let dir: string;
let db: Db;
let store: Store;
let writer: Writer;
let commits: CommitQueue;
let fatal: unknown[];
let sizes: number[];

const nextTurn = () => new Promise((done) => setImmediate(done));
/** What another process reading the file sees: only committed rows. */
const onDisk = (sql: string) => {
  const reader = new Database(join(dir, "tickets.db"), { readonly: true });
  try {
    return reader.prepare(sql).all();
  } finally {
    reader.close();
  }
};
const charge = (user: string, amount: number) => () => store.credit(user, amount, 1_000_000_000, 0);

type StartWriter = (dir: string, db: Db) => Promise<Writer>;
const inPlace: StartWriter = async (_dir, db) => new InlineWriter(db);
const onThread: StartWriter = (dir) => ThreadWriter.start(dir, "normal");

/** A fresh database and commit queue around the writer `start` makes, for each test. */
function useCommitQueue(start: StartWriter): void {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "commit-queue-"));
    db = openDatabase(dir, "normal");
    store = sqliteStore(db);
    writer = await start(dir, db);
    fatal = [];
    sizes = [];
    commits = new CommitQueue(store, writer, {
      onCommit: (_seconds, writes) => sizes.push(writes),
      onFatal: (error) => fatal.push(error),
    });
  });

  afterEach(async () => {
    await writer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

describe.each([
  ["in place", inPlace],
  ["on the writer thread", onThread],
])("commits %s", (_name, start) => {
  useCommitQueue(start);

  it("commits one transaction per turn and resolves only once it is on disk", async () => {
    const seen: string[] = [];
    const first = [commits.commit(charge("a", 1)), commits.commit(charge("b", 2))];
    for (const promise of first) void promise.then(() => seen.push(JSON.stringify(onDisk("SELECT id FROM users"))));
    expect(onDisk("SELECT id FROM users")).toEqual([]);
    await Promise.all(first);
    expect(sizes).toEqual([2]);
    expect(seen).toEqual(['[{"id":"a"},{"id":"b"}]', '[{"id":"a"},{"id":"b"}]']);
    // The main thread's own connection reads what the writer committed.
    expect((await store.reads.startupState()).balances).toEqual([
      { id: "a", balance: 1 },
      { id: "b", balance: 2 },
    ]);
  });

  it("commits batches in the order they were formed while earlier ones are still in flight", async () => {
    const done: number[] = [];
    const all: Promise<void>[] = [];
    for (let turn = 0; turn < 20; turn++) {
      // The same row each turn: the value on disk at the end says which batch committed last.
      all.push(commits.commit(() => store.setMeta("turn", String(turn))).then(() => void done.push(turn)));
      await nextTurn();
    }
    await Promise.all(all);
    expect(done).toEqual([...Array(20).keys()]);
    expect(onDisk("SELECT value FROM meta WHERE key = 'turn'")).toEqual([{ value: "19" }]);
    await commits.whenIdle();
  });

  it("afterPending waits for batches already sent to the writer, not only the pending one", async () => {
    const write = commits.commit(charge("late", 7));
    await nextTurn(); // the batch is sent; it may still be committing
    let settled = false;
    void write.then(() => {
      settled = true;
    });
    await commits.afterPending();
    expect(settled).toBe(true);
    expect(onDisk("SELECT balance FROM users WHERE id = 'late'")).toEqual([{ balance: 7 }]);
  });

  it("a unit the database declines is undone alone and answered with its guard's code; the rest of the batch commits", async () => {
    const results = await commitBatchWithDeclines(store, commits);
    expect(outcomes(results)).toEqual(AFTER_DECLINES.outcomes);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DeclinedByDatabase);
    expect(sizes).toEqual([1, 5]);
    expect(fatal).toEqual([]);
    expect(onDisk("SELECT id, balance FROM users ORDER BY id")).toEqual(AFTER_DECLINES.balances);
    expect(onDisk("SELECT id FROM payments")).toEqual([]);
    expect(onDisk("SELECT user_id, amount FROM ledger ORDER BY id")).toEqual(AFTER_DECLINES.ledger);
    await commits.commit(charge("after", 1));
  });

  it("a failed batch rolls back whole, answers UNAVAILABLE, tells the owner once and stops later batches", async () => {
    const good = commits.commit(charge("kept", 1));
    await good;
    // A schedule of a concert that does not exist breaks a foreign key: memory and disk disagree.
    // Settled as they come (in place, the doomed batch fails within the next turn).
    const doomed = Promise.allSettled([
      commits.commit(charge("rolled-back", 5)),
      commits.commit(() =>
        store.insertSchedule({
          id: 1,
          concertId: 999,
          startsAt: "2030-01-01T00:00:00.000Z",
          seatCount: 1,
          price: 1,
          venue: null,
          timeZone: null,
        }),
      ),
    ]);
    await nextTurn();
    const after = Promise.allSettled([commits.commit(charge("never", 9))]);
    const results = [...(await doomed), ...(await after)];
    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ApiError);
      expect(((result as PromiseRejectedResult).reason as ApiError).code).toBe("UNAVAILABLE");
    }
    expect(fatal).toHaveLength(1);
    expect(String(fatal[0])).toContain("FOREIGN KEY");
    expect(onDisk("SELECT id FROM users ORDER BY id")).toEqual([{ id: "kept" }]);
    await expect(commits.commit(charge("refused", 1))).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await expect(commits.afterPending()).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("a batch the storage check refuses fails like a failed commit: UNAVAILABLE, the owner told once, none of it on disk", async () => {
    let deleted = false;
    const checked = new CommitQueue(store, writer, {
      onFatal: (error) => fatal.push(error),
      checkStorage: () => {
        if (deleted) throw new Error("the database file tickets.db was deleted");
      },
    });
    await checked.commit(charge("before", 1));
    deleted = true;
    await expect(checked.commit(charge("after", 2))).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(fatal).toHaveLength(1);
    expect(String(fatal[0])).toContain("deleted");
    expect(onDisk("SELECT id FROM users ORDER BY id")).toEqual([{ id: "before" }]);
    // Nothing more commits, even if the check would pass again: memory already went past the disk.
    deleted = false;
    await expect(checked.commit(charge("later", 3))).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});

describe("the writer thread", () => {
  useCommitQueue(onThread);

  it("a writer thread that dies mid-batch fails that batch, which never reaches the disk", async () => {
    // Big enough that the thread is still applying it when it is stopped.
    const lost = commits.commit(() => {
      for (let i = 0; i < 300_000; i++) store.credit(`bulk-${i}`, i + 1, 1_000_000_000, 0);
    });
    await nextTurn();
    await (writer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(lost).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(fatal).toHaveLength(1);
    expect(onDisk("SELECT COUNT(*) AS n FROM users")).toEqual([{ n: 0 }]);
    await expect(commits.commit(charge("after", 1))).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });
});
