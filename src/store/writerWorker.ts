// The writer thread: owns the database connection that writes. It applies the batches the main
// thread's group commit sends (threadWriter.ts) in the order they come, and answers each one;
// the batches that arrived while a commit waited for fsync share the next transaction. After a
// failed batch it applies nothing more: later batches may build on the one that failed, so they
// are refused, and the main thread stops the process.
import { parentPort, workerData } from "node:worker_threads";
import { type Durability, openConnection } from "./db.js";
import { type Declined, declinedPerBatch, WriteStatements, type WriteUnit } from "./writeStatements.js";

export interface WriterOptions {
  dataDir: string;
  durability: Durability;
}

export type ToWriter = { type: "batch"; units: WriteUnit[] } | { type: "close" };
export type FromWriter =
  | { type: "ready" }
  | { type: "committed"; seconds: number; declined: Declined[] }
  | { type: "failed"; message: string; code?: string }
  | { type: "closed" };

if (parentPort === null) throw new Error("writerWorker.ts runs as a worker thread");
const port = parentPort;
const { dataDir, durability } = workerData as WriterOptions;
const db = openConnection(dataDir, durability);
const writes = new WriteStatements(db);
let failure: { message: string; code?: string } | null = null;

const reply = (message: FromWriter) => port.postMessage(message);

/** Batches received and not yet applied: those that arrived while a commit waited for fsync go in one transaction. */
let received: WriteUnit[][] = [];
let closing = false;

port.on("message", (message: ToWriter) => {
  if (message.type === "close") {
    closing = true;
    if (received.length === 0) close();
    return;
  }
  received.push(message.units);
  if (received.length === 1) setImmediate(applyReceived);
});

/** Applies every batch received so far in one transaction and answers each, in order, for its own units. */
function applyReceived(): void {
  const batches = received;
  received = [];
  if (failure === null) {
    const started = performance.now();
    try {
      const units = batches.flat();
      const declined = units.length > 0 ? writes.apply(units) : [];
      const seconds = (performance.now() - started) / 1000;
      for (const own of declinedPerBatch(
        batches.map((batch) => batch.length),
        declined,
      )) {
        reply({ type: "committed", seconds, declined: own });
      }
    } catch (error) {
      const { message: text, code } = error as { message?: string; code?: string };
      failure = { message: text ?? String(error), ...(code ? { code } : {}) };
    }
  }
  if (failure !== null) for (const _ of batches) reply({ type: "failed", ...failure });
  if (closing) close();
}

function close(): void {
  db.close();
  reply({ type: "closed" });
  port.close();
}
reply({ type: "ready" });
