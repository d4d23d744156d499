// The same ops sent to a room's owner and to a node that forwards them over NATS, as its own
// process (forkWorker): it connects `connections` WebSockets to each target and checks each in,
// says "ready", then runs each `{type: "phase"}` it is sent as a closed loop on the first
// `connections` sockets of that target and answers `{type: "phase", ...}` with its histograms.
//   list:  seats.list of a 100-seat schedule (a read the owner answers from memory)
//   pairs: reservations.create of a random seat, then reservations.release of it (two commits)
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { userJwt } from "../../tests/helpers/server.js";
import { createHistogram, encodeHistogram, type Histogram, recordMs } from "../lib/histogram.js";
import { connectMany, type LoadClient } from "./wsClient.js";

export interface RoutedOpsJob {
  /** One URL per target (e.g. [owner, another node]). */
  urls: string[];
  secret: string;
  userPrefix: string;
  connections: number;
  listScheduleId: number;
  holdScheduleId: number;
  holdSeats: number;
}

export interface Phase {
  type: "phase";
  target: number;
  op: "list" | "pairs";
  connections: number;
  ms: number;
}

export interface PhaseResult {
  ops: number;
  elapsedMs: number;
  histograms: Record<string, string>;
  errors: Record<string, number>;
  generatorCpuCores: number;
  generatorLagP99Ms: number;
}

const send = (message: object) => process.send?.(message);

async function runPhase(job: RoutedOpsJob, clients: LoadClient[], phase: Phase): Promise<PhaseResult> {
  const histograms = new Map<string, Histogram>();
  const errors: Record<string, number> = {};
  let ops = 0;
  const timed = async (client: LoadClient, name: string, op: string, args: object) => {
    const started = performance.now();
    const reply = await client.request(op, args);
    let histogram = histograms.get(name);
    if (!histogram) histograms.set(name, (histogram = createHistogram()));
    recordMs(histogram, performance.now() - started);
    ops++;
    if (!reply.ok) errors[reply.error!.code] = (errors[reply.error!.code] ?? 0) + 1;
    return reply;
  };
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  const deadline = started + phase.ms;
  await Promise.all(
    clients.slice(0, phase.connections).map(async (client) => {
      while (performance.now() < deadline) {
        if (phase.op === "list") {
          await timed(client, "seats.list", "seats.list", { scheduleId: job.listScheduleId });
          continue;
        }
        const seatNo = Math.floor(Math.random() * job.holdSeats) + 1;
        const hold = await timed(client, "hold", "reservations.create", { scheduleId: job.holdScheduleId, seatNo });
        if (hold.ok) await timed(client, "release", "reservations.release", { reservationId: hold.data.reservationId });
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuAtStart);
  lag.disable();
  return {
    ops,
    elapsedMs,
    histograms: Object.fromEntries([...histograms].map(([name, h]) => [name, encodeHistogram(h)])),
    errors,
    generatorCpuCores: Number(((cpu.user + cpu.system) / 1000 / elapsedMs).toFixed(2)),
    generatorLagP99Ms: Number((lag.percentile(99) / 1e6).toFixed(1)),
  };
}

async function main(job: RoutedOpsJob): Promise<void> {
  const targets: LoadClient[][] = [];
  for (const [index, url] of job.urls.entries()) {
    const jwt = (i: number) => userJwt(`${job.userPrefix}${index}-${i}`, 24 * 3600, job.secret);
    const clients = await connectMany(url, job.connections, jwt);
    await Promise.all(clients.map((client) => client.request("queue.check")));
    targets.push(clients);
  }
  send({ type: "ready" });
  process.on("message", (message: Phase | { type: "stop" }) => {
    if (message.type === "stop") {
      for (const client of targets.flat()) client.close();
      setTimeout(() => process.exit(0), 100);
      return;
    }
    runPhase(job, targets[message.target]!, message).then(
      (result) => send({ type: "phase", ...result }),
      (error) => send({ type: "error", message: String(error?.stack ?? error) }),
    );
  });
}

process.once("message", (job: RoutedOpsJob) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});
