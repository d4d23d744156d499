// Ids of a cluster from PostgreSQL sequences (src/store/postgres/idBlocks.ts, migration 010) on a
// real PostgreSQL: two nodes drawing blocks at once never hand out the same id; sequences start
// above the rows a database already has; a node whose PostgreSQL is down answers UNAVAILABLE once
// its block is used up, and hands out ids again when PostgreSQL is back.
import { afterAll, beforeAll, expect } from "vitest";
import { ApiError } from "../../src/errors.js";
import { migrations } from "../../src/store/migrations/index.js";
import { connect, type Sql } from "../../src/store/postgres/connect.js";
import { type IdBlocks, type IdKind, openIdBlocks } from "../../src/store/postgres/idBlocks.js";
import { migrate, schemaVersion } from "../../src/store/postgres/migrate.js";
import { onlyOn } from "../helpers/onlyOn.js";
import { createDatabase, databaseUrl, dropDatabase, startPostgres } from "../helpers/postgres.js";
import { postgresAdminUrl } from "../helpers/testStore.js";

const pg = onlyOn("postgres", "id sequences live in PostgreSQL");
const KINDS: IdKind[] = ["concert", "schedule", "reservation", "payment"];
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The id next() gave, or the ApiError code it threw. */
function take(blocks: IdBlocks, kind: IdKind): number | string {
  try {
    return blocks[kind].next();
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
}

function strictlyIncreasing(ids: number[]): boolean {
  return ids.every((id, i) => i === 0 || id > ids[i - 1]!);
}

pg.describe("id blocks from PostgreSQL sequences", () => {
  const pools: Sql[] = [];
  const databases: string[] = [];
  const opened: IdBlocks[] = [];
  let database = 0;
  /** A new, empty database on the run's cluster and a pool on it. */
  const freshDatabase = async (max = 2) => {
    const name = `ids_${process.pid}_${++database}`;
    await createDatabase(postgresAdminUrl(), name);
    databases.push(name);
    const sql = connect(databaseUrl(postgresAdminUrl(), name), { max });
    pools.push(sql);
    return { sql, url: databaseUrl(postgresAdminUrl(), name) };
  };
  const pool = (url: string, max = 2) => {
    const sql = connect(url, { max });
    pools.push(sql);
    return sql;
  };
  const open = async (...args: Parameters<typeof openIdBlocks>) => {
    const blocks = await openIdBlocks(...args);
    opened.push(blocks);
    return blocks;
  };

  beforeAll(() => {
    // Sequences came with version 10; later versions only add to it.
    expect(migrations.at(-1)!.version).toBeGreaterThanOrEqual(10);
  });
  afterAll(async () => {
    for (const blocks of opened) blocks.close();
    await Promise.allSettled(pools.map((sql) => sql.end({ timeout: 5 })));
    for (const name of databases) await dropDatabase(postgresAdminUrl(), name).catch(() => {});
  });

  pg.test(
    "two nodes drawing small blocks at once never hand out the same id, and each hands out increasing ids",
    async () => {
      const { sql, url } = await freshDatabase();
      expect(await migrate(sql)).toBe(migrations.length);
      const BLOCK = 8;
      const PER_KIND = 400;
      // Two nodes: each its own pool, as two processes would have.
      const nodes = [
        await open(pool(url), { blockSize: BLOCK, retryDelayMs: 5 }),
        await open(pool(url), { blockSize: BLOCK, retryDelayMs: 5 }),
      ];
      const handedOut = nodes.map(() => new Map<IdKind, number[]>(KINDS.map((kind) => [kind, []])));
      let unavailable = 0;
      let seed = 7;
      /** A fixed pseudo-random series (Lehmer): runs differ only in timing. */
      const random = (n: number) => {
        seed = (seed * 48_271) % 2_147_483_647;
        return seed % n;
      };
      // Bursts of 1..12 ids in one turn (up to more than a block plus the half left when a refill is
      // back), then a pause: refills run in between, and a burst can find the source empty.
      const run = async (node: number) => {
        const blocks = nodes[node]!;
        while (KINDS.some((kind) => handedOut[node]!.get(kind)!.length < PER_KIND)) {
          for (const kind of KINDS) {
            const ids = handedOut[node]!.get(kind)!;
            for (let burst = 1 + random(12); burst > 0 && ids.length < PER_KIND; burst--) {
              const id = take(blocks, kind);
              if (id === "UNAVAILABLE") {
                unavailable++;
                break;
              }
              ids.push(id as number);
            }
          }
          await sleep(random(3));
        }
      };
      await Promise.all([run(0), run(1)]);

      for (const kind of KINDS) {
        const [a, b] = handedOut.map((ids) => ids.get(kind)!) as [number[], number[]];
        expect(a).toHaveLength(PER_KIND);
        expect(b).toHaveLength(PER_KIND);
        expect(strictlyIncreasing(a), `${kind} ids of node 0 in order`).toBe(true);
        expect(strictlyIncreasing(b), `${kind} ids of node 1 in order`).toBe(true);
        const both = new Set([...a, ...b]);
        expect(both.size, `${kind} ids handed out by both nodes`).toBe(2 * PER_KIND);
        // They drew at the same time (their ranges overlap), not one after the other.
        expect(a[0]! < b.at(-1)! && b[0]! < a.at(-1)!, `${kind} blocks of the two nodes interleave`).toBe(true);
        // At most the blocks at hand (1.5 each) were drawn and not handed out.
        expect(Math.max(...both)).toBeLessThanOrEqual(2 * PER_KIND + 2 * (BLOCK + BLOCK / 2));
      }
      expect(unavailable).toBeGreaterThan(0);
    },
  );

  pg.test(
    "migration 010 starts each sequence above the ids of rows already there, and a node starts above them",
    async () => {
      const { sql } = await freshDatabase();
      // A database of schema version 9 (before the sequences) with rows in every table.
      for (const migration of migrations.filter((m) => m.version <= 9)) await sql.unsafe(migration.postgres);
      await sql`CREATE TABLE schema_version (version INTEGER NOT NULL)`;
      await sql`INSERT INTO schema_version (version) VALUES (9)`;
      await sql`INSERT INTO concerts (id, title, created_at) VALUES (3, 'a', 0), (41, 'b', 0)`;
      await sql`INSERT INTO schedules (id, concert_id, starts_at, seat_count, price) VALUES (77, 41, 'x', 10, 5)`;
      await sql`
      INSERT INTO reservations (id, user_id, schedule_id, seat_no, price, status, expires_at, created_at)
      VALUES (1234, 'u', 77, 1, 5, 'held', 0, 0)`;
      await sql`INSERT INTO payments (id, user_id, amount, created_at) VALUES (99, 'u', 5, 0)`;

      expect(await migrate(sql)).toBe(migrations.length);
      expect(await schemaVersion(sql)).toBe(migrations.length);
      // What the migration itself set (openIdBlocks would also catch up a sequence left behind).
      const nextValues = await sql<{ seq: string; next: number }[]>`
      SELECT 'concert' AS seq, CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS next FROM concert_ids
      UNION ALL SELECT 'schedule', CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM schedule_ids
      UNION ALL SELECT 'reservation', CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM reservation_ids
      UNION ALL SELECT 'payment', CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM payment_ids`;
      expect(Object.fromEntries(nextValues.map((row) => [row.seq, Number(row.next)]))).toEqual({
        concert: 42,
        schedule: 78,
        reservation: 1235,
        payment: 100,
      });

      const blocks = await open(sql, { blockSize: 4 });
      expect(KINDS.map((kind) => blocks[kind].next())).toEqual([42, 78, 1235, 100]);
      blocks.close();

      // Rows written past the sequence after the migration (a single server counting ids in memory,
      // the demo catalog's seeding): the next node to open starts above them too.
      await sql`INSERT INTO concerts (id, title, created_at) VALUES (500, 'c', 0)`;
      await sql`INSERT INTO payments (id, user_id, amount, created_at) VALUES (100, 'u', 5, 0), (101, 'u', 5, 0)`;
      const later = await open(sql, { blockSize: 4 });
      const first = KINDS.map((kind) => later[kind].next());
      expect(first[0]).toBe(501);
      expect(first[1]).toBeGreaterThan(78);
      expect(first[2]).toBeGreaterThan(1235);
      // 100 was handed out above but never written: the sequence had moved past 101 already.
      expect(first[3]).toBeGreaterThan(101);
    },
  );

  pg.test(
    "a draw left hanging counts as failed after drawTimeoutMs; its late answer is dropped, not handed out",
    async () => {
      const { sql, url } = await freshDatabase();
      await migrate(sql);
      const drawErrors: unknown[] = [];
      const blocks = await open(pool(url), {
        blockSize: 4,
        retryDelayMs: 50,
        drawTimeoutMs: 300,
        onDrawError: (_kind, error) => drawErrors.push(error),
      });
      // ALTER SEQUENCE in an open transaction holds a lock that nextval waits for: the draw hangs.
      let release!: () => void;
      const released = new Promise<void>((done) => (release = done));
      let locked!: () => void;
      const isLocked = new Promise<void>((done) => (locked = done));
      const blocker = sql.begin(async (tx) => {
        await tx`ALTER SEQUENCE reservation_ids CACHE 1`;
        locked();
        await released;
      });
      await isLocked;
      const first = [take(blocks, "reservation"), take(blocks, "reservation"), take(blocks, "reservation")];
      expect(first).toEqual([1, 2, 3]);
      await expect.poll(() => drawErrors.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
      expect(String(drawErrors[0])).toMatch(/no reservation id block from PostgreSQL in 300 ms/);
      expect(take(blocks, "reservation")).toBe(4);
      expect(take(blocks, "reservation")).toBe("UNAVAILABLE");
      release();
      await blocker;
      await expect.poll(() => blocks.reservation.available, { timeout: 5_000 }).toBeGreaterThan(0);
      const next = take(blocks, "reservation") as number;
      // The hung draw (5..8) got its ids once the lock went, after it had been given up: they are skipped.
      expect(next).toBeGreaterThan(8);
      const [{ last }] = await sql<[{ last: number }]>`SELECT last_value AS last FROM reservation_ids`;
      expect(last).toBeGreaterThanOrEqual(next + 3);
    },
  );

  pg.test(
    "with PostgreSQL down a node hands out what it holds, then answers UNAVAILABLE, and ids flow again once it is back",
    async () => {
      // A cluster of its own: the run's cluster serves the other files at the same time.
      const cluster = await startPostgres();
      let sql: Sql | undefined;
      let blocks: IdBlocks | undefined;
      try {
        await createDatabase(cluster.url, "ids");
        sql = connect(databaseUrl(cluster.url, "ids"), { max: 2 });
        expect(await migrate(sql)).toBe(migrations.length);
        const drawErrors: unknown[] = [];
        blocks = await openIdBlocks(sql, {
          blockSize: 10,
          retryDelayMs: 100,
          drawTimeoutMs: 3_000,
          onDrawError: (_kind, error) => drawErrors.push(error),
        });
        expect(blocks.reservation.available).toBe(10);

        await cluster.kill();
        // Backends of the killed postmaster leave when they notice: until then one could still answer.
        await expect
          .poll(
            () =>
              sql!`SELECT 1`.then(
                () => "up",
                () => "down",
              ),
            { timeout: 10_000 },
          )
          .toBe("down");
        // The block at hand is still handed out (its refill, due halfway, fails in the background).
        const before = Array.from({ length: 10 }, () => take(blocks!, "reservation"));
        expect(before).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
        let refused: unknown;
        try {
          blocks.reservation.next();
        } catch (error) {
          refused = error;
        }
        expect(refused).toBeInstanceOf(ApiError);
        expect((refused as ApiError).code).toBe("UNAVAILABLE");
        expect((refused as ApiError).status).toBe(503);
        expect((refused as ApiError).retryAfter).toBe(1);
        // Failed draws are retried on their timer, each failing cleanly; the other kinds still hand out their own.
        await expect.poll(() => drawErrors.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
        expect(take(blocks, "reservation")).toBe("UNAVAILABLE");
        expect(take(blocks, "payment")).toBe(1);

        await cluster.restart();
        // The next retry reconnects and draws a block; no call to next() is needed for that.
        await expect.poll(() => blocks!.reservation.available, { timeout: 20_000, interval: 50 }).toBe(10);
        const after = Array.from({ length: 10 }, () => take(blocks!, "reservation"));
        expect(after.every((id) => typeof id === "number")).toBe(true);
        expect(strictlyIncreasing([...(before as number[]), ...(after as number[])])).toBe(true);
        // What the failed draws took from the sequence before the crash, if anything, is skipped, never reused.
        expect(after[0]).toBeGreaterThan(10);
      } finally {
        blocks?.close();
        await sql?.end({ timeout: 1 }).catch(() => {});
        await cluster.stop();
      }
    },
    60_000,
  );
});
