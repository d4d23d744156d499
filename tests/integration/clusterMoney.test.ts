// Money decided by PostgreSQL for a cluster (src/cluster/money.ts) on a real PostgreSQL: charges
// and payments in one transaction each, answered as a single server would (replays, mismatches,
// BALANCE_LIMIT, INSUFFICIENT_BALANCE); a payment fenced by every owner's lease and refused whole,
// with nothing written, when a fence or a hold no longer stands; one key charged from two
// connections at once does its work once; concurrent charges and payments of one user keep the
// balance the sum of its ledger, never below 0 nor above the maximum.
import fc from "fast-check";
import { afterAll, beforeAll, expect } from "vitest";
import { IDEMPOTENCY_RETENTION_MS } from "../../src/actors/idempotency.js";
import { Leases } from "../../src/cluster/leases.js";
import { type Fence, MoneyDesk, type MoneyRecord, type PayableHold } from "../../src/cluster/money.js";
import { ApiError } from "../../src/errors.js";
import { migrations } from "../../src/store/migrations/index.js";
import { connect, numbered, type Sql } from "../../src/store/postgres/connect.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { type Param, WRITE_SQL } from "../../src/store/writeStatements.js";
import { onlyOn } from "../helpers/onlyOn.js";
import { createDatabase, databaseUrl, dropDatabase } from "../helpers/postgres.js";
import { postgresAdminUrl } from "../helpers/testStore.js";

const pg = onlyOn("postgres", "money in a cluster is decided in PostgreSQL");
const TTL = 60_000;
const MAX = 1_000;

