// (g) Bad-token flood: a real user's latency, idle and while one client address floods bad
// tokens at a fixed rate; with the per-address limit at its default, and without it (before).
import { startServer, userJwt } from "../../tests/helpers/server.js";
import { type BenchContext, profileArgs, type ScenarioResult, SECRET } from "../lib/context.js";
import { type LatencySummary, mergeHistograms, summarize } from "../lib/histogram.js";
import { cpuPressureMicros, cpuSeconds, forkWorker, type Worker } from "../lib/processes.js";
import type { OpenLoopJob } from "../load/httpOpenLoop.js";

/** The real user: GET /v1/balance with a valid JWT, open loop. */
const USER_RATE = 500;
/** The flood: bad tokens from one address, open loop. */
const FLOOD_RATE = 5000;
/**
 * Behind a proxy (TRUST_PROXY=1) the server takes the rightmost X-Forwarded-For entry, the one
 * the proxy adds for the peer it saw: these are what a proxy would add for two clients.
 */
const USER_ADDRESS = "198.51.100.10";
const FLOOD_ADDRESS = "203.0.113.66";
/** Idle p99s below this count as this much: a sub-millisecond p99 doubles with scheduler noise. */
const P99_FLOOR_MS = 1;
/**
 * Idle and flooded phases alternate in rounds of this length, so that the load other processes
 * put on this shared machine falls on both alike rather than on whichever came second.
 */
const ROUND_MS = 2500;

interface PhaseResult {
  issued: number;
  statuses: Record<string, number>;
  histogram: string;
  elapsedMs: number;
  generatorCpuCores: number;
  generatorLagP99Ms: number;
}

async function phase(worker: Worker, durationMs: number): Promise<PhaseResult> {
  worker.send({ type: "go", durationMs });
  return (await worker.next("result")) as unknown as PhaseResult;
}

/** Several phases of one kind (idle or flooded) as one: statuses summed, histograms merged. */
class Phases {
  readonly results: PhaseResult[] = [];
  serverCpuSeconds = 0;
  pressureMicros = 0;

  get elapsedMs(): number {
    return this.results.reduce((total, r) => total + r.elapsedMs, 0);
  }

  get latency(): LatencySummary {
    return summarize(mergeHistograms(this.results.map((r) => r.histogram)));
  }

  get statuses(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const r of this.results) for (const [what, n] of Object.entries(r.statuses)) sum[what] = (sum[what] ?? 0) + n;
    return sum;
  }

  get issued(): number {
    return this.results.reduce((total, r) => total + r.issued, 0);
  }

  /** Runs `measure` and adds its result, with the server's CPU and the machine's CPU pressure meanwhile. */
  async add(pid: number, measure: () => Promise<PhaseResult>): Promise<void> {
    const cpu = cpuSeconds(pid);
    const pressure = cpuPressureMicros();
    this.results.push(await measure());
    this.serverCpuSeconds += cpuSeconds(pid) - cpu;
    this.pressureMicros += cpuPressureMicros() - pressure;
  }

  cores(): number {
    return Number((this.serverCpuSeconds / (this.elapsedMs / 1000)).toFixed(2));
  }

  pressure(): number {
    return Number((this.pressureMicros / (this.elapsedMs * 1000)).toFixed(2));
  }
}

/** Statuses by "<kind> <status>" summed by status alone, with a prefix: `flood.status.429`. */
function byStatus(prefix: string, statuses: Record<string, number>): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const [what, n] of Object.entries(statuses)) {
    const key = `${prefix}${what.slice(what.lastIndexOf(" ") + 1)}`;
    figures[key] = (figures[key] ?? 0) + n;
  }
  return figures;
}

