// The private cluster helper itself (tests/helpers/postgres.ts), on a cluster of its own: kill -9
// under load and a restart on the same data dir keep every acknowledged commit; stop removes it all.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import postgres from "postgres";
import { expect } from "vitest";
import { onlyOn } from "../helpers/onlyOn.js";
import { createDatabase, databaseUrl, dropDatabase, startPostgres } from "../helpers/postgres.js";

onlyOn("postgres", "a PostgreSQL cluster of its own").test(
  "a cluster killed with SIGKILL under load restarts on its data dir and port with every acknowledged commit",
  async () => {
    const cluster = await startPostgres();
    try {
      expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
      expect(cluster.version).toMatch(/^PostgreSQL \d+\.\d+/);
      expect(await createDatabase(cluster.url, "load")).toBe(true);
      expect(await createDatabase(cluster.url, "load")).toBe(false);
      const url = databaseUrl(cluster.url, "load");
      const setup = postgres(url, { max: 1 });
      await setup`CREATE TABLE acked (writer int, n int, PRIMARY KEY (writer, n))`;
      await setup.end();

      // Four writers commit one row at a time and remember what was acknowledged.
      const acked: number[][] = [[], [], [], []];
      const writers = acked.map(async (mine, writer) => {
        const sql = postgres(url, { max: 1, max_lifetime: null, idle_timeout: 0, connect_timeout: 2 });
        try {
          for (let n = 0; ; n++) {
            await sql`INSERT INTO acked VALUES (${writer}, ${n})`;
            mine.push(n);
          }
        } catch {
          // the kill
        } finally {
          await sql.end({ timeout: 0 }).catch(() => {});
        }
      });
      while (acked.some((rows) => rows.length < 50)) await new Promise((done) => setTimeout(done, 10));
      const restartStarted = performance.now();
      await cluster.kill();
      await Promise.all(writers);
      await cluster.restart();
      console.log(`postgres cluster restarted after SIGKILL in ${Math.round(performance.now() - restartStarted)} ms`);

      const sql = postgres(url, { max: 1 });
      const rows = await sql<{ writer: number; n: number }[]>`SELECT writer, n FROM acked`;
      await sql.end();
      const stored = new Set(rows.map((r) => `${r.writer}/${r.n}`));
      const lost = acked.flatMap((mine, writer) => mine.filter((n) => !stored.has(`${writer}/${n}`)));
      expect(lost).toEqual([]);
      expect(acked.flat().length).toBeGreaterThanOrEqual(200);

      await dropDatabase(cluster.url, "load");
      const admin = postgres(cluster.url, { max: 1 });
      expect(await admin`SELECT 1 FROM pg_database WHERE datname = 'load'`).toHaveLength(0);
      await admin.end();
    } finally {
      await cluster.stop();
    }
    expect(existsSync(dirname(cluster.dataDir))).toBe(false);
  },
  60_000,
);
