// k.fanout and k.onsale: pushes to 10,000 subscribers spread over every node. Each schedule's diffs
// leave its owner once, on NATS (tickets.seats.<id>), and every node republishes them to its own
// sockets. Delivery is timed on sampled watchers (200 in k.fanout, 2 × 60 in k.onsale, a third on
// each node) from the acknowledgement of the hold, in the process that made it; 9,800 raw watchers
// in two other processes make up the 10,000 and only count frames.
import { audit } from "../lib/audit.js";
import { type BenchCluster, type BenchNode, cpuFigures } from "../lib/cluster.js";
import { type BenchContext, type ScenarioResult, SECRET } from "../lib/context.js";
import { createHistogram, type LatencySummary, mergeHistograms, recordMs, summarize } from "../lib/histogram.js";
import { errorFigures, forkLoad } from "../lib/processes.js";
import { gauge, scrape } from "../lib/serverMetrics.js";
import type { JobResult } from "../load/wsLoad.js";
import type { SaleSize } from "./cluster.js";

/** Sampled subscribers of the fan-out (in the driver's process). */
const SAMPLED = 200;
const CHANGES_PER_SECOND = 1000;
/** prom-client's event-loop timer (collectDefaultMetrics' eventLoopMonitoringPrecision). */
const LOOP_TIMER_MS = 10;

interface FanoutSpec {
  owner: BenchNode;
  /** The node the driver's holds go through (not the owner: they are forwarded, as most would be). */
  driverNode: BenchNode;
  scheduleId: number;
  seats: number;
  rawWatchers: number;
  /** Frames the raw watchers have received so far. */
  frames: () => Promise<number>;
  /** The raw watchers' processes. */
  watcherPids: number[];
}

/**
 * Roles for CPU figures: `owner`, then each other node by its role in `named` or else its id, NATS,
 * PostgreSQL, and `load` (every generator process of the phase, the raw watchers included).
 */
function roles(cluster: BenchCluster, owner: BenchNode, named: Map<BenchNode, string> = new Map()) {
  const byRole: Record<string, string> = { owner: owner.id };
  for (const node of cluster.nodes) if (node !== owner) byRole[named.get(node) ?? node.id] = node.id;
  return { ...byRole, nats: "nats", postgres: "postgres", load: "load", machine: "machine" };
}

/**
 * Delivery timed from `name` (fromPublish: the owner's publish heard on NATS; fromAck: the hold's
 * acknowledgement), per node (`fromPublish.node2.p99Ms`, the owner marked).
 */
function deliveryFigures(name: string, cluster: BenchCluster, owner: BenchNode, results: JobResult[]) {
  const figures: Record<string, number> = {};
  cluster.nodes.forEach((node, k) => {
    const merged = summarize(mergeHistograms(results.map((r) => r.histograms[`${name}.n${k}`]!).filter(Boolean)));
    const label = node === owner ? `${node.id}(owner)` : node.id;
    figures[`${name}.${label}.p50Ms`] = merged.p50;
    figures[`${name}.${label}.p99Ms`] = merged.p99;
  });
  const before = name === "fromAck" ? "pushesBeforeAck" : "pushesBeforePublish";
  figures[before] = results.reduce((sum, r) => sum + (r.extra[before] ?? 0), 0);
  return figures;
}

