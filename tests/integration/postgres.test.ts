// What only PostgreSQL has: its advisory lock (one server per database), the start that waits for
// it, the database that declines money on its own, and PostgreSQL killed under load. The rest of
// the contract runs on PostgreSQL through every other integration suite (the postgres project).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, expect } from "vitest";
import { CommitQueue, DeclinedByDatabase } from "../../src/store/commitQueue.js";
import { connect } from "../../src/store/postgres/connect.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { PostgresReads } from "../../src/store/postgres/reads.js";
import { advisoryLockGuard, PostgresWriter } from "../../src/store/postgres/writer.js";
import { Store } from "../../src/store/store.js";
import { runBackup } from "../helpers/backupCommand.js";
import { activeToken, createConcert, http } from "../helpers/client.js";
import { AFTER_DECLINES, commitBatchWithDeclines, outcomes } from "../helpers/declinedBatch.js";
import { onlyOn } from "../helpers/onlyOn.js";
import { createDatabase, databaseUrl, dropDatabase, type PostgresCluster, startPostgres } from "../helpers/postgres.js";
import { ServerExitedError, startServer, type TestServer } from "../helpers/server.js";
import { postgresAdminUrl } from "../helpers/testStore.js";

const pg = onlyOn("postgres", "PostgreSQL's own lock, connections and transactions");
const charge = (server: TestServer, user: string, amount: number, key?: string) =>
  http(server, "POST", "/v1/balance/charge", { user, body: { amount }, idempotencyKey: key });

let names = 0;
/** A fresh database on the run's cluster. */
async function freshDatabase(): Promise<string> {
  const name = `pgtest_${process.pid}_${++names}`;
  await createDatabase(postgresAdminUrl(), name);
  return databaseUrl(postgresAdminUrl(), name);
}

pg.describe("one server per database", () => {
  pg.test("a second server on the same database exits 2 and says why; the first goes on serving", async () => {
    const first = await startServer();
    try {
      const second = await startServer({ env: { DATABASE_URL: first.databaseUrl! } }).catch((error) => error);
      expect(second).toBeInstanceOf(ServerExitedError);
      expect((second as ServerExitedError).exitCode).toBe(2);
      expect((second as ServerExitedError).output).toContain("another server is using the PostgreSQL database");
      expect((await charge(first, "ann", 5)).status).toBe(200);
      await first.stop();
      // Once the first is gone its lock is too: a new server starts on the same database.
      const next = await startServer({ dataDir: first.dataDir });
      expect((await http(next, "GET", "/v1/balance", { user: "ann" })).body.balance).toBe(5);
      await next.stop();
    } finally {
      await first.kill();
      first.cleanup();
    }
  });
});

