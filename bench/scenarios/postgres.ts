// The `pg` step: the store-bound scenarios again on PostgreSQL, in the same run as their SQLite
// runs, on ONE private cluster as durable as production (fsync, full_page_writes and
// synchronous_commit on), each server on a fresh database of it:
//   ceiling.postgres     single-row commits per second (like ceiling.sqlite), before the scenarios
//   b.mix.closed.pg      the closed-loop WebSocket booking mix of b.mix.closed
//   b.durable.pg         the holds-only run of b.durable (PostgreSQL is always durable)
//   ceiling.postgres.after  the ceiling again (the ratio uses the mean of the two readings)
//   e.restart.pg         e.restart: 1M seats and 100k holds, kill -9, restart
// The cluster is stopped (and its files removed) at the end, also when a scenario fails.
import { connect } from "../../src/store/postgres/connect.js";
import { createDatabase, databaseUrl, dropDatabase, startPostgres } from "../../tests/helpers/postgres.js";
import { postgresSingleRowCommits } from "../ceilings/postgresCommits.js";
import type { BenchContext, ScenarioResult } from "../lib/context.js";
import { cpuPressureMicros } from "../lib/processes.js";
import { bookingClosedLoop, durableHolds } from "./booking.js";
import { fillAndRestart } from "./restart.js";

export async function postgresScenarios(ctx: BenchContext): Promise<ScenarioResult[]> {
  const cluster = await startPostgres({ durable: true });
  const results: ScenarioResult[] = [];
  try {
    const settings = await clusterSettings(cluster.url);
    process.stderr.write(`bench: pg: ${cluster.version}, ${JSON.stringify(settings)}\n`);
    if (settings.fsync !== "on" || settings.synchronous_commit !== "on") {
      throw new Error(`the cluster is not durable: ${JSON.stringify(settings)}`);
    }
    /** Runs `scenario` on a fresh database, then drops it; records the CPU pressure of its own time. */
    const onFreshDatabase = async (
      name: string,
      scenario: (url: string) => Promise<ScenarioResult>,
    ): Promise<ScenarioResult> => {
      process.stderr.write(`bench: pg: ${name}...\n`);
      await createDatabase(cluster.url, name);
      const started = performance.now();
      const pressureBefore = cpuPressureMicros();
      try {
        const result = await scenario(databaseUrl(cluster.url, name));
        const pressure = (cpuPressureMicros() - pressureBefore) / ((performance.now() - started) * 1000);
        if (Number.isFinite(pressure)) result.figures.machineCpuPressure = Number(pressure.toFixed(2));
        results.push(result);
        return result;
      } finally {
        // Not to hide the scenario's own failure; the cluster goes at the end anyway.
        await dropDatabase(cluster.url, name).catch(() => {});
      }
    };
    const ceiling = (suffix: string) => async (url: string) => {
      const { autocommit, begin } = await postgresSingleRowCommits(url, ctx.seconds(3, 1) * 1000);
      return {
        id: `ceiling.postgres${suffix}`,
        title: "PostgreSQL single-row commits (fsync, synchronous_commit on)",
        throughput: autocommit,
        unit: "commits/s",
        figures: {
          autocommit: Math.round(autocommit),
          beginInsertCommit: Math.round(begin),
          postgres: cluster.version,
          ...settings,
        },
      } satisfies ScenarioResult;
    };

    await onFreshDatabase("ceiling", ceiling(""));
    await onFreshDatabase("mix_closed", (url) => bookingClosedLoop(ctx, url));
    await onFreshDatabase("durable", (url) => durableHolds(ctx, url));
    await onFreshDatabase("ceiling_after", ceiling(".after"));
    await onFreshDatabase(
      "restart",
      async (url) => (await fillAndRestart(ctx, "e.restart.pg", { databaseUrl: url })).restart,
    );
    return results;
  } finally {
    await cluster.stop();
  }
}

async function clusterSettings(adminUrl: string): Promise<Record<string, string>> {
  const sql = connect(adminUrl, { max: 1 });
  try {
    const rows = await sql<{ name: string; setting: string }[]>`SELECT name, setting FROM pg_settings
      WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers')`;
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await sql.end({ timeout: 5 });
  }
}