export async function clusterFanout(
  ctx: BenchContext,
  cluster: BenchCluster,
  spec: FanoutSpec,
): Promise<ScenarioResult> {
  const durationMs = ctx.seconds(10, 4) * 1000;
  const driver = forkLoad({
    mode: "fanout",
    url: spec.driverNode.wsUrl,
    secret: SECRET,
    userPrefix: "k-sampled-",
    connections: 1,
    watchers: SAMPLED,
    watcherUrls: cluster.nodes.map((node) => node.wsUrl),
    durationMs,
    scheduleIds: [spec.scheduleId],
    seatsPerSchedule: spec.seats,
    changesPerSecond: CHANGES_PER_SECOND,
    sampleEvery: 1,
    natsUrl: cluster.natsUrl,
  });
  await cluster.whileUp(driver.ready);
  const framesBefore = await spec.frames();
  const loadPids = [driver.child.pid!, ...spec.watcherPids];
  const cpuBefore = cluster.cpu(loadPids);
  const started = performance.now();
  const result = await cluster.whileUp(driver.go());
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cluster.cpu(loadPids);
  const rawFrames = (await spec.frames()) - framesBefore;
  driver.release();
  const pushes = rawFrames + (result.extra.pushesReceived ?? 0);
  const fromAck = summarize(mergeHistograms([result.histograms.fromAck!].filter(Boolean)));
  const fromPublish = summarize(mergeHistograms([result.histograms.fromPublish!].filter(Boolean)));
  const fromSend = summarize(mergeHistograms([result.histograms.delivery!].filter(Boolean)));
  const hold = summarize(mergeHistograms([result.histograms.hold!].filter(Boolean)));
  const subscribers = spec.rawWatchers + SAMPLED;
  // The driver's node forwards its holds; a third node only delivers: its CPU per frame is the
  // fan-out's own cost.
  const named = new Map([[spec.driverNode, "forwarder"]]);
  const deliverer = cluster.nodes.find((node) => node !== spec.owner && node !== spec.driverNode);
  if (deliverer) named.set(deliverer, "gateway");
  const fanoutRoles = roles(cluster, spec.owner, named);
  return {
    id: "k.fanout",
    title: `(k) Fan-out: ${subscribers} subscribers over ${cluster.nodes.length} nodes, ${CHANGES_PER_SECOND} changes/s`,
    throughput: pushes / seconds,
    unit: "frames/s delivered",
    latency: fromPublish,
    figures: {
      subscribers,
      subscribersPerNode: Math.round(subscribers / cluster.nodes.length),
      changes: result.extra.changesIssued ?? 0,
      pushes,
      fromPublishP50Ms: fromPublish.p50,
      fromPublishP99Ms: fromPublish.p99,
      fromAckP50Ms: fromAck.p50,
      fromAckP99Ms: fromAck.p99,
      ...deliveryFigures("fromPublish", cluster, spec.owner, [result]),
      ...deliveryFigures("fromAck", cluster, spec.owner, [result]),
      fromHoldSent: `${fromSend.p50} / ${fromSend.p99}`,
      fromHoldSentP99Ms: fromSend.p99,
      holdP50Ms: hold.p50,
      holdP99Ms: hold.p99,
      ...cpuFigures(cpuBefore, cpuAfter, seconds, fanoutRoles, {
        name: "cpuUsPerFrame",
        count: pushes,
      }),
      ...errorFigures([result]),
      generatorCpuCores: result.extra.generatorCpuCores ?? 0,
      generatorLagP99Ms: result.extra.generatorLagP99Ms ?? 0,
      seconds: Number(seconds.toFixed(1)),
    },
    targets: {
      "p99 owner's publish to push (ms)": { measured: fromPublish.p99, target: "< 100", met: fromPublish.p99 < 100 },
      "p99 hold ack to push (ms)": { measured: fromAck.p99, target: "< 100", met: fromAck.p99 < 100 },
    },
  };
}

export interface SaleCatalog extends SaleSize {
  concertId: number;
  scheduleId: number;
}

interface OnSaleSpec {
  owner: BenchNode;
  catalog: SaleCatalog;
  rawWatchers: number;
  frames: () => Promise<number>;
  watcherPids: number[];
}

/**
 * Times GET /healthz on `node` every 20 ms until stopped: a request its event loop must answer,
 * so a stalled loop shows as a slow answer (the probe from outside; /metrics has the loop's own view).
 */
function probe(node: BenchNode): { stop(): Promise<LatencySummary> } {
  const histogram = createHistogram();
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await (await fetch(`${node.url}/healthz`)).arrayBuffer();
      recordMs(histogram, performance.now() - started);
      await new Promise((done) => setTimeout(done, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return summarize(histogram);
    },
  };
}

/**
 * The flash on-sale: `fans` fans check in within a second through the nodes that do not own the
 * on-sale's room (half on each), wait to be admitted, pick a seat their map shows free, hold it,
 * charge and pay, until `seats` are sold, while the 10,000 watch the seat map.
 */
