// The writer thread: owns the database connection that writes. It applies each batch the main
// thread's group commit sends (threadWriter.ts) in one transaction, in the order they come, and
// answers each one. After a failed batch it applies nothing more: later batches may build on
// the one that failed, so they are refused, and the main thread stops the process.
import { parentPort, workerData } from "node:worker_threads";
import { type Durability, openConnection } from "./db.js";
import { type Declined, WriteStatements, type WriteUnit } from "./writeStatements.js";

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

const port = parentPort;
if (port === null) throw new Error("writerWorker.ts runs as a worker thread");
const { dataDir, durability } = workerData as WriterOptions;
const db = openConnection(dataDir, durability);
const writes = new WriteStatements(db);
let failure: { message: string; code?: string } | null = null;

const reply = (message: FromWriter) => port.postMessage(message);

port.on("message", (message: ToWriter) => {
  if (message.type === "close") {
    db.close();
    reply({ type: "closed" });
    port.close();
    return;
  }
  if (failure !== null) {
    reply({ type: "failed", ...failure });
    return;
  }
  const started = performance.now();
  let declined: Declined[] = [];
  try {
    if (message.units.length > 0) declined = writes.apply(message.units);
  } catch (error) {
    const { message: text, code } = error as { message?: string; code?: string };
    failure = { message: text ?? String(error), ...(code ? { code } : {}) };
    reply({ type: "failed", ...failure });
    return;
  }
  reply({ type: "committed", seconds: (performance.now() - started) / 1000, declined });
});
reply({ type: "ready" });
