// Runs in a worker thread: checkpoints the WAL on its own connection, so copying pages back into
// the database file (and syncing it) never stalls the event loop that answers requests.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new Database(file);
db.pragma("busy_timeout = 1000");

const timer = setInterval(() => {
  try {
    // PASSIVE never waits for, or blocks, the writer; frames it cannot copy yet wait for the next round.
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort?.postMessage({ type: "error", message: String(error) });
  }
}, intervalMs);

parentPort?.on("message", (message: { type: string }) => {
  if (message.type !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.postMessage({ type: "stopped" });
});