pg.describe("cluster money desk", () => {
  const name = `cluster_money_${process.pid}`;
  const pools: Sql[] = [];
  let url: string;
  let sql: Sql;
  let desk: MoneyDesk;
  let leases: Leases;
  const pool = (max: number) => {
    const made = connect(url, { max });
    pools.push(made);
    return made;
  };
  let lastId = 0;
  /** An id no other test has used: users, concerts, schedules, reservations, payments, keys. */
  const fresh = () => ++lastId;
  const user = () => `user-${fresh()}`;

  beforeAll(async () => {
    await createDatabase(postgresAdminUrl(), name);
    url = databaseUrl(postgresAdminUrl(), name);
    sql = pool(4);
    expect(await migrate(sql)).toBe(migrations.at(-1)!.version);
    desk = new MoneyDesk(sql);
    leases = new Leases(sql);
  });
  afterAll(async () => {
    await Promise.allSettled(pools.map((p) => p.end({ timeout: 5 })));
    await dropDatabase(postgresAdminUrl(), name).catch(() => {});
  });

  const write = (statement: keyof typeof WRITE_SQL, ...params: Param[]) =>
    sql.unsafe(numbered(WRITE_SQL[statement]), params as never[]);

  /**
   * A concert with one schedule and an on-sale (so it is its own room: src/cluster/directory.ts),
   * its lease taken by `nodeId` on PostgreSQL's clock.
   */
  async function concert(nodeId: string) {
    const concertId = fresh();
    const scheduleId = fresh();
    await write("insertConcert", concertId, `concert ${concertId}`, "UTC", Date.now());
    await write("insertSchedule", scheduleId, concertId, "2030-01-01T20:00:00Z", 1_000, 100, null, null);
    await write("insertOnSale", concertId, null, null, 0, null, null);
    const lease = await leases.acquire(concertId, nodeId, "database", TTL);
    const fence: Fence = { nodeId, concertId, epoch: lease!.epoch };
    return { concertId, scheduleId, fence };
  }

  /** A held seat of `userId`, expiring a minute from now unless told otherwise. */
  async function hold(userId: string, scheduleId: number, price: number, expiresAt = Date.now() + 60_000) {
    const reservationId = fresh();
    await write("insertReservation", reservationId, userId, scheduleId, reservationId, price, expiresAt, Date.now());
    return { reservationId, price } satisfies PayableHold;
  }

  async function funded(amount: number): Promise<string> {
    const userId = user();
    await desk.charge({ userId, amount, balanceMax: MAX, now: Date.now() });
    return userId;
  }

  const record = (fingerprint = "f", status = 200): MoneyRecord => ({ key: `key-${fresh()}`, fingerprint, status });

  /** Everything a money operation of `userId` may write. */
  async function state(userId: string, reservationIds: number[] = []) {
    const [ledger] = await sql`SELECT count(*)::int AS rows, COALESCE(sum(amount), 0)::bigint AS sum
      FROM ledger WHERE user_id = ${userId}`;
    const [payments] = await sql`SELECT count(*)::int AS rows FROM payments WHERE user_id = ${userId}`;
    const [records] = await sql`SELECT count(*)::int AS rows FROM idempotency WHERE user_id = ${userId}`;
    const holds = await sql`SELECT id, status, payment_id FROM reservations WHERE id = ANY(${reservationIds}::bigint[])
      ORDER BY id`;
    return {
      balance: await desk.balance(userId),
      ledgerRows: ledger!.rows as number,
      ledgerSum: ledger!.sum as number,
      payments: payments!.rows as number,
      records: records!.rows as number,
      holds: holds.map((row) => ({ ...row })),
    };
  }

  /** The ApiError `attempt` was refused with (failing the test if it succeeded or threw something else). */
  async function refusal(attempt: Promise<unknown>): Promise<ApiError> {
    const error = await attempt.then(
      (answer) => new Error(`expected a refusal, got ${JSON.stringify(answer)}`),
      (error: unknown) => error,
    );
    if (!(error instanceof ApiError)) throw error;
    return error;
  }

  pg.test("a charge adds to the balance and answers { userId, balance }; an unknown user has 0", async () => {
    const userId = user();
    expect(await desk.balance(userId)).toBe(0);
    expect(await desk.charge({ userId, amount: 300, balanceMax: MAX, now: Date.now() })).toEqual({
      userId,
      balance: 300,
    });
    expect(await desk.charge({ userId, amount: 200, balanceMax: MAX, now: Date.now() })).toEqual({
      userId,
      balance: 500,
    });
    expect(await state(userId)).toMatchObject({ balance: 500, ledgerRows: 2, ledgerSum: 500, records: 0 });
  });

  pg.test("a replay answers the stored response, even after the balance moved, and adds no ledger row", async () => {
    const userId = user();
    const key = record("charge 100");
    const now = Date.now();
    const first = await desk.charge({ userId, amount: 100, balanceMax: MAX, now, record: key });
    expect(first).toEqual({ userId, balance: 100 });
    await desk.charge({ userId, amount: 50, balanceMax: MAX, now });
    const again = await desk.charge({ userId, amount: 100, balanceMax: MAX, now: now + 1_000, record: key });
    expect(again).toEqual({ userId, balance: 100 });
    expect(await desk.replay(userId, key, now + 2_000)).toEqual({ userId, balance: 100 });
    expect(await state(userId)).toMatchObject({ balance: 150, ledgerRows: 2, records: 1 });
    const [row] = await sql`SELECT fingerprint, status, response, created_at FROM idempotency
      WHERE user_id = ${userId} AND key = ${key.key}`;
    expect(row).toEqual({
      fingerprint: "charge 100",
      status: 200,
      response: JSON.stringify({ userId, balance: 100 }),
      created_at: now,
    });
  });

  pg.test("the same key with another request is IDEMPOTENCY_MISMATCH and writes nothing", async () => {
    const userId = user();
    const key = record("charge 100");
    await desk.charge({ userId, amount: 100, balanceMax: MAX, now: Date.now(), record: key });
    const before = await state(userId);
    const other = { ...key, fingerprint: "charge 200" };
    const refused = await refusal(
      desk.charge({ userId, amount: 200, balanceMax: MAX, now: Date.now(), record: other }),
    );
    expect(refused.code).toBe("IDEMPOTENCY_MISMATCH");
    expect((await refusal(desk.replay(userId, other, Date.now()))).code).toBe("IDEMPOTENCY_MISMATCH");
    expect(await state(userId)).toEqual(before);
    // Another user's same key is another record.
    expect(await desk.charge({ userId: user(), amount: 200, balanceMax: MAX, now: Date.now(), record: other })).toEqual(
      expect.objectContaining({ balance: 200 }),
    );
  });

  pg.test("a record 24 h old has lapsed: the key does the work again and its record is replaced", async () => {
    const userId = user();
    const key = record("charge 100");
    const then = Date.now() - IDEMPOTENCY_RETENTION_MS - 1;
    await desk.charge({ userId, amount: 100, balanceMax: MAX, now: then, record: key });
    expect(await desk.replay(userId, key, Date.now())).toBeUndefined();
    // Lapsed, even another request may use the key now.
    const other = { ...key, fingerprint: "charge 40" };
    const now = Date.now();
    expect(await desk.charge({ userId, amount: 40, balanceMax: MAX, now, record: other })).toEqual({
      userId,
      balance: 140,
    });
    expect(await desk.replay(userId, other, now)).toEqual({ userId, balance: 140 });
    expect(await state(userId)).toMatchObject({ balance: 140, ledgerRows: 2, records: 1 });
  });

  pg.test("a charge past balanceMax is BALANCE_LIMIT and commits nothing, not even its record", async () => {
    const userId = await funded(900);
    const before = await state(userId);
    const refused = await refusal(
      desk.charge({ userId, amount: 101, balanceMax: MAX, now: Date.now(), record: record() }),
    );
    expect(refused.code).toBe("BALANCE_LIMIT");
    expect(await state(userId)).toEqual(before);
    // Up to the maximum exactly is allowed.
    expect((await desk.charge({ userId, amount: 100, balanceMax: MAX, now: Date.now() })).balance).toBe(MAX);
  });

  pg.test("one key charged from two connections: the second waits for the first, then replays it", async () => {
    const userId = await funded(100);
    const key = record("charge 10");
    const [deskA, deskB] = [new MoneyDesk(pool(1)), new MoneyDesk(pool(1))];
    const blocker = pool(1);
    const waiting = async () => {
      const [row] = await sql`SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = ${name} AND wait_event_type = 'Lock'`;
      return row!.waiting as number;
    };
    // A third session holds the user's row: A claims the key, then waits at its ledger row's
    // balance update; B, started after A, waits on A's claim.
    let release!: () => void;
    const released = new Promise<void>((done) => (release = done));
    let lockedNow!: () => void;
    const locked = new Promise<void>((done) => (lockedNow = done));
    const blocking = blocker.begin(async (tx) => {
      await tx`SELECT balance FROM users WHERE id = ${userId} FOR UPDATE`;
      lockedNow();
      await released;
    });
    await locked;
    const now = Date.now();
    const a = deskA.charge({ userId, amount: 10, balanceMax: MAX, now, record: key });
    await expect.poll(waiting).toBe(1);
    const b = deskB.charge({ userId, amount: 10, balanceMax: MAX, now, record: key });
    await expect.poll(waiting).toBe(2);
    release();
    await blocking;
    const [answerA, answerB] = await Promise.all([a, b]);
    expect(answerA).toEqual({ userId, balance: 110 });
    expect(answerB).toEqual(answerA);
    expect(await state(userId)).toMatchObject({ balance: 110, ledgerRows: 2, records: 1 });
  });

  pg.test("20 keys, each charged from two pools at once: one ledger row per key, equal answers", async () => {
    const userId = user();
    const [deskA, deskB] = [new MoneyDesk(pool(10)), new MoneyDesk(pool(10))];
    const keys = Array.from({ length: 20 }, () => record("charge 5"));
    const now = Date.now();
    const answers = await Promise.all(
      keys.map((key) =>
        Promise.all([deskA, deskB].map((d) => d.charge({ userId, amount: 5, balanceMax: MAX, now, record: key }))),
      ),
    );
    for (const [a, b] of answers) expect(b).toEqual(a);
    expect(new Set(answers.map(([a]) => a?.balance)).size).toBe(20);
    expect(await state(userId)).toMatchObject({ balance: 100, ledgerRows: 20, ledgerSum: 100, records: 20 });
  });

  pg.test(
    "a payment across two owners' leases sells every hold, records it, debits the sum; a replay answers it",
    async () => {
      const userId = await funded(500);
      const [one, two] = [await concert("node-a"), await concert("node-b")];
      const holds = [await hold(userId, one.scheduleId, 100), await hold(userId, two.scheduleId, 150)];
      const reservationIds = holds.map((h) => h.reservationId);
      const paymentId = fresh();
      const key = record("pay", 201);
      const request = {
        userId,
        holds,
        fences: [one.fence, two.fence],
        heldAt: Date.now(),
        now: Date.now(),
        record: key,
      };
      const paid = await desk.pay({ ...request, paymentId });
      expect(paid).toEqual({ paymentId, reservationIds, amount: 250, balance: 250, status: "paid" });
      expect(await state(userId, reservationIds)).toMatchObject({
        balance: 250,
        ledgerRows: 2,
        ledgerSum: 250,
        payments: 1,
        records: 1,
        holds: reservationIds.map((id) => ({ id, status: "paid", payment_id: paymentId })),
      });
      const [payment] = await sql`SELECT id, user_id, amount FROM payments WHERE id = ${paymentId}`;
      expect(payment).toEqual({ id: paymentId, user_id: userId, amount: 250 });
      // The same key again (say, through another node, with another payment id): the first answer.
      expect(await desk.pay({ ...request, paymentId: fresh() })).toEqual(paid);
      expect(await desk.replay(userId, key, Date.now())).toEqual(paid);
      // Even once an owner has lost its lease: the replayed payment was fenced when it committed.
      await leases.release(two.concertId, two.fence.nodeId, two.fence.epoch);
      expect(await desk.pay({ ...request, paymentId: fresh() })).toEqual(paid);
      expect((await state(userId)).payments).toBe(1);
    },
  );

  pg.test("a lost fence refuses the whole payment: UNAVAILABLE, retry after 1 s, nothing written", async () => {
    const lose: Record<string, (c: { concertId: number; fence: Fence }) => Promise<unknown>> = {
      "taken over (epoch moved on)": async ({ concertId, fence }) => {
        await leases.release(concertId, fence.nodeId, fence.epoch);
        expect((await leases.acquire(concertId, "node-c", "database", TTL))?.epoch).toBe(2);
      },
      "expired by PostgreSQL's clock": ({ concertId, fence }) =>
        // Same node, same epoch, but its end a second ago by PostgreSQL's clock.
        sql`UPDATE leases SET expires_at = ${Date.now() - 1_000}::bigint
          WHERE concert_id = ${concertId} AND epoch = ${fence.epoch}`,
      released: ({ concertId, fence }) => leases.release(concertId, fence.nodeId, fence.epoch),
      "named for another node": async ({ fence }) => {
        fence.nodeId = "node-z";
      },
    };
    for (const [how, loseIt] of Object.entries(lose)) {
      const userId = await funded(500);
      const [one, two] = [await concert("node-a"), await concert("node-b")];
      const holds = [await hold(userId, one.scheduleId, 100), await hold(userId, two.scheduleId, 100)];
      const reservationIds = holds.map((h) => h.reservationId);
      await loseIt(two);
      const before = await state(userId, reservationIds);
      const fences = [one.fence, two.fence];
      const attempt = desk.pay({
        userId,
        paymentId: fresh(),
        holds,
        fences,
        heldAt: Date.now(),
        now: Date.now(),
        record: record(),
      });
      const refused = await refusal(attempt);
      expect({ how, code: refused.code, retryAfter: refused.retryAfter }).toEqual({
        how,
        code: "UNAVAILABLE",
        retryAfter: 1,
      });
      expect({ how, ...(await state(userId, reservationIds)) }).toEqual({ how, ...before });
      expect(before.holds.every((h) => h.status === "held")).toBe(true);
      expect(before.records).toBe(0);
    }
  });

  pg.test("a hold no longer payable refuses the payment: UNAVAILABLE, nothing written", async () => {
    const heldAt = Date.now();
    type Case = (userId: string, scheduleId: number) => Promise<PayableHold>;
    const cases: Record<string, Case> = {
      "expired at heldAt": (userId, scheduleId) => hold(userId, scheduleId, 100, heldAt),
      "paid already": async (userId, scheduleId) => {
        const paid = await hold(userId, scheduleId, 100);
        await write("payReservation", fresh(), paid.reservationId);
        return paid;
      },
      "ended (released)": async (userId, scheduleId) => {
        const released = await hold(userId, scheduleId, 100);
        await write("endHold", "released", released.reservationId);
        return released;
      },
      "another user's": (_userId, scheduleId) => hold(user(), scheduleId, 100),
      "at another price": async (userId, scheduleId) => ({ ...(await hold(userId, scheduleId, 100)), price: 1 }),
      "in a concert no fence covers": async (userId) => hold(userId, (await concert("node-b")).scheduleId, 100),
      "not there": async () => ({ reservationId: fresh(), price: 100 }),
    };
    for (const [how, make] of Object.entries(cases)) {
      const userId = await funded(500);
      const one = await concert("node-a");
      const holds = [await hold(userId, one.scheduleId, 100), await make(userId, one.scheduleId)];
      const reservationIds = holds.map((h) => h.reservationId);
      const before = await state(userId, reservationIds);
      const attempt = desk.pay({
        userId,
        paymentId: fresh(),
        holds,
        fences: [one.fence],
        heldAt,
        now: Date.now(),
        record: record(),
      });
      const refused = await refusal(attempt);
      expect({ how, code: refused.code }).toEqual({ how, code: "UNAVAILABLE" });
      expect({ how, ...(await state(userId, reservationIds)) }).toEqual({ how, ...before });
    }
  });

  pg.test("a balance short of the sum is INSUFFICIENT_BALANCE and writes nothing", async () => {
    const userId = await funded(150);
    const one = await concert("node-a");
    const holds = [await hold(userId, one.scheduleId, 100), await hold(userId, one.scheduleId, 100)];
    const reservationIds = holds.map((h) => h.reservationId);
    const before = await state(userId, reservationIds);
    const request = { userId, holds, fences: [one.fence], heldAt: Date.now(), now: Date.now(), record: record() };
    const refused = await refusal(desk.pay({ ...request, paymentId: fresh() }));
    expect(refused.code).toBe("INSUFFICIENT_BALANCE");
    expect(refused.message).toBe("balance 150 is below the amount 200");
    expect(await state(userId, reservationIds)).toEqual(before);
    // A user who never had money, too.
    const broke = user();
    const hers = [await hold(broke, one.scheduleId, 100)];
    const nothing = await refusal(
      desk.pay({
        userId: broke,
        paymentId: fresh(),
        holds: hers,
        fences: [one.fence],
        heldAt: Date.now(),
        now: Date.now(),
      }),
    );
    expect(nothing.code).toBe("INSUFFICIENT_BALANCE");
    expect(await state(broke, [hers[0]!.reservationId])).toMatchObject({ balance: 0, ledgerRows: 0, payments: 0 });
  });

  pg.test(
    "concurrent charges and payments of one user: balance = sum of the ledger = what was answered, 0..max",
    async () => {
      const desks = Array.from({ length: 4 }, () => new MoneyDesk(pool(4)));
      const one = await concert("node-a");
      const two = await concert("node-b");
      const op = fc.oneof(
        fc.record({ charge: fc.integer({ min: 1, max: 400 }) }),
        // Payments of overlapping subsets of the user's holds: only one may sell a given hold.
        fc.record({ pay: fc.uniqueArray(fc.nat({ max: 5 }), { minLength: 1, maxLength: 3 }) }),
      );
      const prices = fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 6, maxLength: 6 });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 16 }), prices, async (ops, seatPrices) => {
          const userId = user();
          const holds = await Promise.all(
            seatPrices.map((price, i) => hold(userId, (i % 2 === 0 ? one : two).scheduleId, price)),
          );
          const fences = [one.fence, two.fence];
          let charged = 0;
          let spent = 0;
          const soldBy = new Map<number, number>();
          await Promise.all(
            ops.map(async (o, i) => {
              const d = desks[i % desks.length]!;
              const now = Date.now();
              try {
                if ("charge" in o) {
                  const { balance } = await d.charge({ userId, amount: o.charge, balanceMax: MAX, now });
                  expect(balance).toBeGreaterThanOrEqual(o.charge);
                  expect(balance).toBeLessThanOrEqual(MAX);
                  charged += o.charge;
                } else {
                  const paying = o.pay.map((n) => holds[n]!);
                  const paid = await d.pay({ userId, paymentId: fresh(), holds: paying, fences, heldAt: now, now });
                  expect(paid.balance).toBeGreaterThanOrEqual(0);
                  spent += paid.amount;
                  for (const id of paid.reservationIds) {
                    expect(soldBy.has(id)).toBe(false);
                    soldBy.set(id, paid.paymentId);
                  }
                }
              } catch (error) {
                if (!(error instanceof ApiError)) throw error;
                expect(["BALANCE_LIMIT", "INSUFFICIENT_BALANCE", "UNAVAILABLE"]).toContain(error.code);
              }
            }),
          );
          const after = await state(
            userId,
            holds.map((h) => h.reservationId),
          );
          expect(after.balance).toBe(after.ledgerSum);
          expect(after.balance).toBe(charged - spent);
          expect(after.balance).toBeGreaterThanOrEqual(0);
          expect(after.balance).toBeLessThanOrEqual(MAX);
          expect(after.payments).toBe(new Set(soldBy.values()).size);
          // A hold is paid exactly when a payment answered it sold, and by that payment.
          for (const h of after.holds) {
            expect(h.status).toBe(soldBy.has(h.id) ? "paid" : "held");
            expect(h.payment_id ?? undefined).toBe(soldBy.get(h.id));
          }
        }),
        { numRuns: 25 },
      );
    },
  );
});
