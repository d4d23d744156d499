// k.list.* and k.pairs.*: the cost of a routed op against a local one. The same generator process
// sends the same op to the room's owner and to a node that must forward it over NATS, alternating
// (owner, routed, routed, owner) so that a slow minute of this shared machine falls on both; first
// one request at a time on one socket (the latency of the path itself), then a closed loop on many.
import type { BenchCluster, BenchNode } from "../lib/cluster.js";
import { cpuFigures } from "../lib/cluster.js";
import { type BenchContext, type ScenarioResult, SECRET } from "../lib/context.js";
import { mergeHistograms, summarize } from "../lib/histogram.js";
import { forkWorker } from "../lib/processes.js";
import type { Phase, PhaseResult, RoutedOpsJob } from "../load/routedOps.js";

/** Sockets of the closed loop, per target. */
const CONNECTIONS = 128;

interface RoutingSpec {
  owner: BenchNode;
  receiver: BenchNode;
  listScheduleId: number;
  holdScheduleId: number;
  holdSeats: number;
}

interface Measured {
  result: PhaseResult;
  cpuBefore: Record<string, number>;
  cpuAfter: Record<string, number>;
}

export async function routedOps(
  ctx: BenchContext,
  cluster: BenchCluster,
  spec: RoutingSpec,
): Promise<ScenarioResult[]> {
  const worker = forkWorker("routedOps.js", {
    urls: [spec.owner.wsUrl, spec.receiver.wsUrl],
    secret: SECRET,
    userPrefix: "routed-",
    connections: CONNECTIONS,
    listScheduleId: spec.listScheduleId,
    holdScheduleId: spec.holdScheduleId,
    holdSeats: spec.holdSeats,
  } satisfies RoutedOpsJob);
  const run = async (phase: Omit<Phase, "type">): Promise<Measured> => {
    const loadPids = [worker.child.pid!];
    const cpuBefore = cluster.cpu(loadPids);
    worker.send({ type: "phase", ...phase });
    const result = (await cluster.whileUp(worker.next("phase"))) as unknown as PhaseResult;
    return { result, cpuBefore, cpuAfter: cluster.cpu(loadPids) };
  };
  try {
    await cluster.whileUp(worker.next("ready"));
    const results: ScenarioResult[] = [];
    for (const op of ["list", "pairs"] as const) {
      const unloadedMs = ctx.seconds(1.5, 1) * 1000;
      const unloaded = [await run({ target: 0, op, connections: 1, ms: unloadedMs })];
      unloaded.push(await run({ target: 1, op, connections: 1, ms: unloadedMs }));
      const loaded: Measured[][] = [[], []];
      for (const target of [0, 1, 1, 0]) {
        loaded[target]!.push(await run({ target, op, connections: CONNECTIONS, ms: ctx.seconds(5, 2) * 1000 }));
      }
      for (const target of [0, 1]) results.push(summary(cluster, spec, op, target, unloaded[target]!, loaded[target]!));
    }
    return results;
  } finally {
    worker.send({ type: "stop" });
  }
}

function summary(
  cluster: BenchCluster,
  spec: RoutingSpec,
  op: "list" | "pairs",
  target: number,
  unloaded: Measured,
  rounds: Measured[],
): ScenarioResult {
  const routed = target === 1;
  const ops = rounds.reduce((sum, r) => sum + r.result.ops, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.result.elapsedMs, 0) / 1000;
  const names = Object.keys(rounds[0]!.result.histograms);
  const latency = summarize(mergeHistograms(rounds.flatMap((r) => Object.values(r.result.histograms))));
  const figures: Record<string, number | string> = { connections: CONNECTIONS, ops };
  for (const name of names) {
    const merged = summarize(mergeHistograms(rounds.map((r) => r.result.histograms[name]!).filter(Boolean)));
    const alone = summarize(mergeHistograms([unloaded.result.histograms[name]!].filter(Boolean)));
    Object.assign(figures, {
      [`${name}.p50Ms`]: merged.p50,
      [`${name}.p99Ms`]: merged.p99,
      [`${name}.oneAtATime.p50Ms`]: alone.p50,
      [`${name}.oneAtATime.p99Ms`]: alone.p99,
    });
  }
  rounds.forEach((r, i) => {
    figures[`round${i + 1}OpsPerSecond`] = Math.round(r.result.ops / (r.result.elapsedMs / 1000));
  });
  // CPU by role over both rounds: the owner, the node that forwarded (routed only), the idle one.
  const idle = cluster.nodes.find((node) => node !== spec.owner && node !== spec.receiver);
  const roles: Record<string, string> = {
    owner: spec.owner.id,
    ...(routed ? { receiver: spec.receiver.id } : {}),
    ...(idle ? { idleNode: idle.id } : {}),
    nats: "nats",
    postgres: "postgres",
    load: "load",
    machine: "machine",
  };
  const sumOf = (pick: (m: Measured) => Record<string, number>) => {
    const total: Record<string, number> = {};
    for (const r of rounds) for (const [key, value] of Object.entries(pick(r))) total[key] = (total[key] ?? 0) + value;
    return total;
  };
  Object.assign(
    figures,
    cpuFigures(
      sumOf((r) => r.cpuBefore),
      sumOf((r) => r.cpuAfter),
      seconds,
      roles,
      { name: "cpuUsPerOp", count: ops },
    ),
  );
  for (const [code, n] of Object.entries(sumOf((r) => r.result.errors))) figures[`err.${code}`] = n;
  figures.generatorCpuCores = Math.max(...rounds.map((r) => r.result.generatorCpuCores));
  figures.generatorLagP99Ms = Math.max(...rounds.map((r) => r.result.generatorLagP99Ms));
  const what = op === "list" ? "seats.list of 100 seats" : "hold + release pairs";
  const path = routed
    ? `sent to ${spec.receiver.id}, forwarded to ${spec.owner.id}`
    : `sent to the owner ${spec.owner.id}`;
  return {
    id: `k.${op}.${routed ? "routed" : "owner"}`,
    title: `(k) ${what}, ${path}`,
    throughput: ops / seconds,
    unit: "ops/s",
    latency,
    figures,
  };
}
