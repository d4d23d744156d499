// Group commit: writes made during one event-loop turn share one SQLite transaction; their
// promises resolve only after it commits, so nothing is acknowledged before it is durable.
import { ApiError } from "../errors.js";
import type { Db } from "./db.js";

export type Write = () => void;

interface Pending {
  writes: Write[];
  waiters: { done: () => void; fail: (error: unknown) => void }[];
}

export interface CommitQueueHooks {
  /** Seconds one batch took to commit (for the commit-latency histogram). */
  onCommit?: (seconds: number, writes: number) => void;
  /** The commit failed: memory no longer matches disk, so the owner must stop the process. */
  onFatal: (error: unknown) => void;
}

export class CommitQueue {
  private pending: Pending | null = null;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private failed = false;

  constructor(
    private readonly db: Db,
    private readonly hooks: CommitQueueHooks,
  ) {}

  /** Queues `write` for this turn's transaction; resolves once that transaction is committed. */
  commit(write: Write): Promise<void> {
    if (this.failed) return Promise.reject(unavailable());
    if (this.pending === null) {
      this.pending = { writes: [], waiters: [] };
      this.inFlight++;
      setImmediate(() => this.flush());
    }
    const batch = this.pending;
    batch.writes.push(write);
    return new Promise((done, fail) => batch.waiters.push({ done, fail }));
  }

  /** Resolves once every write queued so far is committed (at once when nothing is pending). */
  async afterPending(): Promise<void> {
    while (this.pending !== null) await this.commit(() => {});
  }

  /** Resolves when no batch is waiting to be written (used at shutdown). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((done) => this.idleWaiters.push(done));
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = null;
    if (batch === null) return;
    const started = performance.now();
    try {
      this.db.transaction(() => {
        for (const write of batch.writes) write();
      })();
    } catch (error) {
      this.failed = true;
      for (const waiter of batch.waiters) waiter.fail(unavailable());
      this.settle();
      this.hooks.onFatal(error);
      return;
    }
    this.hooks.onCommit?.((performance.now() - started) / 1000, batch.writes.length);
    for (const waiter of batch.waiters) waiter.done();
    this.settle();
  }

  private settle(): void {
    this.inFlight--;
    if (this.inFlight > 0) return;
    for (const done of this.idleWaiters.splice(0)) done();
  }
}

function unavailable(): ApiError {
  return new ApiError("UNAVAILABLE", "storage is unavailable; the server is restarting");
}
