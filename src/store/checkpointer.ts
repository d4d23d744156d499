// Starts and stops the WAL checkpoint worker (checkpointWorker.ts).
import { Worker } from "node:worker_threads";

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(file: string, intervalMs: number, onError: (message: string) => void): Checkpointer {
  const worker = new Worker(new URL("./checkpointWorker.js", import.meta.url), { workerData: { file, intervalMs } });
  worker.on("message", (message: { type: string; message?: string }) => {
    if (message.type === "error") onError(message.message ?? "checkpoint failed");
  });
  worker.on("error", (error) => onError(String(error)));
  worker.unref();
  return {
    stop: () =>
      new Promise<void>((done) => {
        const timeout = setTimeout(() => void worker.terminate().then(() => done()), 2000);
        worker.once("message", (message: { type: string }) => {
          if (message.type !== "stopped") return;
          clearTimeout(timeout);
          void worker.terminate().then(() => done());
        });
        worker.postMessage({ type: "stop" });
      }),
  };
}
