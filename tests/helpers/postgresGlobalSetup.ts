// The postgres project's global setup: ONE private cluster for the whole run, its admin URL handed
// to the workers (provide/inject), stopped when the run ends.
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { postgresBinDir, startPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binDir = postgresBinDir();
  // vitest.config.ts leaves this project out when the binaries are missing, except under CI=true.
  if (!binDir) throw new Error("PostgreSQL suites: no PostgreSQL binaries; CI must install postgresql (see .ci/run)");
  const started = performance.now();
  const cluster = await startPostgres({ binDir });
  const ms = (since: number) => `${Math.round(performance.now() - since)} ms`;
  console.log(
    `PostgreSQL suites: ${cluster.version} from ${binDir} (private cluster on port ${cluster.port}, up in ${ms(started)})`,
  );
  project.provide("postgresAdminUrl", cluster.url);
  return async () => {
    // Databases of servers that never started, or whose test skipped cleanup(): harmless, but counted.
    const sql = postgres(cluster.url, { max: 1 });
    const [left] = await sql<
      [{ n: number }]
    >`SELECT count(*)::int AS n FROM pg_database WHERE starts_with(datname, 't_')`;
    await sql.end();
    const stopping = performance.now();
    await cluster.stop();
    console.log(
      `PostgreSQL suites: cluster stopped and removed in ${ms(stopping)} (${left.n} test databases left undropped)`,
    );
  };
}
