// The main thread's handle on the writer thread (writer.ts): sends it batches of writes and
// resolves each batch's promise when its transaction has committed. Replies come back in the
// order batches were sent, so a FIFO of waiters matches them up. The choice for
// `synchronous=FULL`: the event loop goes on with the next turn while a commit waits for fsync.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Durability } from "./db.js";
import type { FromWriter, ToWriter, WriterOptions } from "./writer.js";
import type { WriteOp, Writer } from "./writes.js";

interface Waiter {
  done: (seconds: number) => void;
  fail: (error: Error) => void;
}

export class WriterThread implements Writer {
  private readonly waiters: Waiter[] = [];
  private dead: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (message: FromWriter) => this.receive(message));
    worker.on("error", (error) => this.die(error));
    worker.on("exit", (code) => this.die(new Error(`the writer thread exited (code ${code})`)));
  }

  /** Starts the writer on the database in `dataDir` (already migrated) and waits until it can write. */
  static start(dataDir: string, durability: Durability): Promise<WriterThread> {
    const workerData: WriterOptions = { dataDir, durability };
    const worker = new Worker(writerEntry(), { workerData });
    return new Promise((done, fail) => {
      const failed = (error: unknown) => fail(error instanceof Error ? error : new Error(String(error)));
      worker.once("error", failed);
      worker.once("message", (message: FromWriter) => {
        worker.off("error", failed);
        if (message.type === "ready") done(new WriterThread(worker));
        else failed(new Error(`the writer thread said ${message.type} before ready`));
      });
    });
  }

  /** Applies `ops` in one transaction after every batch sent before; resolves with its commit time in seconds. */
  write(ops: WriteOp[]): Promise<number> {
    if (this.dead !== null) return Promise.reject(this.dead);
    return new Promise((done, fail) => {
      this.waiters.push({ done, fail });
      this.send({ type: "batch", ops });
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
    if (message.type === "committed") this.waiters.shift()?.done(message.seconds);
    else if (message.type === "failed") {
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
 * The built writer script. The server runs from dist/ and finds it beside this file; vitest
 * runs the TypeScript sources, and a worker needs JavaScript, so there it takes the build
 * (`npm test` builds first).
 */
function writerEntry(): URL {
  const here = import.meta.url;
  const entry = here.endsWith(".ts") ? new URL("../../dist/src/store/writer.js", here) : new URL("./writer.js", here);
  if (!existsSync(entry)) throw new Error(`${fileURLToPath(entry)} is missing: run \`npm run build\` first`);
  return entry;
}
