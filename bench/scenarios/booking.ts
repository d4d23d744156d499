// (b) The WebSocket booking mix at 1,000 connections, closed loop and open loop at fixed rates;
// and holds in durable mode (synchronous=FULL) to show group commit. Given a DATABASE_URL, the
// closed loop and the durable holds run on PostgreSQL instead (the `pg` step, postgres.ts).

import { audit } from "../lib/audit.js";
import { type BenchContext, bookingServer, createCatalog, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { cpuSeconds, errorFigures, runLoads } from "../lib/processes.js";
import { gauge, scrape } from "../lib/serverMetrics.js";
import type { Job, JobResult } from "../load/wsLoad.js";
import { WS_CONNECTIONS } from "./ceilings.js";

function rate(result: JobResult): number {
  return result.ops / (result.elapsedMs / 1000);
}

function latencyOf(results: JobResult[], names?: string[]) {
  const encoded = results.flatMap((r) =>
    Object.entries(r.histograms)
      .filter(([n]) => !names || names.includes(n))
      .map(([, h]) => h),
  );
  return summarize(mergeHistograms(encoded));
}

/** A mix against a fresh server: on SQLite in its data dir, or on PostgreSQL at `databaseUrl`. */
export async function runMix(
  ctx: BenchContext,
  id: string,
  title: string,
  env: Record<string, string>,
  job: Partial<Job>,
  databaseUrl?: string,
): Promise<ScenarioResult> {
  const server = await bookingServer(databaseUrl ? { ...env, DATABASE_URL: databaseUrl } : env);
  try {
    const catalog = await createCatalog(server, 10, 100_000);
    const base: Job = {
      mode: "mix",
      url: server.wsUrl,
      secret: SECRET,
      userPrefix: `${id}-`,
      connections: WS_CONNECTIONS,
      durationMs: ctx.seconds(10, 5) * 1000,
      scheduleIds: catalog.bigScheduleIds,
      seatsPerSchedule: catalog.seatsPerSchedule,
      smallScheduleId: catalog.smallScheduleId,
      ...job,
    };
    let cpuBefore = 0;
    let commitsBefore = "";
    const [result] = await runLoads([base], async () => {
      commitsBefore = await scrape(server.url);
      cpuBefore = cpuSeconds(server.child.pid!);
    });
    const cpu = (cpuSeconds(server.child.pid!) - cpuBefore) / (result!.elapsedMs / 1000);
    // The group commit during the run (warm-up to the end of the load): batches, their size and time.
    const commitsAfter = await scrape(server.url);
    const delta = (name: string) => gauge(commitsAfter, name) - gauge(commitsBefore, name);
    const batches = delta("ticketing_commit_writes_count");
    return {
      id,
      title,
      throughput: rate(result!),
      unit: "ops/s",
      latency: latencyOf([result!]),
      figures: {
        connections: base.connections,
        serverCpuCores: Number(cpu.toFixed(2)),
        ...(job.rate ? { offeredRate: job.rate } : {}),
        ...errorFigures([result!]),
        ...result!.extra,
        ...(batches > 0
          ? {
              commitBatchesPerSecond: Math.round(batches / (result!.elapsedMs / 1000)),
              writesPerBatch: Number((delta("ticketing_commit_writes_sum") / batches).toFixed(1)),
              commitMs: Number(((delta("ticketing_commit_seconds_sum") / batches) * 1000).toFixed(2)),
            }
          : {}),
        holdP99: latencyOf([result!], ["hold"]).p99,
        // Holds that succeeded (a refused hold changes nothing durable).
        holdsPerSecond: Math.round(
          (latencyOf([result!], ["hold"]).count -
            (result!.errors.SEAT_UNAVAILABLE ?? 0) -
            (result!.errors.HOLD_LIMIT ?? 0)) /
            (result!.elapsedMs / 1000),
        ),
      },
      audit: await audit(server, result!.paymentIds, server.url),
    };
  } finally {
    await server.stop();
    server.cleanup();
  }
}

export async function bookingClosedLoop(ctx: BenchContext, databaseUrl?: string): Promise<ScenarioResult> {
  if (databaseUrl)
    return runMix(ctx, "b.mix.closed.pg", "(b) WS booking mix, closed loop, PostgreSQL", {}, {}, databaseUrl);
  return runMix(ctx, "b.mix.closed", "(b) WS booking mix, closed loop", {}, {});
}

export async function bookingOpenLoop(ctx: BenchContext, offered: number): Promise<ScenarioResult> {
  return runMix(ctx, `b.mix.open.${offered}`, `(b) WS hold/release, open loop at ${offered}/s`, {}, { rate: offered });
}

export async function durableHolds(ctx: BenchContext, databaseUrl?: string): Promise<ScenarioResult> {
  // Each user may hold many seats here, so every request is a new hold: one durable change each.
  if (databaseUrl) {
    // PostgreSQL commits durably whatever DURABILITY says (fsync and synchronous_commit on).
    const title = "Holds on PostgreSQL (fsync, synchronous_commit on)";
    return runMix(ctx, "b.durable.pg", title, { MAX_HOLDS_PER_USER: "1000000" }, { mode: "holds" }, databaseUrl);
  }
  return runMix(
    ctx,
    "b.durable",
    "Holds with DURABILITY=full (synchronous=FULL)",
    { DURABILITY: "full", MAX_HOLDS_PER_USER: "1000000" },
    { mode: "holds" },
  );
}

export { rate as opsPerSecond };
