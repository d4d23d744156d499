// (j) The door: new fans' first check-ins to an open on-sale, over HTTP, every request a new
// user with a fresh JWT (signed before the run). What each costs the server's CPU.
import { join } from "node:path";
import Database from "better-sqlite3";
import { HttpClient } from "../../src/client/index.js";
import type { Audit } from "../lib/audit.js";
import { type BenchContext, bookingServer, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { cpuPressureMicros, cpuSeconds, forkWorker, rssMb, type Worker } from "../lib/processes.js";
import type { CheckInJob, CheckInResult } from "../load/checkIns.js";

/** Target: server CPU per new fan's check-in (20,000 a second per core). */
const TARGET_US = 50;
/** The on-sale's active set: the first 1,000 are admitted as they come, the rest join the line. */
const ACTIVE_MAX = 1000;
/** Keep-alive connections, one request in flight on each (as autocannon's default). */
const CONNECTIONS = 128;

export async function door(ctx: BenchContext): Promise<ScenarioResult> {
  // The per-user request budget stays on (its default): every new fan gets a bucket, as in
  // production. The per-address limits are off: every request comes from 127.0.0.1.
  const server = await bookingServer({ RATE_LIMIT_PER_SECOND: "1000" });
  const seconds = ctx.seconds(10, 5);
  const warmUp = ctx.quick ? 10_000 : 20_000;
  let worker: Worker | undefined;
  try {
    const admin = new HttpClient({ baseUrl: server.url, adminToken: server.adminToken });
    const concert = await admin.call("admin.concerts.create", {
      title: "Door",
      schedules: [{ startsAt: "2027-06-01T19:00:00.000Z", seatCount: 5000, price: 1000 }],
      onSale: { activeMax: ACTIVE_MAX },
    });
    worker = forkWorker("checkIns.js", {
      port: server.port,
      secret: SECRET,
      userPrefix: "door-",
      // Enough for 40,000 check-ins a second through the measured phase.
      pool: warmUp + seconds * 40_000,
      concertId: concert.id,
      connections: CONNECTIONS,
      depth: 1,
    } satisfies CheckInJob);
    await worker.next("ready");
    // Unmeasured: the code paths warm up, and the line is no longer empty.
    worker.send({ type: "go", count: warmUp });
    const warm = (await worker.next("result")) as unknown as CheckInResult;

    const pid = server.child.pid!;
    const cpuBefore = cpuSeconds(pid);
    const pressureBefore = cpuPressureMicros();
    worker.send({ type: "go", durationMs: seconds * 1000 });
    const run = (await worker.next("result")) as unknown as CheckInResult;
    const serverCpu = cpuSeconds(pid) - cpuBefore;
    const pressure = (cpuPressureMicros() - pressureBefore) / (run.elapsedMs * 1000);
    const ok = run.statuses["200"] ?? 0;
    const cpuUs = (serverCpu / ok) * 1e6;
    const latency = summarize(mergeHistograms([run.histogram]));
    const rss = rssMb(pid);
    return {
      id: "j.door",
      title: "(j) The door: new fans' first check-ins (HTTP, a new user and JWT per request)",
      throughput: ok / (run.elapsedMs / 1000),
      unit: "check-ins/s",
      latency,
      figures: {
        checkIns: ok,
        serverCpuCores: Number((serverCpu / (run.elapsedMs / 1000)).toFixed(2)),
        serverCpuUsPerCheckIn: Number(cpuUs.toFixed(1)),
        checkInsPerCoreSecond: Math.round(1e6 / cpuUs),
        connections: CONNECTIONS,
        ...Object.fromEntries(
          Object.entries(run.statuses)
            .filter(([status]) => status !== "200")
            .map(([status, n]) => [`status.${status}`, n]),
        ),
        poolExhausted: run.exhausted ? 1 : 0,
        serverRssMb: Number(rss.toFixed(1)),
        generatorCpuCores: run.generatorCpuCores,
        generatorLagP99Ms: run.generatorLagP99Ms,
        stepCpuPressure: Number(pressure.toFixed(2)),
        seconds: Number((run.elapsedMs / 1000).toFixed(1)),
      },
      audit: await tokensAudit(server.dataDir, concert.id, (warm.statuses["200"] ?? 0) + ok),
      targets: {
        "server CPU per new check-in (µs)": { measured: cpuUs, target: `<= ${TARGET_US}`, met: cpuUs <= TARGET_US },
      },
    };
  } finally {
    worker?.send({ type: "stop" });
    await server.stop();
    server.cleanup();
  }
}

/** Every check-in answered 200 is a token on disk (durable before its reply), one per user. */
async function tokensAudit(dataDir: string, room: number, acknowledged: number): Promise<Audit> {
  const db = new Database(join(dataDir, "tickets.db"), { readonly: true });
  try {
    const row = db
      .prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT user_id) AS users FROM queue_tokens WHERE room = ?")
      .get(room) as { n: number; users: number };
    const problems: string[] = [];
    if (row.n !== acknowledged) problems.push(`${row.n} tokens on disk for ${acknowledged} acknowledged check-ins`);
    if (row.users !== row.n) problems.push(`${row.n - row.users} users with two tokens`);
    return { ok: problems.length === 0, problems, checked: { acknowledged, tokens: row.n } };
  } finally {
    db.close();
  }
}
