// (f) Idempotency records: the server's RSS after 1,000 and after 1,000,000 stored keys (100,000
// with --quick), how fast they are stored, and a restart on the same data that replays old keys.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startServer } from "../../tests/helpers/server.js";
import { audit } from "../lib/audit.js";
import { type BenchContext, benchEnv, profileArgs, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { connectInspector, INSPECT_ARG, type Inspector } from "../lib/inspector.js";
import { forkWorker, rssMb, type Worker } from "../lib/processes.js";
import type { KeyedChargesJob, KeyedSample } from "../load/keyedCharges.js";

const USERS = 1000;
/**
 * Charges in flight per connection. 2,000 at once keep the server busy; 4,000 stored no faster
 * here and held 50 MB more RSS in replies and requests waiting their turn.
 */
const IN_FLIGHT = 2;
/**
 * Charges without a key (the same work, no record) before the first reading and after each full
 * GC: under load the heap's young generation and the allocator grow by 20-30 MB in the first
 * 10-50k requests whatever they store; warmed up, readings differ by what the records cost.
 * 50,000 with --quick.
 */
const WARM_UP = 100_000;
/** Every 100th first reply is kept and replayed after the restart (10,000 of 1M). */
const SAMPLE_EVERY = 100;
/** The target: RSS grows by at most 50 MB per 1,000,000 records (5 MB per 100,000 with --quick). */
const MB_PER_MILLION = 50;

interface FillResult {
  acknowledged: number;
  errors: Record<string, number>;
  histogram: string;
  samples: KeyedSample[];
}

interface ReplayResult {
  replayed: number;
  byteEqual: number;
  differing: string[];
  errors: Record<string, number>;
  elapsedMs: number;
  histogram: string;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The server's RSS in MB once the load has stopped, as it is: the target's figure. */
async function rssNow(pid: number): Promise<number> {
  await sleep(1500);
  return rssMb(pid);
}

/**
 * The server's RSS in MB right after a full GC: what the process retains. RSS as it is swings by
 * ±30 MB with where the old generation's GC cycle happens to be when the load stops.
 */
async function rssRetained(pid: number, inspector: Inspector): Promise<number> {
  await inspector.collectGarbage();
  await sleep(300);
  return rssMb(pid);
}

function idempotencyRows(dataDir: string): number {
  const db = new Database(join(dataDir, "tickets.db"), { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM idempotency").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function databaseMb(dataDir: string): number {
  const files = ["tickets.db", "tickets.db-wal"].map((name) => join(dataDir, name)).filter(existsSync);
  return files.reduce((total, file) => total + statSync(file).size, 0) / 2 ** 20;
}

/** 1000 → "1k", 1000000 → "1M". */
function count(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
}

const errorFigures = (prefix: string, errors: Record<string, number>) =>
  Object.fromEntries(Object.entries(errors).map(([code, n]) => [`${prefix}${code}`, n]));

export async function idempotencyMemory(ctx: BenchContext): Promise<ScenarioResult> {
  const keysPerUser = ctx.quick ? 100 : 1000;
  const warmUpCharges = ctx.quick ? WARM_UP / 2 : WARM_UP;
  const records = USERS * keysPerUser;
  const milestones = [1000, 10_000, 100_000, 1_000_000].filter((m) => m <= records);
  // Limits off (benchEnv), the money rate too; IDEMPOTENCY_MAX_PER_USER keeps its default
  // (10,000 live keys per user), above the 1,000 each user stores here.
  const env = benchEnv();
  // The inspector port (loopback only) lets the scenario ask for a full GC before a second reading.
  const nodeArgs = [...profileArgs(), INSPECT_ARG];
  let server = await startServer({ env, nodeArgs });
  let inspector: Inspector | undefined;
  const pid = () => server.child.pid!;
  const job: KeyedChargesJob = {
    mode: "fill",
    url: server.wsUrl,
    secret: SECRET,
    userPrefix: "payer-",
    users: USERS,
    keysPerUser,
    inFlight: IN_FLIGHT,
    sampleEvery: SAMPLE_EVERY,
  };
  const workers: Worker[] = [];
  try {
    inspector = await connectInspector(server.logs);
    const filler = forkWorker("keyedCharges.js", job);
    workers.push(filler);
    await filler.next("ready");
    const warmUp = async () => {
      filler.send({ type: "warm", count: warmUpCharges });
      await filler.next("warmed");
    };
    const connected = await rssNow(pid());
    const connectedRetained = await rssRetained(pid(), inspector);
    await warmUp();
    const warmed = await rssNow(pid());
    const last = milestones.at(-1)!;
    const rssAt: Record<number, number> = {};
    const retainedAt: Record<number, number> = {};
    let storingMs = 0;
    for (const upTo of milestones) {
      filler.send({ type: "fill", upTo });
      const filled = await filler.next("filled");
      // Records per second count from the first reading on: the 1,000 before it are warm-up.
      if (upTo !== milestones[0]) storingMs += filled.elapsedMs as number;
      rssAt[upTo] = await rssNow(pid());
      // A full GC shrinks the heap, and the next load regrows it: the GC comes after the plain
      // reading, and the same warm-up again before the records go on.
      retainedAt[upTo] = await rssRetained(pid(), inspector);
      if (upTo !== last) await warmUp();
    }
    filler.send({ type: "finish" });
    const fill = (await filler.next("result")) as unknown as FillResult;
    const rows = idempotencyRows(server.dataDir);

    // The same data after a clean stop: what a start costs, then a sample of old keys replayed.
    const dataDir = server.dataDir;
    inspector.close();
    await server.stop();
    const restartStarted = performance.now();
    server = await startServer({ env, dataDir, nodeArgs });
    const listeningMs = performance.now() - restartStarted;
    inspector = await connectInspector(server.logs);
    const afterStart = await rssNow(pid());
    const afterStartRetained = await rssRetained(pid(), inspector);
    const replayer = forkWorker("keyedCharges.js", {
      ...job,
      mode: "replay",
      url: server.wsUrl,
      samples: fill.samples,
    } satisfies KeyedChargesJob);
    workers.push(replayer);
    await replayer.next("ready");
    replayer.send({ type: "go" });
    const replay = (await replayer.next("result")) as unknown as ReplayResult;
    const afterReplay = await rssNow(pid());
    const afterReplayRetained = await rssRetained(pid(), inspector);
    const rowsAfterReplay = idempotencyRows(dataDir);

    const checked = await audit(dataDir, [], server.url);
    const problems = [...checked.problems];
    if (rows !== fill.acknowledged) {
      problems.push(`${rows} idempotency rows for ${fill.acknowledged} acknowledged keyed charges`);
    }
    if (rowsAfterReplay !== rows) problems.push(`replays changed the idempotency rows: ${rows} → ${rowsAfterReplay}`);
    if (replay.byteEqual !== replay.replayed) {
      problems.push(
        `${replay.replayed - replay.byteEqual} of ${replay.replayed} replays differ from the first reply ` +
          `(e.g. ${replay.differing[0]})`,
      );
    }

    const growth = rssAt[last]! - rssAt[1000]!;
    const retainedGrowth = retainedAt[last]! - retainedAt[1000]!;
    const allowed = (MB_PER_MILLION * records) / 1_000_000;
    const mb = (n: number) => Number(n.toFixed(1));
    return {
      id: "f.idempotency",
      title: `(f) ${count(records)} idempotency records: RSS and replays after a restart`,
      throughput: (fill.acknowledged - milestones[0]!) / (storingMs / 1000),
      unit: "records/s",
      latency: summarize(mergeHistograms([fill.histogram])),
      figures: {
        records,
        users: USERS,
        keysPerUser,
        inFlightPerConnection: IN_FLIGHT,
        acknowledged: fill.acknowledged,
        idempotencyRows: rows,
        // RSS (MB) as read, and "retained": right after a full GC.
        connectedMb: mb(connected),
        connectedRetainedMb: mb(connectedRetained),
        warmUpCharges,
        warmedMb: mb(warmed),
        ...Object.fromEntries(milestones.map((m) => [`rss${count(m)}Mb`, mb(rssAt[m]!)])),
        ...Object.fromEntries(milestones.map((m) => [`retained${count(m)}Mb`, mb(retainedAt[m]!)])),
        growthMb: mb(growth),
        retainedGrowthMb: mb(retainedGrowth),
        growthFromConnectedMb: mb(rssAt[last]! - connected),
        databaseMb: mb(databaseMb(dataDir)),
        restartListeningMs: Math.round(listeningMs),
        afterRestartMb: mb(afterStart),
        afterRestartRetainedMb: mb(afterStartRetained),
        replayed: replay.replayed,
        replaysByteEqual: replay.byteEqual,
        replaysPerSecond: Math.round(replay.replayed / (replay.elapsedMs / 1000)),
        replayP99: summarize(mergeHistograms([replay.histogram])).p99,
        afterReplayMb: mb(afterReplay),
        afterReplayRetainedMb: mb(afterReplayRetained),
        ...errorFigures("err.", fill.errors),
        ...errorFigures("replay.err.", replay.errors),
      },
      audit: {
        ok: problems.length === 0,
        problems,
        checked: { ...checked.checked, idempotencyRows: rows, replays: replay.replayed },
      },
      targets: {
        [`RSS(${count(last)}) − RSS(1k) (MB)`]: {
          measured: mb(growth),
          target: `<= ${allowed}`,
          met: growth <= allowed,
        },
        [`RSS after a full GC: ${count(last)} − 1k (MB)`]: {
          measured: mb(retainedGrowth),
          target: `<= ${allowed}`,
          met: retainedGrowth <= allowed,
        },
      },
    };
  } finally {
    inspector?.close();
    // A generator left waiting (the scenario failed half-way) must not outlive the run.
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill();
    await server.stop();
    server.cleanup();
  }
}
