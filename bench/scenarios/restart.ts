// The restart of (e), shared by both stores: a server with a 1,000,000-seat catalog (10 × 100,000)
// and 100,000 live holds (20,000 with --quick), kill -9, then a new server on the same data until
// it listens and until it serves a request. On SQLite (`e.restart`, memory.ts, which measures the
// memory at each stage through the hooks) or on PostgreSQL (`e.restart.pg`, postgres.ts).
import { startServer, type TestServer, userJwt } from "../../tests/helpers/server.js";
import { audit } from "../lib/audit.js";
import {
  type BenchContext,
  benchEnv,
  type Catalog,
  createCatalog,
  type ScenarioResult,
  SECRET,
} from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { errorFigures, runLoads } from "../lib/processes.js";
import type { JobResult } from "../load/wsLoad.js";

export const HOLDERS = 1000;

/** Stages of the fill, for a caller that measures the server at each (memory.ts: its RSS). */
export interface FillHooks {
  started?(server: TestServer): Promise<void>;
  catalogued?(server: TestServer): Promise<void>;
  /** After the holds, before the kill. */
  filled?(server: TestServer, catalog: Catalog): Promise<void>;
}

export interface RestartRun {
  restart: ScenarioResult;
  fill: JobResult;
  holdsWanted: number;
}

export async function settle(): Promise<void> {
  await new Promise((done) => setTimeout(done, 1500));
}

/** `ms` of the server's own log line `msg` (LOG_LEVEL=info), if it printed one. */
function loggedMs(server: TestServer, msg: string): number | undefined {
  for (const line of server.logs) {
    if (!line.includes(`"${msg}"`)) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; ms?: number; readMs?: number };
      if (entry.msg === msg) return entry.readMs ?? entry.ms;
    } catch {}
  }
  return undefined;
}

export async function fillAndRestart(
  ctx: BenchContext,
  id: string,
  options: { databaseUrl?: string; hooks?: FillHooks } = {},
): Promise<RestartRun> {
  const { databaseUrl, hooks = {} } = options;
  const holdsWanted = ctx.quick ? 20_000 : 100_000;
  const env = benchEnv({
    MAX_HOLDS_PER_USER: String(holdsWanted / HOLDERS),
    QUEUE_ACTIVE_MAX: String(HOLDERS),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  let server = await startServer({ env });
  try {
    await hooks.started?.(server);
    const catalog = await createCatalog(server, 10, 100_000);
    await hooks.catalogued?.(server);
    const [fill] = await runLoads([
      {
        mode: "holdfill",
        url: server.wsUrl,
        secret: SECRET,
        userPrefix: "holder-",
        connections: HOLDERS,
        durationMs: 0,
        scheduleIds: catalog.bigScheduleIds,
        holdsPerConnection: holdsWanted / HOLDERS,
      },
    ]);
    await hooks.filled?.(server, catalog);

    // kill -9 with 1M seats and the holds, then time a restart until it serves a request.
    await settle();
    const jwt = userJwt("holder-0", 3600, SECRET);
    const reservation = (url: string) =>
      fetch(`${url}/v1/reservations/1`, { headers: { authorization: `Bearer ${jwt}` } });
    // The hold as it was acknowledged: after the restart it must keep its absolute expiresAt.
    const before = await (await reservation(server.url)).text();
    const dataDir = server.dataDir;
    await server.kill();
    const restartStarted = performance.now();
    // At info level the new server logs how long it read its state and checked the ledger.
    server = await startServer({ env: { ...env, LOG_LEVEL: "info" }, dataDir });
    const listening = performance.now() - restartStarted;
    const reply = await reservation(server.url);
    const serving = performance.now() - restartStarted;
    if (reply.status !== 200) throw new Error(`after restart: ${reply.status}`);
    const after = await reply.text();
    const liveAfter = Number(
      /^ticketing_holds_live (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1],
    );
    const stateReadMs = loggedMs(server, "state read");
    const refused = Object.values(fill!.errors).reduce((a, b) => a + b, 0);
    const acknowledged = fill!.ops - refused;
    const store = databaseUrl ? "PostgreSQL" : "SQLite";
    const restart: ScenarioResult = {
      id,
      title: `(e) Restart after kill -9 with 1M seats + ${holdsWanted / 1000}k holds, ${store}`,
      figures: {
        listeningMs: Math.round(listening),
        servingMs: Math.round(serving),
        ...(stateReadMs === undefined ? {} : { stateReadMs }),
        holdsRestored: liveAfter,
        holdsAcknowledged: acknowledged,
        fillSeconds: Number((fill!.elapsedMs / 1000).toFixed(1)),
        // On SQLite e.memory reports the fill's latency and errors; PostgreSQL has no e.memory.
        ...(databaseUrl
          ? { fillHoldP99: summarize(mergeHistograms([fill!.histograms.hold!])).p99, ...errorFigures([fill!]) }
          : {}),
      },
      targets: {
        "restart to serving (ms)": { measured: Math.round(serving), target: "< 3000", met: serving < 3000 },
        "holds restored": { measured: liveAfter, target: `= ${acknowledged}`, met: liveAfter === acknowledged },
        "reservation 1 as before the kill (same expiresAt)": {
          measured: after === before ? 1 : 0,
          target: "= 1",
          met: after === before,
        },
      },
      audit: await audit(server, [], server.url),
    };
    return { restart, fill: fill!, holdsWanted };
  } finally {
    await server.stop();
    await server.cleanup();
  }
}
