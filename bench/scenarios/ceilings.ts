// Ceilings measured in the same run: static uWS HTTP, uWS WebSocket echo, SQLite commits.
import { singleRowCommitsPerSecond } from "../ceilings/sqliteCommits.js";
import type { BenchContext, ScenarioResult } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { autocannon, cpuSeconds, runLoads, startCeilingServer } from "../lib/processes.js";

export const HTTP_CONNECTIONS = 100;
export const WS_CONNECTIONS = 1000;

/**
 * The ceilings. They run once before the scenarios, and the HTTP and echo ones once more after
 * the scenarios they are compared with (`again`, ids ending in `.after`): on a shared VM a
 * noisy minute moves a single reading by up to 2x, and the ratios use the mean of the two.
 */
export async function ceilings(ctx: BenchContext, again = false): Promise<ScenarioResult[]> {
  const suffix = again ? ".after" : "";
  const server = await startCeilingServer();
  try {
    const http = await autocannon(`http://127.0.0.1:${server.port}/ping`, {
      connections: HTTP_CONNECTIONS,
      seconds: ctx.seconds(10, 5),
    });
    let echoCpuBefore = 0;
    const [echo] = await runLoads(
      [
        {
          mode: "echo",
          url: `ws://127.0.0.1:${server.port}/v1/ws`,
          secret: "",
          userPrefix: "echo-",
          connections: WS_CONNECTIONS,
          durationMs: ctx.seconds(10, 5) * 1000,
        },
      ],
      () => {
        echoCpuBefore = cpuSeconds(server.pid);
      },
    );
    const results: ScenarioResult[] = [
      {
        id: `ceiling.http${suffix}`,
        title: "uWS static GET /ping (autocannon)",
        throughput: http.requestsPerSecond,
        unit: "req/s",
        latency: { count: 0, p50: http.p50, p90: Number.NaN, p99: http.p99, max: Number.NaN },
        figures: { connections: HTTP_CONNECTIONS },
      },
      {
        id: `ceiling.ws${suffix}`,
        title: "uWS WebSocket echo, MessagePack",
        throughput: echo!.ops / (echo!.elapsedMs / 1000),
        unit: "msg/s",
        latency: summarize(mergeHistograms(Object.values(echo!.histograms))),
        figures: {
          connections: WS_CONNECTIONS,
          serverCpuCores: Number(((cpuSeconds(server.pid) - echoCpuBefore) / (echo!.elapsedMs / 1000)).toFixed(2)),
          generatorCpuCores: echo!.extra.generatorCpuCores!,
        },
      },
    ];
    if (again) return results;
    const normal = singleRowCommitsPerSecond("NORMAL", ctx.seconds(3, 1) * 1000);
    const full = singleRowCommitsPerSecond("FULL", ctx.seconds(3, 1) * 1000);
    results.push({
      id: "ceiling.sqlite",
      title: "SQLite WAL single-row commits",
      throughput: normal,
      unit: "commits/s",
      figures: { normal: Math.round(normal), full: Math.round(full) },
    });
    return results;
  } finally {
    server.stop();
  }
}