async function floodRun(ctx: BenchContext, limited: boolean): Promise<ScenarioResult> {
  // Server defaults but for the proxy setting (and, for the "before" run, the per-address limit).
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    TRUST_PROXY: "1",
    ...(limited ? {} : { RATE_LIMIT_PER_IP: "0" }),
  };
  const server = await startServer({ env, nodeArgs: profileArgs() });
  const seconds = ctx.seconds(10, 5);
  const workers: Worker[] = [];
  const job = (kind: OpenLoopJob["kind"], rate: number, connections: number, forwardedFor: string): OpenLoopJob => ({
    kind,
    port: server.port,
    rate,
    connections,
    forwardedFor,
    jwt: userJwt("real-user", 3600, SECRET),
  });
  try {
    const user = forkWorker("httpOpenLoop.js", job("user", USER_RATE, 4, USER_ADDRESS));
    const flooder = forkWorker("httpOpenLoop.js", job("flood", FLOOD_RATE, 8, FLOOD_ADDRESS));
    workers.push(user, flooder);
    await Promise.all([user.next("ready"), flooder.next("ready")]);
    // Unmeasured second: the user's token is verified once and cached, the code paths warm.
    await phase(user, 1000);

    const pid = server.child.pid!;
    const idle = new Phases();
    const flooded = new Phases();
    const flood = new Phases();
    for (let round = 0; round < Math.round((seconds * 1000) / ROUND_MS); round++) {
      await idle.add(pid, () => phase(user, ROUND_MS));
      // The flood starts a moment before the user's flooded phase and ends after it.
      flooder.send({ type: "go", durationMs: ROUND_MS + 400 });
      const flooding = flooder.next("result") as unknown as Promise<PhaseResult>;
      await new Promise((done) => setTimeout(done, 200));
      await flooded.add(pid, () => phase(user, ROUND_MS));
      flood.results.push(await flooding);
    }

    const idleLatency = idle.latency;
    const floodLatency = flooded.latency;
    const floodAnswers = flood.latency;
    const userRefused = [...Object.entries(idle.statuses), ...Object.entries(flooded.statuses)].filter(
      ([what]) => what !== "user 200",
    );
    const allowed = 2 * Math.max(idleLatency.p99, P99_FLOOR_MS);
    const suffix = limited ? "" : ".nolimit";
    return {
      id: `g.flood${suffix}`,
      title: `(g) User p99 under a ${FLOOD_RATE}/s bad-token flood, ${limited ? "RATE_LIMIT_PER_IP default" : "RATE_LIMIT_PER_IP=0"}`,
      throughput: (flooded.statuses["user 200"] ?? 0) / (flooded.elapsedMs / 1000),
      unit: "user req/s",
      latency: floodLatency,
      figures: {
        userRate: USER_RATE,
        floodRate: FLOOD_RATE,
        idleP50: idleLatency.p50,
        idleP99: idleLatency.p99,
        floodP50: floodLatency.p50,
        floodP99: floodLatency.p99,
        floodMax: floodLatency.max,
        rounds: idle.results.length,
        idleServerCpuCores: idle.cores(),
        floodServerCpuCores: flooded.cores(),
        // What one flood request costs the server's CPU, over what the user costs alone.
        serverCpuPerFloodRequestUs: Math.round(((flooded.cores() - idle.cores()) / FLOOD_RATE) * 1e6),
        idleCpuPressure: idle.pressure(),
        floodCpuPressure: flooded.pressure(),
        floodIssued: flood.issued,
        floodAnswered: floodAnswers.count,
        floodAnswerP99: floodAnswers.p99,
        ...byStatus("flood.status.", flood.statuses),
        ...Object.fromEntries(
          Object.entries(flood.statuses).map(([what, n]) => [`flood.${what.replace(" ", ".")}`, n]),
        ),
        ...byStatus("user.status.", flooded.statuses),
        floodGeneratorCpuCores: Math.max(...flood.results.map((r) => r.generatorCpuCores)),
        userGeneratorLagP99Ms: Math.max(...[...idle.results, ...flooded.results].map((r) => r.generatorLagP99Ms)),
      },
      // The limit must never touch the real user: every one of its requests is answered 200.
      audit: {
        ok: userRefused.length === 0,
        problems: userRefused.map(([what, n]) => `real user: ${n} × ${what}`),
        checked: { userRequests: idle.issued + flooded.issued, floodRequests: flood.issued },
      },
      targets: limited
        ? {
            "user p99 under flood (ms)": {
              measured: floodLatency.p99,
              target: `<= ${allowed} = 2 × max(idle p99, ${P99_FLOOR_MS} ms)`,
              met: floodLatency.p99 <= allowed,
            },
          }
        : undefined,
    };
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill();
    await server.stop();
    server.cleanup();
  }
}

/** With the per-address limit at its default (the target), then without it: what the limit buys. */
export async function badTokenFlood(ctx: BenchContext): Promise<ScenarioResult[]> {
  return [await floodRun(ctx, true), await floodRun(ctx, false)];
}
