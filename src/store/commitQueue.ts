// Group commit: writes made during one event-loop turn share one transaction; their promises
// resolve only after it commits, so nothing is acknowledged before it is durable. The Writer
// applies it: SQLite in place at the end of the turn or on the writer thread, PostgreSQL over
// its connection; the event loop goes on and the replies go out when the commit is reported.
// Each commit() call is one unit of the batch: a unit the database declines (a guard of
// writeStatements.ts) is undone alone and its promise rejects with a DeclinedByDatabase.
import { ApiError, type ErrorCode } from "../errors.js";
import type { Store } from "./store.js";
import type { Writer } from "./writer.js";

/** Records writes through the Store's write methods; runs when its turn's batch is formed. */
export type Write = () => void;

/**
 * For a write nobody waits for (an expiry, a token's departure): its failure is the queue's owner's
 * to handle (onFatal stops the process, or a cluster node gives up the room), so it must not also
 * become an unhandled rejection, which ends the whole process.
 */
export const ignoreFailedCommit = (): void => {};

/** A write that changes nothing (an op with no idempotency record, say). */
export const noWrite: Write = () => {};

/** What every service is given to make its writes durable (the CommitQueue, or a test's stand-in). */
export interface Commits {
  /** Queues `write` for this turn's transaction; resolves once that transaction is committed. */
  commit(write: Write): Promise<void>;
  /** Resolves once every write queued so far is committed. */
  afterPending(): Promise<void>;
}

/** The database refused this unit (its balance check, say): nothing of it was written, the rest of the batch was. */
export class DeclinedByDatabase extends ApiError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "DeclinedByDatabase";
  }
}

interface Pending {
  writes: Write[];
  waiters: { done: () => void; fail: (error: unknown) => void }[];
}

export interface CommitQueueHooks {
  /** Seconds one batch took to commit (for the commit-latency histogram). */
  onCommit?: (seconds: number, writes: number) => void;
  /** The commit failed: memory no longer matches disk, so the owner must stop the process. */
  onFatal: (error: unknown) => void;
  /**
   * Runs once per batch before it goes to the writer and throws when it must not commit (the
   * database file was deleted or replaced): the batch then fails like any failed commit. Here,
   * because every batch passes through this queue whichever writer applies it.
   */
  checkStorage?: () => void;
}

export class CommitQueue implements Commits {
  private pending: Pending | null = null;
  /** Resolves when the batch sent last has committed (batches commit in the order sent). */
  private lastSent: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private failed = false;

  constructor(
    private readonly store: Store,
    private readonly writer: Writer,
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

  /** Resolves once every write queued so far is committed (at once when nothing is pending or in flight). */
  afterPending(): Promise<void> {
    if (this.failed) return Promise.reject(unavailable());
    return this.pending !== null ? this.commit(() => {}) : this.lastSent;
  }

  /** Resolves when no batch is waiting to be written or committed (used at shutdown). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((done) => this.idleWaiters.push(done));
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = null;
    if (batch === null) return;
    if (this.failed) {
      this.fail(batch, unavailable());
      return;
    }
    const units = new Array(batch.writes.length);
    try {
      this.hooks.checkStorage?.();
      batch.writes.forEach((write, index) => {
        write();
        units[index] = this.store.takeWrites();
      });
    } catch (error) {
      this.store.takeWrites();
      this.fail(batch, error);
      return;
    }
    const committed = this.writer.write(units).then(
      ({ seconds, declined }) => {
        this.hooks.onCommit?.(seconds, batch.writes.length);
        const refused = new Map(declined.map((d) => [d.unit, d]));
        batch.waiters.forEach((waiter, index) => {
          const no = refused.get(index);
          if (no === undefined) waiter.done();
          else waiter.fail(new DeclinedByDatabase(no.code, no.message));
        });
        this.settle();
      },
      (error) => {
        this.fail(batch, error);
        throw unavailable();
      },
    );
    // afterPending's callers see the failure; unobserved here, it is no unhandled rejection.
    committed.catch(() => {});
    this.lastSent = committed;
  }

  /** A batch did not commit: its requests get 503 and the owner stops the process (once). */
  private fail(batch: Pending, error: unknown): void {
    const first = !this.failed;
    this.failed = true;
    for (const waiter of batch.waiters) waiter.fail(unavailable());
    this.settle();
    if (first) this.hooks.onFatal(error);
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