pg.test("npm run backup refuses with DATABASE_URL set and points at pg_dump", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "pg-backup-"));
  try {
    const run = await runBackup(dataDir, [join(dataDir, "copy.db")], { DATABASE_URL: postgresAdminUrl() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("back it up with pg_dump");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

pg.describe("starting without PostgreSQL", () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
    await createDatabase(cluster.url, "tickets");
  });
  afterAll(() => cluster?.stop());

  pg.test(
    "nothing answers: the start retries for DATABASE_CONNECT_TIMEOUT_S, then exits 1 naming the database",
    async () => {
      const url = databaseUrl(cluster.url, "tickets").replace(`:${cluster.port}/`, ":1/");
      const started = Date.now();
      const refused = await startServer({ env: { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT_S: "2" } }).catch(
        (e) => e,
      );
      expect(refused).toBeInstanceOf(ServerExitedError);
      expect((refused as ServerExitedError).exitCode).toBe(1);
      expect((refused as ServerExitedError).output).toContain("cannot connect to PostgreSQL at postgres://");
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    },
  );

  pg.test("PostgreSQL comes up while the server waits: the server starts then", async () => {
    await cluster.kill();
    const starting = startServer({ env: { DATABASE_URL: databaseUrl(cluster.url, "tickets") } });
    await new Promise((done) => setTimeout(done, 1500));
    await cluster.restart();
    const server = await starting;
    try {
      expect((await charge(server, "late", 3)).status).toBe(200);
      expect(server.logs.some((line) => line.includes("PostgreSQL does not answer yet; retrying"))).toBe(true);
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});

pg.describe("money decided in the database", () => {
  let url: string;
  let sql: postgres.Sql;
  beforeAll(async () => {
    url = await freshDatabase();
    sql = connect(url, { max: 1 });
    await migrate(sql);
  });
  afterAll(async () => {
    await sql?.end();
    await dropDatabase(postgresAdminUrl(), new URL(url).pathname.slice(1)).catch(() => {});
  });

  pg.test("one turn's batch: the units the database declines are undone alone, the others commit", async () => {
    const writer = new PostgresWriter(sql);
    const store = new Store(new PostgresReads(sql), async (units) => (await writer.write(units)).declined);
    const fatal: unknown[] = [];
    const commits = new CommitQueue(store, writer, { onFatal: (error) => fatal.push(error) });
    const results = await commitBatchWithDeclines(store, commits);
    expect(outcomes(results)).toEqual(AFTER_DECLINES.outcomes);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DeclinedByDatabase);
    expect(fatal).toEqual([]);
    expect(await sql`SELECT id, balance FROM users ORDER BY id`).toEqual(AFTER_DECLINES.balances);
    expect(await sql`SELECT id FROM payments`).toEqual([]);
    expect(await sql`SELECT user_id, amount FROM ledger ORDER BY id`).toEqual(AFTER_DECLINES.ledger);
  });

  pg.test(
    "a writer whose connection does not hold the server's lock cannot commit while another session holds it",
    async () => {
      const other = connect(url, { max: 1 });
      try {
        const key = 990_001;
        await other`SELECT pg_advisory_lock(${key})`;
        const writer = new PostgresWriter(sql, advisoryLockGuard(key));
        await expect(writer.write([[["setMeta", "fenced", "no"]]])).rejects.toThrow("does not hold the server's lock");
        expect(await sql`SELECT value FROM meta WHERE key = 'fenced'`).toEqual([]);
        // Once nobody else holds it, the writer's transactions take it for themselves and commit.
        await other`SELECT pg_advisory_unlock(${key})`;
        const next = new PostgresWriter(sql, advisoryLockGuard(key));
        await next.write([[["setMeta", "fenced", "yes"]]]);
        expect(await sql`SELECT value FROM meta WHERE key = 'fenced'`).toEqual([{ value: "yes" }]);
      } finally {
        await other.end();
      }
    },
  );

  pg.test("the database keeps balances equal to the ledger: no direct change, no ledger row rewritten", async () => {
    await expect(sql`UPDATE users SET balance = balance + 1`).rejects.toThrow(
      "a balance changes only with a ledger row",
    );
    await expect(sql`INSERT INTO users (id, balance) VALUES ('mallory', 1000)`).rejects.toThrow("ledger row");
    await expect(sql`DELETE FROM ledger`).rejects.toThrow("the ledger is append-only");
    await expect(sql`UPDATE ledger SET amount = 0`).rejects.toThrow("the ledger is append-only");
    await expect(
      sql`INSERT INTO ledger (user_id, amount, kind, created_at) VALUES ('eve', -1, 'payment', 0)`,
    ).rejects.toThrow(/users_balance_check/);
  });
});

pg.describe("a payment the database declines over HTTP", () => {
  pg.test(
    "another writer emptied the wallet: 402 from the database, the seat held again, nothing written",
    async () => {
      const server = await startServer();
      try {
        const concert = await createConcert(server, [
          { startsAt: "2027-01-01T19:00:00.000Z", seatCount: 5, price: 300 },
        ]);
        const scheduleId = concert.schedules[0]!.id;
        const queueToken = await activeToken(server, "ann");
        expect((await charge(server, "ann", 500)).status).toBe(200);
        const hold = await http(server, "POST", "/v1/reservations", {
          user: "ann",
          queueToken,
          body: { scheduleId, seatNo: 2 },
        });
        expect(hold.status).toBe(201);
        // Another process spends 400 of ann's 500 (as a node of a cluster could): the server's memory says 500.
        const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
        try {
          await sql`INSERT INTO ledger (user_id, amount, kind, payment_id, created_at) VALUES ('ann', -400, 'payment', NULL, 0)`;
          const paid = await http(server, "POST", "/v1/payments", {
            user: "ann",
            queueToken,
            body: { reservationIds: [hold.body.reservationId] },
            idempotencyKey: "pay-1",
          });
          expect(paid.status, paid.text).toBe(402);
          expect(paid.body.error.code).toBe("INSUFFICIENT_BALANCE");
          const reservation = await http(server, "GET", `/v1/reservations/${hold.body.reservationId}`, { user: "ann" });
          expect(reservation.body.status).toBe("held");
          const seats = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user: "ann", queueToken });
          expect(seats.body.seats[1].status).toBe("held");
          expect(await sql`SELECT COUNT(*)::int AS n FROM payments`).toEqual([{ n: 0 }]);
          expect(await sql`SELECT status FROM reservations`).toEqual([{ status: "held" }]);
          expect(await sql`SELECT COUNT(*)::int AS n FROM idempotency WHERE key = 'pay-1'`).toEqual([{ n: 0 }]);
          // The server goes on: another charge commits.
          expect((await charge(server, "bo", 7)).status).toBe(200);
        } finally {
          await sql.end();
        }
      } finally {
        await server.stop();
        server.cleanup();
      }
    },
  );
});

