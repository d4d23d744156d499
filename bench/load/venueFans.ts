// 1,000 fans at once (step l, issue 16), as its own process (forkWorker): one WebSocket and one
// user per fan, each checked in (an active queue token), then "ready". Each `{type: "phase"}`
// sends every fan's request(s) in one go and answers `{type: "phase", ...}` when all replied:
//   best:    reservations.best {scheduleId, count}
//   singles: reservations.create of each of the fan's `seats[i]` (its seats in flight together)
// `{type: "release"}` releases every reservation the last phase made (unmeasured), `{type: "stop"}` ends.
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { userJwt } from "../../tests/helpers/server.js";
import { createHistogram, encodeHistogram, type Histogram, recordMs } from "../lib/histogram.js";
import { connectMany, type LoadClient } from "./wsClient.js";

export interface VenueFansJob {
  url: string;
  secret: string;
  userPrefix: string;
  fans: number;
}

export type FansPhase =
  | { type: "phase"; kind: "best"; scheduleId: number; count: number }
  | { type: "phase"; kind: "singles"; scheduleId: number; seats: number[][] };

export interface FansPhaseResult {
  /** Seat numbers each fan got (a block for best; its held singles otherwise), [] when refused. */
  got: number[][];
  /** Labels of the best blocks' seats ("<row>-<k>"), and their sections. */
  labels: string[][];
  sections: string[][];
  /** Each fan's reservations, as `got`. */
  reservationIds: number[][];
  /** From the first request sent to the last reply, ms. */
  elapsedMs: number;
  /** `op`: each request; `fan`: a fan's first send to its last reply. */
  histograms: Record<string, string>;
  errors: Record<string, number>;
  generatorCpuCores: number;
  generatorLagP99Ms: number;
}

const send = (message: object) => process.send?.(message);

async function runPhase(clients: LoadClient[], phase: FansPhase): Promise<FansPhaseResult> {
  const op = createHistogram();
  const fan = createHistogram();
  const errors: Record<string, number> = {};
  const got: number[][] = clients.map(() => []);
  const labels: string[][] = clients.map(() => []);
  const sections: string[][] = clients.map(() => []);
  const reservationIds: number[][] = clients.map(() => []);
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const cpuAtStart = process.cpuUsage();
  const refused = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const timed = async (histogram: Histogram, run: () => Promise<void>) => {
    const started = performance.now();
    await run();
    recordMs(histogram, performance.now() - started);
  };
  const started = performance.now();
  // Every request is written before any reply is read: the sends run in this one turn.
  await Promise.all(
    clients.map((client, i) =>
      timed(fan, async () => {
        if (phase.kind === "best") {
          await timed(op, async () => {
            const reply = await client.request("reservations.best", {
              scheduleId: phase.scheduleId,
              count: phase.count,
            });
            if (!reply.ok) return refused(reply.error!.code);
            for (const r of reply.data.reservations as {
              reservationId: number;
              seatNo: number;
              label: string;
              section: string;
            }[]) {
              got[i]!.push(r.seatNo);
              labels[i]!.push(r.label);
              sections[i]!.push(r.section);
              reservationIds[i]!.push(r.reservationId);
            }
          });
          return;
        }
        await Promise.all(
          (phase.seats[i] ?? []).map((seatNo) =>
            timed(op, async () => {
              const reply = await client.request("reservations.create", { scheduleId: phase.scheduleId, seatNo });
              if (!reply.ok) return refused(reply.error!.code);
              got[i]!.push(reply.data.seatNo);
              reservationIds[i]!.push(reply.data.reservationId);
            }),
          ),
        );
      }),
    ),
  );
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuAtStart);
  lag.disable();
  return {
    got,
    labels,
    sections,
    reservationIds,
    elapsedMs,
    histograms: { op: encodeHistogram(op), fan: encodeHistogram(fan) },
    errors,
    generatorCpuCores: Number(((cpu.user + cpu.system) / 1000 / elapsedMs).toFixed(2)),
    generatorLagP99Ms: Number((lag.percentile(99) / 1e6).toFixed(1)),
  };
}

async function main(job: VenueFansJob): Promise<void> {
  const jwt = (i: number) => userJwt(`${job.userPrefix}${i}`, 24 * 3600, job.secret);
  const clients = await connectMany(job.url, job.fans, jwt);
  for (const reply of await Promise.all(clients.map((client) => client.request("queue.check")))) {
    if (!reply.ok || reply.data.status !== "active")
      throw new Error(`a fan was not admitted: ${JSON.stringify(reply)}`);
  }
  let last: { client: LoadClient; reservationId: number }[] = [];
  send({ type: "ready" });
  process.on("message", (message: FansPhase | { type: "release" } | { type: "stop" }) => {
    if (message.type === "stop") {
      for (const client of clients) client.close();
      setTimeout(() => process.exit(0), 100);
      return;
    }
    if (message.type === "release") {
      const releasing = last;
      last = [];
      Promise.all(
        releasing.map(({ client, reservationId }) => client.request("reservations.release", { reservationId })),
      ).then(
        (replies) => send({ type: "released", failed: replies.filter((r) => !r.ok).length }),
        (error) => send({ type: "error", message: String(error?.stack ?? error) }),
      );
      return;
    }
    runPhase(clients, message).then(
      (result) => {
        // Fan i's reservations were made on clients[i]: released there.
        for (const [i, ids] of result.reservationIds.entries()) {
          for (const reservationId of ids) last.push({ client: clients[i]!, reservationId });
        }
        send({ type: "phase", ...result });
      },
      (error) => send({ type: "error", message: String(error?.stack ?? error) }),
    );
  });
}

process.once("message", (job: VenueFansJob) => {
  main(job).catch((error) => {
    send({ type: "error", message: String(error?.stack ?? error) });
    process.exit(1);
  });
});
