// The store plumbing itself: on the postgres project every server gets a database of its own on the
// run's private cluster through DATABASE_URL; on the sqlite project none.
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { afterAll, describe, expect } from "vitest";
import { onlyOn } from "../helpers/onlyOn.js";
import { startServer, type TestServer, testStore } from "../helpers/server.js";
import { postgresAdminUrl } from "../helpers/testStore.js";

const started: TestServer[] = [];
afterAll(async () => {
  for (const s of started) await s.stop();
  await Promise.all(started.map((s) => s.cleanup()));
});

/** The environment the child server really got. */
function childEnv(server: TestServer): Record<string, string> {
  const raw = readFileSync(`/proc/${server.child.pid}/environ`, "utf8");
  return Object.fromEntries(
    raw
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

describe("the store a test server runs on", () => {
  onlyOn("sqlite", "checks that no DATABASE_URL is set").test("on SQLite the server gets no DATABASE_URL", async () => {
    const s = await startServer();
    started.push(s);
    expect(s.databaseUrl).toBeUndefined();
    expect(childEnv(s).DATABASE_URL).toBeUndefined();
  });

  onlyOn("postgres", "checks the database a server gets").test(
    "on PostgreSQL the server gets its own database, the same one after a restart on its data dir, dropped by cleanup",
    async () => {
      expect(testStore()).toBe("postgres");
      const admin = postgres(postgresAdminUrl(), { max: 1 });
      try {
        const oid = async (name: string) => (await admin`SELECT oid FROM pg_database WHERE datname = ${name}`)[0]?.oid;
        const first = await startServer();
        started.push(first);
        expect(first.databaseUrl).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/t_[0-9a-f]{16}$/);
        expect(childEnv(first).DATABASE_URL).toBe(first.databaseUrl);
        const name = new URL(first.databaseUrl!).pathname.slice(1);
        const created = await oid(name);
        expect(created).toBeDefined();
        // The server's own URL reaches the database (what an audit will do).
        const own = postgres(first.databaseUrl!, { max: 1 });
        expect((await own`SELECT current_database() AS db`)[0]!.db).toBe(name);
        await own.end();

        // Two servers at once get two databases.
        const other = await startServer();
        started.push(other);
        expect(other.databaseUrl).not.toBe(first.databaseUrl);

        await first.kill();
        const again = await startServer({ dataDir: first.dataDir });
        started.push(again);
        expect(again.databaseUrl).toBe(first.databaseUrl);
        expect(await oid(name)).toBe(created); // not dropped and re-created

        await again.stop();
        await again.cleanup();
        expect(await oid(name)).toBeUndefined();
      } finally {
        await admin.end();
      }
    },
  );
});
