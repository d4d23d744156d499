// (d) Fan-out: one schedule with 10,000 subscribers while its seats change 1,000 times a second.
import { fork } from "node:child_process";
import { join } from "node:path";
import { type BenchContext, bookingServer, createCatalog, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { cpuSeconds, errorFigures, forkLoad, startCeilingServer } from "../lib/processes.js";
import type { BystanderJob } from "../load/bystanders.js";

/** Subscribers whose delivery latency is timed, in the generator that also drives the changes. */
const SAMPLED = 200;
const BYSTANDER_PROCESSES = 2;

function forkBystanders(job: BystanderJob) {
  const child = fork(join(import.meta.dirname, "../load/bystanders.js"), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const messages: { type: string; frames?: number; message?: string }[] = [];
  const waiters: (() => void)[] = [];
  child.on("message", (m: { type: string }) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (type: string) => {
    for (;;) {
      const found = messages.find((m) => m.type === type || m.type === "error");
      if (found?.type === "error") throw new Error(`bystanders failed: ${found.message}`);
      if (found) return found;
      await new Promise<void>((done) => waiters.push(done));
    }
  };
  child.send(job);
  return {
    ready: next("ready"),
    go: () => child.send({ type: "go" }),
    finish: async () => {
      child.send({ type: "release" });
      return (await next("result")).frames ?? 0;
    },
  };
}

interface FanoutTarget {
  wsUrl: string;
  port: number;
  pid: number;
  scheduleId: number;
  /** The bare uWS ceiling server: the driver coalesces and publishes, nothing else happens. */
  ceiling: boolean;
}

async function measureFanout(ctx: BenchContext, subscribers: number, target: FanoutTarget) {
  const durationMs = ctx.seconds(10, 5) * 1000;
  const driver = forkLoad({
    mode: "fanout",
    url: target.wsUrl,
    secret: SECRET,
    userPrefix: "sampled-",
    connections: SAMPLED + 1,
    durationMs,
    scheduleIds: [target.scheduleId],
    seatsPerSchedule: 2000,
    changesPerSecond: 1000,
    sampleEvery: 1,
    ceiling: target.ceiling,
  });
  const perProcess = Math.ceil((subscribers - SAMPLED) / BYSTANDER_PROCESSES);
  const bystanders = Array.from({ length: BYSTANDER_PROCESSES }, (_, index) =>
    forkBystanders({
      port: target.port,
      secret: SECRET,
      userPrefix: `bystander${index}-`,
      count: perProcess,
      scheduleId: target.scheduleId,
    }),
  );
  await Promise.all([driver.ready, ...bystanders.map((b) => b.ready)]);
  const cpuBefore = cpuSeconds(target.pid);
  for (const b of bystanders) b.go();
  const result = await driver.go();
  const cpu = (cpuSeconds(target.pid) - cpuBefore) / (durationMs / 1000 + 0.5);
  driver.release();
  const bystanderFrames = (await Promise.all(bystanders.map((b) => b.finish()))).reduce((a, b) => a + b, 0);
  const pushes = (result.extra.pushesReceived ?? 0) + bystanderFrames;
  return {
    delivery: summarize(mergeHistograms([result.histograms.delivery!].filter(Boolean))),
    framesPerSecond: pushes / (durationMs / 1000),
    figures: {
      subscribers: SAMPLED + perProcess * BYSTANDER_PROCESSES,
      serverCpuCores: Number(cpu.toFixed(2)),
      pushes,
      changes: result.extra.changesIssued ?? 0,
      ...errorFigures([result]),
    },
  };
}

function subscriberCount(ctx: BenchContext): number {
  return ctx.quick ? 4000 : 10_000;
}

/** The same fan-out against bare uWS: what delivery costs on this machine with no server logic. */
export async function fanoutCeiling(ctx: BenchContext): Promise<ScenarioResult> {
  const server = await startCeilingServer();
  try {
    const subscribers = subscriberCount(ctx);
    const target = { wsUrl: `ws://127.0.0.1:${server.port}/v1/ws`, port: server.port, pid: server.pid, scheduleId: 1 };
    const run = await measureFanout(ctx, subscribers, { ...target, ceiling: true });
    return {
      id: "ceiling.fanout",
      title: `uWS publish to ${subscribers} subscribers, 20 ms windows`,
      throughput: run.framesPerSecond,
      unit: "frames/s delivered",
      latency: run.delivery,
      figures: run.figures,
    };
  } finally {
    server.stop();
  }
}

export async function fanout(ctx: BenchContext): Promise<ScenarioResult> {
  const subscribers = subscriberCount(ctx);
  const server = await bookingServer({ MAX_HOLDS_PER_USER: "100" });
  try {
    const catalog = await createCatalog(server, 1, 2000);
    const run = await measureFanout(ctx, subscribers, {
      wsUrl: server.wsUrl,
      port: server.port,
      pid: server.child.pid!,
      scheduleId: catalog.bigScheduleIds[0]!,
      ceiling: false,
    });
    const cpu = run.figures.serverCpuCores;
    return {
      id: "d.fanout",
      title: `(d) Fan-out: ${subscribers} subscribers, 1,000 changes/s`,
      throughput: run.framesPerSecond,
      unit: "frames/s delivered",
      latency: run.delivery,
      figures: run.figures,
      targets: {
        "p99 change-to-delivery (ms)": { measured: run.delivery.p99, target: "< 100", met: run.delivery.p99 < 100 },
        "server CPU (cores)": { measured: cpu, target: "< 1", met: cpu < 1 },
      },
    };
  } finally {
    await server.stop();
    server.cleanup();
  }
}
