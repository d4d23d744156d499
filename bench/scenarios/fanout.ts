// (d) Fan-out: one schedule with 10,000 subscribers while its seats change 1,000 times a second.
import { type BenchContext, bookingServer, createCatalog, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { cpuSeconds, forkLoad } from "../lib/processes.js";

export async function fanout(ctx: BenchContext): Promise<ScenarioResult> {
  const subscribers = ctx.quick ? 4000 : 10_000;
  const server = await bookingServer({ MAX_HOLDS_PER_USER: "100" });
  try {
    const catalog = await createCatalog(server, 1, 2000);
    const durationMs = ctx.seconds(10, 5) * 1000;
    // Generator 0 drives the changes and times delivery on a small sample of subscribers, so its
    // own event loop stays responsive; three more generators hold the other subscribers.
    const sampled = 200;
    const bystanders = 3;
    const sizes = [
      sampled,
      ...Array.from({ length: bystanders }, () => Math.ceil((subscribers - sampled) / bystanders)),
    ];
    const loads = sizes.map((size, index) =>
      forkLoad({
        mode: "fanout",
        url: server.wsUrl,
        secret: SECRET,
        userPrefix: `sub${index}-`,
        // The first connection of each generator is its driver; only generator 0 drives.
        connections: size + 1,
        durationMs,
        scheduleIds: catalog.bigScheduleIds,
        seatsPerSchedule: 2000,
        changesPerSecond: index === 0 ? 1000 : 0,
        sampleEvery: index === 0 ? 1 : Number.MAX_SAFE_INTEGER,
      }),
    );
    await Promise.all(loads.map((load) => load.ready));
    const cpuBefore = cpuSeconds(server.child.pid!);
    const results = await Promise.all(loads.map((load) => load.go()));
    const cpu = (cpuSeconds(server.child.pid!) - cpuBefore) / (durationMs / 1000 + 0.5);
    for (const load of loads) load.release();
    const delivery = summarize(mergeHistograms(results.map((r) => r.histograms.delivery!).filter(Boolean)));
    const pushes = results.reduce((sum, r) => sum + (r.extra.pushesReceived ?? 0), 0);
    return {
      id: "d.fanout",
      title: `(d) Fan-out: ${subscribers} subscribers, 1,000 changes/s`,
      throughput: pushes / (durationMs / 1000),
      unit: "frames/s delivered",
      latency: delivery,
      figures: {
        subscribers,
        serverCpuCores: Number(cpu.toFixed(2)),
        pushes,
        changes: results[0]!.extra.changesIssued ?? 0,
        holdP99: summarize(mergeHistograms([results[0]!.histograms.hold!])).p99,
        ...Object.fromEntries(Object.entries(results[0]!.errors).map(([code, n]) => [`err.${code}`, n])),
      },
      targets: {
        "p99 change-to-delivery (ms)": { measured: delivery.p99, target: "< 100", met: delivery.p99 < 100 },
        "server CPU (cores)": { measured: Number(cpu.toFixed(2)), target: "< 1", met: cpu < 1 },
      },
    };
  } finally {
    await server.stop();
    server.cleanup();
  }
}