export async function clusterOnSale(cluster: BenchCluster, spec: OnSaleSpec): Promise<ScenarioResult> {
  const { catalog, owner } = spec;
  const through = cluster.nodes.filter((node) => node !== owner);
  let sold = 0;
  let onSoldOut: () => void = () => {};
  const soldOut = new Promise<void>((done) => {
    onSoldOut = done;
  });
  const loads = through.map((node, index) =>
    forkLoad(
      {
        mode: "flash",
        url: node.wsUrl,
        secret: SECRET,
        userPrefix: `k-fan${index}-`,
        // The first connection is the process's seat-map watcher, the others are fans.
        connections: Math.round(catalog.fans / through.length) + 1,
        watchers: catalog.sampledWatchers,
        watcherUrls: cluster.nodes.map((n) => n.wsUrl),
        checkInConcertId: catalog.concertId,
        durationMs: 120_000,
        scheduleIds: [catalog.scheduleId],
        seatsPerSchedule: catalog.seats,
        natsUrl: cluster.natsUrl,
      },
      () => {
        if (++sold >= catalog.seats) onSoldOut();
      },
    ),
  );
  await cluster.whileUp(Promise.all(loads.map((load) => load.ready)));
  // prom-client's event-loop figures cover the time since its last scrape: this one starts them.
  await scrape(owner.url);
  const framesBefore = await spec.frames();
  const loopProbe = probe(owner);
  const loadPids = [...loads.map((load) => load.child.pid!), ...spec.watcherPids];
  const cpuBefore = cluster.cpu(loadPids);
  const started = performance.now();
  const running = Promise.all(loads.map((load) => load.go()));
  let giveUp: NodeJS.Timeout | undefined;
  await cluster.whileUp(Promise.race([soldOut, running, new Promise((wait) => (giveUp = setTimeout(wait, 90_000)))]));
  clearTimeout(giveUp);
  const soldOutSeconds = sold >= catalog.seats ? (performance.now() - started) / 1000 : Number.NaN;
  const cpuAfter = cluster.cpu(loadPids);
  const metrics = await scrape(owner.url);
  const probed = await loopProbe.stop();
  const rawFrames = (await spec.frames()) - framesBefore;
  for (const load of loads) load.release();
  const results = await cluster.whileUp(running);
  const seconds = Number.isFinite(soldOutSeconds) ? soldOutSeconds : (performance.now() - started) / 1000;
  const merged = (name: string) => summarize(mergeHistograms(results.map((r) => r.histograms[name]!).filter(Boolean)));
  const hold = merged("hold");
  const pay = merged("pay");
  const fromAck = merged("fromAck");
  const fromPublish = merged("fromPublish");
  // prom-client times a 10 ms timer (monitorEventLoopDelay, resolution 10): each reading is the
  // interval plus the lag, so an idle loop reads about 10 ms. The lag is the reading less 10 ms.
  const delayP99 = gauge(metrics, "ticketing_nodejs_eventloop_lag_p99_seconds") * 1000;
  const lagP99 = Math.max(0, delayP99 - LOOP_TIMER_MS);
  const paymentIds = results.flatMap((r) => r.paymentIds);
  const sum = (key: string) => results.reduce((total, r) => total + (r.extra[key] ?? 0), 0);
  return {
    id: "k.onsale",
    title: `(k) Flash on-sale: ${catalog.fans} fans through ${through.map((n) => n.id).join(" and ")}, ${catalog.seats} seats, room on ${owner.id}`,
    throughput: paymentIds.length / seconds,
    unit: "sales/s",
    latency: hold,
    figures: {
      fans: catalog.fans,
      seats: catalog.seats,
      fansActiveMax: catalog.active,
      watchers: spec.rawWatchers + catalog.reservedWatchers,
      sold: paymentIds.length,
      admitted: sum("admitted"),
      gaveUp: sum("gaveUp"),
      soldOutSeconds: Number(soldOutSeconds.toFixed(1)),
      holdP50Ms: hold.p50,
      holdP99Ms: hold.p99,
      payP50Ms: pay.p50,
      payP99Ms: pay.p99,
      fromPublishP50Ms: fromPublish.p50,
      fromPublishP99Ms: fromPublish.p99,
      fromAckP50Ms: fromAck.p50,
      fromAckP99Ms: fromAck.p99,
      ...deliveryFigures("fromPublish", cluster, owner, results),
      ...deliveryFigures("fromAck", cluster, owner, results),
      rawWatcherFrames: rawFrames,
      // Every watcher receives the same frames; each node sends them to its 1/N of the watchers.
      framesPerNode: Math.round(
        (rawFrames * (spec.rawWatchers + catalog.reservedWatchers)) / spec.rawWatchers / cluster.nodes.length,
      ),
      ownerLoopLagP99Ms: Number(lagP99.toFixed(1)),
      ownerLoopDelayP99Ms: Number(delayP99.toFixed(1)),
      ownerLoopDelayMaxMs: Number((gauge(metrics, "ticketing_nodejs_eventloop_lag_max_seconds") * 1000).toFixed(1)),
      ownerHealthzP50Ms: probed.p50,
      ownerHealthzP99Ms: probed.p99,
      ...cpuFigures(cpuBefore, cpuAfter, seconds, roles(cluster, owner), {
        name: "cpuUsPerSale",
        count: paymentIds.length,
      }),
      ...errorFigures(results),
      generatorCpuCores: Number(sum("generatorCpuCores").toFixed(2)),
      generatorLagP99Ms: Math.max(...results.map((r) => r.extra.generatorLagP99Ms ?? 0)),
      seconds: Number(seconds.toFixed(1)),
    },
    audit: await audit({ dataDir: "", databaseUrl: cluster.databaseUrl }, paymentIds),
    targets: {
      "booking (hold) p99 (ms)": { measured: hold.p99, target: "< 50", met: hold.p99 < 50 },
      "fan-out p99, owner's publish to push (ms)": {
        measured: fromPublish.p99,
        target: "< 100",
        met: fromPublish.p99 < 100,
      },
      "fan-out p99, hold ack to push (ms)": { measured: fromAck.p99, target: "< 100", met: fromAck.p99 < 100 },
      "owner event-loop lag p99 (ms)": { measured: lagP99, target: "< 20", met: lagP99 < 20 },
    },
  };
}
