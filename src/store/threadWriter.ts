// The main thread's handle on the writer thread (writerWorker.ts): sends it batches of writes and
// resolves each batch's promise when its transaction has committed. Replies come back in the
// order batches were sent, so a FIFO of waiters matches them up. The choice for
// `synchronous=FULL`: the event loop goes on with the next turn while a commit waits for fsync.
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { projectPath } from "../projectPath.js";
import type { Durability } from "./db.js";
import type { Writer } from "./writer.js";
import type { FromWriter, ToWriter, WriterOptions } from "./writerWorker.js";
import type { Committed, WriteUnit } from "./writeStatements.js";

interface Waiter {
  done: (committed: Committed) => void;
  fail: (error: Error) => void;
}

export class ThreadWriter implements Writer {
  private readonly waiters: Waiter[] = [];
  private dead: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (message: FromWriter) => this.receive(message));
    worker.on("error", (error) => this.die(error));
    worker.on("exit", (code) => this.die(new Error(`the writer thread exited (code ${code})`)));
  }

  /** Starts the writer on the database in `dataDir` (already migrated) and waits until it can write. */
  static start(dataDir: string, durability: Durability): Promise<ThreadWriter> {
    const workerData: WriterOptions = { dataDir, durability };
    const worker = new Worker(writerEntry(), { workerData });
    return new Promise((done, fail) => {
      const failed = (error: unknown) => fail(error instanceof Error ? error : new Error(String(error)));
      worker.once("error", failed);
      worker.once("message", (message: FromWriter) => {
        worker.off("error", failed);
        if (message.type === "ready") done(new ThreadWriter(worker));
        else failed(new Error(`the writer thread said ${message.type} before ready`));
      });
    });
  }

  /** Applies `units` in one transaction after every batch sent before; resolves once committed. */
  write(units: WriteUnit[]): Promise<Committed> {
    if (this.dead !== null) return Promise.reject(this.dead);
    return new Promise((done, fail) => {
      this.waiters.push({ done, fail });
      this.send({ type: "batch", units });
    });
  }

  /** Waits for the batches already sent, then closes the writer's connection and ends the thread. */
  close(): Promise<void> {
    this.closing ??= new Promise((done) => {
      if (this.dead !== null) return done();
      this.worker.once("exit", () => done());
      this.send({ type: "close" });
    });
    return this.closing;
  }

  private send(message: ToWriter): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromWriter): void {
    if (message.type === "committed") {
      this.waiters.shift()?.done({ seconds: message.seconds, declined: message.declined });
    } else if (message.type === "failed") {
      const error = Object.assign(new Error(message.message), message.code ? { code: message.code } : {});
      this.waiters.shift()?.fail(error);
    } else if (message.type === "closed") this.dead = new Error("the writer thread is closed");
  }

  /** The thread is gone: nothing sent to it will commit. */
  private die(error: Error): void {
    this.dead ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.fail(this.dead);
  }
}

/**
 * The built worker script. A worker needs JavaScript, so also under vitest (which runs the
 * TypeScript sources) it is the build's (`npm test` builds first).
 */
function writerEntry(): string {
  const entry = projectPath("dist", "src", "store", "writerWorker.js");
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  return entry;
}
