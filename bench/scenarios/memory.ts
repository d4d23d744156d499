// (e) Memory of the server process with a 1,000,000-seat catalog, 100,000 live holds and many
// waiting sockets, and restart time with that state (`e.restart`, called `f.restart` before
// 2026-11-30, when `f` became the idempotency scenario). The fill and the restart are restart.ts,
// which the `pg` step runs on PostgreSQL too.
import type { BenchContext, ScenarioResult } from "../lib/context.js";
import { SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { errorFigures, forkLoad, rssMb } from "../lib/processes.js";
import type { JobResult } from "../load/wsLoad.js";
import { fillAndRestart, settle } from "./restart.js";

/** This machine allows 20,000 open files per process, so 100,000 sockets cannot be held here. */
const WAITING_SOCKETS = 17_000;
const LOOPBACK_SOURCES = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];

export async function memoryAndRestart(ctx: BenchContext): Promise<ScenarioResult[]> {
  let empty = 0;
  let withCatalog = 0;
  let withHolds = 0;
  let withWaiting = 0;
  let waited: JobResult | undefined;
  const { restart, fill, holdsWanted } = await fillAndRestart(ctx, "e.restart", {
    hooks: {
      async started(server) {
        await settle();
        empty = rssMb(server.child.pid!);
      },
      async catalogued(server) {
        await settle();
        withCatalog = rssMb(server.child.pid!);
      },
      async filled(server) {
        await settle();
        withHolds = rssMb(server.child.pid!);
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
        waited = await waiting.go();
        await settle();
        withWaiting = rssMb(server.child.pid!);
        waiting.release();
      },
    },
  });
  const holdLatency = summarize(mergeHistograms([fill.histograms.hold!]));
  const perSocketKb = ((withWaiting - withHolds) * 1024) / WAITING_SOCKETS;
  const projected100k = withHolds + (perSocketKb * 100_000) / 1024;
  const mb = (n: number) => Number(n.toFixed(1));
  return [
    {
      id: "e.memory",
      title: "(e) Server RSS: 1M-seat catalog, live holds, waiting sockets",
      figures: {
        emptyMb: mb(empty),
        catalog1MMb: mb(withCatalog),
        holds: fill.ops,
        withHoldsMb: mb(withHolds),
        waitingSockets: WAITING_SOCKETS,
        withWaitingMb: mb(withWaiting),
        perWaitingSocketKb: mb(perSocketKb),
        projected100kSocketsMb: mb(projected100k),
        holdP99: holdLatency.p99,
        ...errorFigures([fill, ...(waited ? [waited] : [])]),
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
    restart,
  ];
}
