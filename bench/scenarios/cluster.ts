// Step `k` (`--nodes N`, default 3): the cluster of docs/cluster.md on this machine, one durable
// private PostgreSQL, one nats-server and N nodes sharing its cores. It shows cost and latency,
// not scaling (every process shares the same two cores here):
//   k.list.owner / k.list.routed    seats.list sent to the room's owner / to a node that forwards
//   k.pairs.owner / k.pairs.routed  hold + release pairs, the same two ways
//   k.fanout    10,000 subscribers over every node while a schedule changes 1,000 times a second
//   k.onsale    fans book one on-sale room through the nodes that do not own it while the same
//               10,000 watch its seat map; booking p99, fan-out p99, the owner's event-loop lag
//   k.capacity  per node and role, CPU per unit of work and the throughput one core would carry
// One catalog and one set of 9,800 raw watchers serve the last two; the audit (after the on-sale)
// reads everything the step wrote back from PostgreSQL.
import { HttpClient } from "../../src/client/index.js";
import { type BenchNode, startBenchCluster } from "../lib/cluster.js";
import type { BenchContext, ScenarioResult } from "../lib/context.js";
import { SECRET } from "../lib/context.js";
import { forkWorker, type Worker } from "../lib/processes.js";
import type { WatcherJob } from "../load/watchers.js";
import { clusterCapacity } from "./clusterCapacity.js";
import { clusterFanout, clusterOnSale, type SaleCatalog } from "./clusterPushes.js";
import { routedOps } from "./clusterRouting.js";

/** Raw watchers in two processes, spread over every node: 10,000 subscribers with the sampled ones. */
export const RAW_WATCHERS = 9800;
const WATCHER_PROCESSES = 2;

