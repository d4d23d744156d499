// (e) Memory of the server process with a 1,000,000-seat catalog, 100,000 live holds and many
// waiting sockets, and restart time with that state (`e.restart`, called `f.restart` before
// 2026-11-30, when `f` became the idempotency scenario).
import { startServer, userJwt } from "../../tests/helpers/server.js";
import { audit } from "../lib/audit.js";
import { type BenchContext, benchEnv, createCatalog, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { errorFigures, forkLoad, rssMb, runLoads } from "../lib/processes.js";

/** This machine allows 20,000 open files per process, so 100,000 sockets cannot be held here. */
const WAITING_SOCKETS = 17_000;
const LOOPBACK_SOURCES = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];

async function settle(): Promise<void> {
  await new Promise((done) => setTimeout(done, 1500));
}

export async function memoryAndRestart(ctx: BenchContext): Promise<ScenarioResult[]> {
  const holdsWanted = ctx.quick ? 20_000 : 100_000;
  const connections = 1000;
  const env = benchEnv({ MAX_HOLDS_PER_USER: String(holdsWanted / connections), QUEUE_ACTIVE_MAX: "1000" });
  let server = await startServer({ env });
  const pid = () => server.child.pid!;
  try {
    await settle();
    const empty = rssMb(pid());
    const catalog = await createCatalog(server, 10, 100_000);
    await settle();
    const withCatalog = rssMb(pid());
    const [fill] = await runLoads([
      {
        mode: "holdfill",
        url: server.wsUrl,
        secret: SECRET,
        userPrefix: "holder-",
        connections,
        durationMs: 0,
        scheduleIds: catalog.bigScheduleIds,
        holdsPerConnection: holdsWanted / connections,
      },
    ]);
    const holdLatency = summarize(mergeHistograms([fill!.histograms.hold!]));
    await settle();
    const withHolds = rssMb(pid());

    // Waiting sockets: the active set is full (1,000 holders), so every newcomer waits.
    const waiting = forkLoad({
      mode: "waiting",
      url: server.wsUrl,
      secret: SECRET,
      userPrefix: "waiter-",
      connections: WAITING_SOCKETS,
      durationMs: 0,
      localAddresses: LOOPBACK_SOURCES,
    });
    await waiting.ready;
    const waited = await waiting.go();
    await settle();
    const withWaiting = rssMb(pid());
    waiting.release();
    const perSocketKb = ((withWaiting - withHolds) * 1024) / WAITING_SOCKETS;
    const projected100k = withHolds + (perSocketKb * 100_000) / 1024;

    // kill -9 with 1M seats and the holds, then time a restart until it serves a request.
    await settle();
    const dataDir = server.dataDir;
    await server.kill();
    const restartStarted = performance.now();
    server = await startServer({ env, dataDir });
    const listening = performance.now() - restartStarted;
    const jwt = userJwt("holder-0", 3600, SECRET);
    const reply = await fetch(`${server.url}/v1/reservations/1`, { headers: { authorization: `Bearer ${jwt}` } });
    const serving = performance.now() - restartStarted;
    if (reply.status !== 200) throw new Error(`after restart: ${reply.status}`);
    const liveAfter = Number(
      /^ticketing_holds_live (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1],
    );

    const mb = (n: number) => Number(n.toFixed(1));
    return [
      {
        id: "e.memory",
        title: "(e) Server RSS: 1M-seat catalog, live holds, waiting sockets",
        figures: {
          emptyMb: mb(empty),
          catalog1MMb: mb(withCatalog),
          holds: fill!.ops,
          withHoldsMb: mb(withHolds),
          waitingSockets: WAITING_SOCKETS,
          withWaitingMb: mb(withWaiting),
          perWaitingSocketKb: mb(perSocketKb),
          projected100kSocketsMb: mb(projected100k),
          holdP99: holdLatency.p99,
          ...errorFigures([fill!, waited]),
        },
        targets: {
          "1M catalog seats (MB)": { measured: mb(withCatalog), target: "< 150", met: withCatalog < 150 },
          [`${holdsWanted / 1000}k live holds (MB)`]: {
            measured: mb(withHolds),
            target: "< 500",
            met: withHolds < 500,
          },
          "100k waiting sockets, projected (MB)": {
            measured: mb(projected100k),
            target: "< 1536",
            met: projected100k < 1536,
          },
        },
      },
      {
        id: "e.restart",
        title: `(e) Restart after kill -9 with 1M seats + ${holdsWanted / 1000}k holds`,
        figures: { listeningMs: Math.round(listening), servingMs: Math.round(serving), holdsRestored: liveAfter },
        targets: {
          "restart to serving (ms)": { measured: Math.round(serving), target: "< 3000", met: serving < 3000 },
        },
        audit: await audit(server.dataDir, [], server.url),
      },
    ];
  } finally {
    await server.stop();
    server.cleanup();
  }
}
