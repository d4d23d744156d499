// `npm run bench [-- --quick] [-- --only=a,b,...] [-- --nodes N]`: ceilings and scenarios in one
// run, each scenario audited; a table on stdout, JSON and an SVG chart under bench/results/.
// `--nodes N` runs step k (the cluster, N nodes) alone unless --only names steps too.
import { join } from "node:path";
import { type BenchContext, type ScenarioResult, serverMain } from "./lib/context.js";
import { cpuPressureMicros } from "./lib/processes.js";
import { machine, printTable, type RunReport, rateLimited, writeReport } from "./lib/report.js";
import { bookingClosedLoop, bookingOpenLoop, durableHolds } from "./scenarios/booking.js";
import { catalogReads } from "./scenarios/catalog.js";
import { ceilings } from "./scenarios/ceilings.js";
import { clusterScenarios } from "./scenarios/cluster.js";
import { door } from "./scenarios/door.js";
import { fanout, fanoutCeiling } from "./scenarios/fanout.js";
import { flashSale } from "./scenarios/flashSale.js";
import { badTokenFlood } from "./scenarios/flood.js";
import { idempotencyMemory } from "./scenarios/idempotency.js";
import { memoryAndRestart } from "./scenarios/memory.js";
import { onSaleFlash, preQueueDraw } from "./scenarios/onSale.js";
import { postgresScenarios } from "./scenarios/postgres.js";
import { venues } from "./scenarios/venues.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
/** `--nodes N` or `--nodes=N`: the cluster step's node count (3 by default). */
const nodesArg = args.findIndex((a) => a === "--nodes" || a.startsWith("--nodes="));
const nodes = nodesArg === -1 ? undefined : Number(args[nodesArg]!.split("=")[1] ?? args[nodesArg + 1]);
if (nodes !== undefined && !(Number.isInteger(nodes) && nodes >= 2)) {
  console.error("--nodes needs a whole number of nodes, at least 2");
  process.exit(2);
}
const only =
  args
    .find((a) => a.startsWith("--only="))
    ?.slice("--only=".length)
    .split(",") ?? (nodes !== undefined ? ["k"] : undefined);
const ctx: BenchContext = { quick, seconds: (full, short) => (quick ? short : full) };

const want = (id: string) => !only || only.includes(id);

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const results: ScenarioResult[] = [];
  const step = async (id: string, run: () => Promise<ScenarioResult | ScenarioResult[]>) => {
    if (!want(id)) return;
    process.stderr.write(`bench: ${id}...\n`);
    const started = performance.now();
    const pressureBefore = cpuPressureMicros();
    const out = await run();
    // Share of the step's time in which some task waited for a CPU: on this shared VM, other
    // agents' work shows here (the step's own server and generators count too).
    const pressure = (cpuPressureMicros() - pressureBefore) / ((performance.now() - started) * 1000);
    for (const result of Array.isArray(out) ? out : [out]) {
      // A step of several scenarios (pg) may have recorded each one's own.
      if (Number.isFinite(pressure) && result.figures.machineCpuPressure === undefined)
        result.figures.machineCpuPressure = Number(pressure.toFixed(2));
      results.push(result);
    }
    process.stderr.write(`bench: ${id} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  };

  await step("ceiling", () => ceilings(ctx));
  await step("a", () => catalogReads(ctx));
  await step("b.closed", () => bookingClosedLoop(ctx));
  // Only when the scenarios compared with them ran too (a plain --only=ceiling measures once).
  if (want("a") || want("b.closed")) await step("ceiling", () => ceilings(ctx, true));
  const closed = results.find((r) => r.id === "b.mix.closed")?.throughput;
  if (closed) {
    for (const share of [0.5, 0.8])
      await step("b.open", () => bookingOpenLoop(ctx, Math.round((closed * share) / 100) * 100));
  }
  await step("b.durable", () => durableHolds(ctx));
  // The default active set, then one sized for latency (see BENCHMARKS.md).
  await step("c", async () => [await flashSale(ctx, 1000), await flashSale(ctx, 250)]);
  await step("d", async () => [await fanoutCeiling(ctx), await fanout(ctx)]);
  await step("e", () => memoryAndRestart(ctx));
  // b.mix.closed, b.durable and e.restart again on PostgreSQL, with its own commit ceiling.
  await step("pg", () => postgresScenarios(ctx));
  await step("f", () => idempotencyMemory(ctx));
  await step("g", () => badTokenFlood(ctx));
  await step("h", () => onSaleFlash(ctx));
  await step("i", () => preQueueDraw(ctx));
  await step("j", () => door(ctx));
  // The cluster: private PostgreSQL and nats-server, `--nodes` nodes (3 by default).
  await step("k", () => clusterScenarios(ctx, nodes ?? 3));
  // Venues and best available (issue 16): in process, then 1,000 fans over WebSockets.
  await step("l", () => venues(ctx));

  const byId = (id: string) => results.find((r) => r.id === id);
  const ratios: RunReport["ratios"] = {};
  const ratio = (name: string, a?: number, b?: number, target = 0) => {
    if (a === undefined || b === undefined) return;
    const measured = a / b;
    ratios[name] = { measured, target: `>= ${target}`, met: measured >= target };
  };
  // A ceiling measured before and after its scenario counts as the mean of the two readings.
  const ceiling = (id: string) => {
    const readings = [byId(id)?.throughput, byId(`${id}.after`)?.throughput].filter((t) => t !== undefined);
    return readings.length === 0 ? undefined : readings.reduce((a, b) => a + b, 0) / readings.length;
  };
  ratio("WS booking ops/s / WS echo ceiling", byId("b.mix.closed")?.throughput, ceiling("ceiling.ws"), 0.6);
  ratio("HTTP catalog reads / static uWS", byId("a.catalog")?.throughput, ceiling("ceiling.http"), 0.8);
  const durable = byId("b.durable")?.figures.holdsPerSecond as number | undefined;
  ratio(
    "durable holds/s / raw FULL commits/s",
    durable,
    byId("ceiling.sqlite")?.figures.full as number | undefined,
    10,
  );
  ratio(
    "PostgreSQL durable holds/s / PostgreSQL single-row commits/s",
    byId("b.durable.pg")?.figures.holdsPerSecond as number | undefined,
    ceiling("ceiling.postgres"),
    10,
  );
  ratio(
    "WS booking ops/s on PostgreSQL / WS echo ceiling",
    byId("b.mix.closed.pg")?.throughput,
    ceiling("ceiling.ws"),
    0.6,
  );

  const server = serverMain();
  const report: RunReport = { startedAt, quick, machine: machine(), ...(server ? { server } : {}), results, ratios };
  printTable(report);
  const files = writeReport(report, join(import.meta.dirname, "../../bench/results"));
  console.log(`\nwrote ${files.json} and ${files.svg}`);
  const failedAudits = results.filter((r) => r.audit && !r.audit.ok);
  if (failedAudits.length > 0) {
    console.error(`AUDIT FAILED: ${failedAudits.map((r) => r.id).join(", ")}`);
    process.exitCode = 1;
  }
  // The scenarios run with the limits off (LIMITS_OFF); g.flood counts its flood's 429s apart.
  const refused = results.filter((r) => rateLimited(r) > 0);
  if (refused.length > 0) {
    console.error(`RATE LIMITED: ${refused.map((r) => `${r.id} (${rateLimited(r)})`).join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