export async function clusterScenarios(ctx: BenchContext, count: number): Promise<ScenarioResult[]> {
  const sale = saleSize(ctx, count);
  const cluster = await startBenchCluster(count, {
    // The fan-out's driver has many holds in flight when forwarded holds are slow (d.fanout, on one
    // server, allows 100); the booking scenarios hold one at a time.
    MAX_HOLDS_PER_USER: "1000",
    QUEUE_TICK_MS: "100",
  });
  const watchers: Worker[] = [];
  const results: ScenarioResult[] = [];
  try {
    process.stderr.write(`bench: k: ${cluster.postgresVersion}, ${cluster.natsVersion}, ${count} nodes\n`);
    const admin = new HttpClient({ baseUrl: cluster.nodes[0]!.url, adminToken: cluster.adminToken });
    const startsAt = "2027-06-01T19:00:00.000Z";
    const plain = await admin.call("admin.concerts.create", {
      title: "Cluster benchmark",
      schedules: [
        { startsAt, seatCount: 100_000, price: 1000 },
        { startsAt, seatCount: 500, price: 1000 },
        { startsAt, seatCount: 100, price: 1000 },
      ],
    });
    const [holdSchedule, fanoutSchedule, listSchedule] = plain.schedules.map((s) => s.id) as [number, number, number];
    // Every watcher takes a place in the on-sale's active set before the fans come (it must be
    // active there to subscribe to its seats); the fans book in what is left, `sale.active`.
    const onSale = await admin.call("admin.concerts.create", {
      title: "Cluster on-sale",
      schedules: [{ startsAt, seatCount: sale.seats, price: 1000 }],
      onSale: { activeMax: RAW_WATCHERS + sale.reservedWatchers + sale.active },
    });
    const saleCatalog: SaleCatalog = { concertId: onSale.id, scheduleId: onSale.schedules[0]!.id, ...sale };
    const siteOwner = await cluster.ownerOf(0);
    const saleOwner = await cluster.ownerOf(onSale.id);
    process.stderr.write(`bench: k: site room on ${siteOwner.id}, on-sale ${onSale.id} on ${saleOwner.id}\n`);
    const others = (owner: BenchNode) => cluster.nodes.filter((node) => node !== owner);

    /**
     * Runs one part, then adds to each of its results the warnings the nodes logged meanwhile and
     * the rooms whose lease moved (a node starved of CPU past its lease's deadline gives its rooms
     * up, and their requests answer 503 until another node has rebuilt them).
     */
    const watched = async (part: () => Promise<ScenarioResult | ScenarioResult[]>) => {
      const leasesBefore = await cluster.leases();
      const warningsBefore = cluster.warnings();
      const out = await part();
      const leasesAfter = await cluster.leases();
      const warnings = cluster.warnings();
      const moved = Object.keys(leasesAfter).filter((room) => leasesAfter[room] !== leasesBefore[room]);
      const fresh = warnings.messages.filter((m) => !warningsBefore.messages.includes(m));
      if (fresh.length > 0) process.stderr.write(`bench: k: the nodes logged: ${fresh.join("; ")}\n`);
      for (const result of Array.isArray(out) ? out : [out]) {
        result.figures.nodeWarnings = warnings.count - warningsBefore.count;
        result.figures.roomsMoved = moved
          .map((room) => `${room}: ${leasesBefore[room]} -> ${leasesAfter[room]}`)
          .join(", ");
        results.push(result);
      }
    };
    await watched(() =>
      routedOps(ctx, cluster, {
        owner: siteOwner,
        receiver: others(siteOwner)[0]!,
        listScheduleId: listSchedule,
        holdScheduleId: holdSchedule,
        holdSeats: 100_000,
      }),
    );

    const started = performance.now();
    const perProcess = RAW_WATCHERS / WATCHER_PROCESSES;
    for (let index = 0; index < WATCHER_PROCESSES; index++) {
      watchers.push(
        forkWorker("watchers.js", {
          ports: cluster.nodes.map((node) => node.port),
          secret: SECRET,
          userPrefix: `watcher${index}-`,
          count: perProcess,
          follow: [{ scheduleId: fanoutSchedule }, { concertId: onSale.id, scheduleId: saleCatalog.scheduleId }],
        } satisfies WatcherJob),
      );
    }
    const ready = await cluster.whileUp(Promise.all(watchers.map((w) => w.next("ready"))));
    const refused = ready.reduce((sum, m) => sum + Number(m.refused), 0);
    if (refused > 0) throw new Error(`${refused} watchers could not check in or subscribe`);
    const setUpSeconds = (performance.now() - started) / 1000;
    process.stderr.write(`bench: k: ${RAW_WATCHERS} watchers subscribed in ${setUpSeconds.toFixed(1)} s\n`);
    const frames = async () => {
      for (const w of watchers) w.send({ type: "count" });
      const counts = await cluster.whileUp(Promise.all(watchers.map((w) => w.next("frames"))));
      return counts.reduce((sum, m) => sum + Number(m.frames), 0);
    };
    await watched(async () => {
      const fanout = await clusterFanout(ctx, cluster, {
        owner: siteOwner,
        driverNode: others(siteOwner)[0]!,
        scheduleId: fanoutSchedule,
        seats: 500,
        rawWatchers: RAW_WATCHERS,
        frames,
        watcherPids: watchers.map((w) => w.child.pid!),
      });
      fanout.figures.watcherSetUpSeconds = Number(setUpSeconds.toFixed(1));
      return fanout;
    });
    await watched(() =>
      clusterOnSale(cluster, {
        owner: saleOwner,
        catalog: saleCatalog,
        rawWatchers: RAW_WATCHERS,
        frames,
        watcherPids: watchers.map((w) => w.child.pid!),
      }),
    );
    results.push(clusterCapacity(results, cluster.nodes.length));
    return results;
  } catch (error) {
    for (const node of cluster.nodes) {
      process.stderr.write(`bench: k: the last lines of ${node.id}:\n${node.server.logs.slice(-15).join("\n")}\n`);
    }
    throw error;
  } finally {
    for (const w of watchers) w.send({ type: "stop" });
    await cluster.stop();
  }
}

export interface SaleSize {
  fans: number;
  seats: number;
  /** The fans' share of the active set. */
  active: number;
  /** Sampled watchers per generator process (spread over the nodes), plus its seat-map watcher. */
  sampledWatchers: number;
  /** Places of the active set kept for the generators' watchers. */
  reservedWatchers: number;
}

/** The fans come through every node but the owner: one generator process for each. */
function saleSize(ctx: BenchContext, nodes: number): SaleSize {
  const sampledWatchers = 60;
  return {
    fans: ctx.quick ? 2000 : 4000,
    seats: ctx.quick ? 1000 : 2000,
    active: 500,
    sampledWatchers,
    reservedWatchers: (nodes - 1) * (sampledWatchers + 1),
  };
}