pg.describe("PostgreSQL killed under load", () => {
  let cluster: PostgresCluster;
  let dataDir: string;
  beforeAll(async () => {
    cluster = await startPostgres();
    await createDatabase(cluster.url, "tickets");
    dataDir = mkdtempSync(join(tmpdir(), "pg-killed-"));
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  pg.test(
    "requests get 503, the server exits 1 at once, nothing acknowledged is lost, and a restart serves again",
    async () => {
      const url = databaseUrl(cluster.url, "tickets");
      const env = { DATABASE_URL: url, RATE_LIMIT_PER_IP: "0", MONEY_RATE_PER_SECOND: "0" };
      const server = await startServer({ dataDir, env });
      const acknowledged = new Map<string, number>();
      const statuses = new Map<number, number>();
      let stop = false;
      const client = async (c: number) => {
        for (let i = 0; !stop; i++) {
          const key = `c${c}-${i}`;
          const amount = 1 + ((c * 31 + i) % 9);
          const reply = await charge(server, `user-${c}`, amount, key).catch(() => ({ status: 0 }) as const);
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          if (reply.status === 200) acknowledged.set(key, amount);
          if (reply.status !== 200) await new Promise((done) => setTimeout(done, 20));
        }
      };
      const clients = Array.from({ length: 8 }, (_, c) => client(c));
      await new Promise((done) => setTimeout(done, 800));
      // Listening before the kill: the server may exit before the kill's promise resolves.
      const exited = new Promise<number | null>((done) => server.child.once("exit", (code) => done(code)));
      await cluster.kill();
      const exitCode = await exited;
      stop = true;
      await Promise.all(clients);
      expect(exitCode).toBe(1);
      expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
      // Reads that found PostgreSQL gone are 503 too, never 500.
      expect([...statuses.keys()].filter((status) => status !== 200 && status !== 503 && status !== 0)).toEqual([]);
      // Whichever it noticed first: a commit that failed, or the connection holding its lock closing.
      expect(server.logs.join("\n")).toMatch(/commit failed|storage lost/);
      expect(acknowledged.size).toBeGreaterThan(50);

      await cluster.restart();
      const restarted = await startServer({ dataDir, env });
      try {
        const sql = postgres(url, { max: 1, onnotice: () => {} });
        try {
          const rows = await sql<{ key: string }[]>`SELECT key FROM idempotency`;
          const stored = new Set(rows.map((row) => row.key));
          const lost = [...acknowledged.keys()].filter((key) => !stored.has(key));
          expect(lost).toEqual([]);
          // Every balance is its ledger (a commit the server could not confirm may be there too, whole).
          expect(
            await sql`SELECT u.id FROM users u
          WHERE u.balance <> (SELECT COALESCE(SUM(amount), 0) FROM ledger l WHERE l.user_id = u.id)`,
          ).toEqual([]);
          expect(await sql`SELECT COUNT(*)::int AS n FROM ledger`).toEqual([{ n: stored.size }]);
        } finally {
          await sql.end();
        }
        expect((await charge(restarted, "after", 1)).status).toBe(200);
      } finally {
        await restarted.stop();
      }
    },
    60_000,
  );
});
