// Concurrency: real parallel requests (HTTP via Promise.all, and several WebSocket connections)
// racing for the same seats, balances, idempotency keys and holds. Each test checks the outcome
// both from the replies and from the state the server reports afterwards.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activeToken,
  createConcert,
  fromHttp,
  fromWs,
  http,
  type Result,
  WsClient,
  type WsMessage,
} from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

// ---------------------------------------------------------------------------------------------
// Small helpers (local to this file)

/** One user's view of the API over one transport. */
interface Caller {
  user: string;
  hold(scheduleId: number, seatNo: number): Promise<Result>;
  release(reservationId: number): Promise<Result>;
  charge(amount: number, idempotencyKey?: string): Promise<Result>;
  pay(reservationIds: number[], idempotencyKey?: string): Promise<Result>;
}

function httpCaller(s: TestServer, user: string, queueToken: string): Caller {
  return {
    user,
    hold: async (scheduleId, seatNo) =>
      fromHttp(
        await http(s, "POST", "/v1/reservations", {
          user,
          queueToken,
          body: { scheduleId, seatNo },
        }),
        201,
      ),
    release: async (id) => fromHttp(await http(s, "DELETE", `/v1/reservations/${id}`, { user }), 200),
    charge: async (amount, idempotencyKey) =>
      fromHttp(
        await http(s, "POST", "/v1/balance/charge", {
          user,
          idempotencyKey,
          body: { amount },
        }),
        200,
      ),
    pay: async (reservationIds, idempotencyKey) =>
      fromHttp(
        await http(s, "POST", "/v1/payments", {
          user,
          idempotencyKey,
          body: { reservationIds },
        }),
        201,
      ),
  };
}

/** A request on a socket that fails (instead of hanging) if the socket closes first. */
function wsCall(c: WsClient, op: string, args: Record<string, unknown>): Promise<WsMessage> {
  return Promise.race([
    c.request(op, args),
    c.closed.then((x) => {
      throw new Error(`socket closed (${x.code})`);
    }),
  ]);
}

function wsCaller(c: WsClient, user: string): Caller {
  return {
    user,
    hold: async (scheduleId, seatNo) => fromWs(await wsCall(c, "reservations.create", { scheduleId, seatNo })),
    release: async (reservationId) => fromWs(await wsCall(c, "reservations.release", { reservationId })),
    charge: async (amount, idempotencyKey) =>
      fromWs(await wsCall(c, "balance.charge", idempotencyKey === undefined ? { amount } : { amount, idempotencyKey })),
    pay: async (reservationIds, idempotencyKey) =>
      fromWs(
        await wsCall(
          c,
          "payments.create",
          idempotencyKey === undefined ? { reservationIds } : { reservationIds, idempotencyKey },
        ),
      ),
  };
}

const sockets: WsClient[] = [];

/** Opens a socket for `user` and checks it into the (roomy) waiting room, so it is active. */
async function activeSocket(s: TestServer, user: string): Promise<WsClient> {
  const c = await WsClient.connect(s, user);
  sockets.push(c);
  const reply = await c.request("queue.check", {});
  if (reply.ok !== true || reply.data?.status !== "active") {
    throw new Error(`queue.check over WS for ${user}: ${JSON.stringify(reply)}`);
  }
  return c;
}

const users = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `u-${tag}-${i}`);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const randomInt = (n: number): number => Math.floor(Math.random() * n); // 0..n-1

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

let concertCounter = 0;
async function newSchedule(
  s: TestServer,
  seatCount: number,
  price: number,
): Promise<{ concertId: number; scheduleId: number }> {
  concertCounter++;
  const concert = await createConcert(
    s,
    [
      {
        startsAt: `2027-0${1 + (concertCounter % 9)}-15T19:00:00.000Z`,
        seatCount,
        price,
      },
    ],
    `Concurrency concert ${concertCounter}`,
  );
  return { concertId: concert.id, scheduleId: concert.schedules[0]!.id };
}

// ---------------------------------------------------------------------------------------------

let s: TestServer;
const VIEWER = "u-conc-viewer";
let viewerToken: string;

async function seatStatuses(scheduleId: number): Promise<Map<number, string>> {
  const reply = await http(s, "GET", `/v1/schedules/${scheduleId}/seats`, {
    user: VIEWER,
    queueToken: viewerToken,
  });
  expect(reply.status).toBe(200);
  expect(reply.body.scheduleId).toBe(scheduleId);
  return new Map((reply.body.seats as { no: number; status: string }[]).map((seat) => [seat.no, seat.status]));
}

async function availableSeats(concertId: number, scheduleId: number): Promise<number> {
  const reply = await http(s, "GET", `/v1/concerts/${concertId}/schedules`, {
    user: VIEWER,
    queueToken: viewerToken,
  });
  expect(reply.status).toBe(200);
  const schedule = (reply.body.schedules as any[]).find((x) => x.id === scheduleId);
  expect(schedule).toBeDefined();
  return schedule.availableSeats;
}

async function getReservation(user: string, id: number): Promise<any> {
  const reply = await http(s, "GET", `/v1/reservations/${id}`, { user });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

async function balanceOf(user: string): Promise<number> {
  const reply = await http(s, "GET", "/v1/balance", { user });
  expect(reply.status).toBe(200);
  expect(reply.body.userId).toBe(user);
  return reply.body.balance;
}

beforeAll(async () => {
  // Concurrency of money operations is the subject here, not their per-user rate, nor the budget
  // of new queue tokens per address (hundreds of users, all 127.0.0.1; tested in security.test).
  s = await startServer({ env: { MONEY_RATE_PER_SECOND: "0", RATE_LIMIT_PER_IP: "0" } });
  viewerToken = await activeToken(s, VIEWER);
});

afterAll(async () => {
  for (const c of sockets) c.close();
  if (s) {
    await s.stop();
    s.cleanup();
  }
});

describe("racing for one seat", () => {
  it("100 users holding the same seat over HTTP: exactly one 201, 99 × 409 SEAT_UNAVAILABLE, the seat held by the winner's reservation", async () => {
    const { concertId, scheduleId } = await newSchedule(s, 5, 1000);
    const racers = users("race-http", 100);
    const tokens = await Promise.all(racers.map((u) => activeToken(s, u)));

    const replies = await Promise.all(
      racers.map((user, i) =>
        http(s, "POST", "/v1/reservations", {
          user,
          queueToken: tokens[i],
          body: { scheduleId, seatNo: 3 },
        }),
      ),
    );

    const winners = replies.flatMap((r, i) => (r.status === 201 ? [{ reply: r, user: racers[i]! }] : []));
    expect(winners).toHaveLength(1);
    const losers = replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body?.error?.code}`);
    expect(losers).toEqual(Array(99).fill("409 SEAT_UNAVAILABLE"));

    const { reply, user: winner } = winners[0]!;
    expect(reply.body).toMatchObject({
      scheduleId,
      seatNo: 3,
      price: 1000,
      status: "held",
    });
    expect(Number.isInteger(reply.body.reservationId)).toBe(true);
    expect(await getReservation(winner, reply.body.reservationId)).toMatchObject({
      reservationId: reply.body.reservationId,
      scheduleId,
      seatNo: 3,
      status: "held",
      expiresAt: reply.body.expiresAt,
    });

    const seats = await seatStatuses(scheduleId);
    expect([...seats.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [1, "available"],
      [2, "available"],
      [3, "held"],
      [4, "available"],
      [5, "available"],
    ]);
    expect(await availableSeats(concertId, scheduleId)).toBe(4);

    // A loser asking again still loses: the seat is held by exactly that one reservation.
    const loser = racers.find((u) => u !== winner)!;
    const again = await http(s, "POST", "/v1/reservations", {
      user: loser,
      queueToken: tokens[racers.indexOf(loser)],
      body: { scheduleId, seatNo: 3 },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("SEAT_UNAVAILABLE");
  });

  it("50 HTTP users and 50 users on their own WebSocket racing for one seat: exactly one hold wins", async () => {
    const { concertId, scheduleId } = await newSchedule(s, 3, 500);
    const httpUsers = users("race-mix-h", 50);
    const wsUsers = users("race-mix-w", 50);
    const tokens = await Promise.all(httpUsers.map((u) => activeToken(s, u)));
    const wsClients = await Promise.all(wsUsers.map((u) => activeSocket(s, u)));
    const callers: Caller[] = [
      ...httpUsers.map((u, i) => httpCaller(s, u, tokens[i]!)),
      ...wsUsers.map((u, i) => wsCaller(wsClients[i]!, u)),
    ];

    const results = await Promise.all(
      shuffled(callers).map(async (c) => ({
        user: c.user,
        r: await c.hold(scheduleId, 2),
      })),
    );

    const winners = results.filter((x) => x.r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((x) => !x.r.ok).map((x) => x.r.code)).toEqual(Array(99).fill("SEAT_UNAVAILABLE"));
    const won = winners[0]!;
    expect(won.r.data).toMatchObject({
      scheduleId,
      seatNo: 2,
      price: 500,
      status: "held",
    });
    expect((await getReservation(won.user, won.r.data.reservationId)).status).toBe("held");

    const seats = await seatStatuses(scheduleId);
    expect(seats.get(1)).toBe("available");
    expect(seats.get(2)).toBe("held");
    expect(seats.get(3)).toBe("available");
    expect(await availableSeats(concertId, scheduleId)).toBe(2);
  });
});

describe("concurrent charges", () => {
  it("200 concurrent charges of 7 by one user over HTTP all succeed, each sees a distinct balance, and the final balance is 1400", async () => {
    const user = "u-charge-http";
    const replies = await Promise.all(
      range(1, 200).map(() => http(s, "POST", "/v1/balance/charge", { user, body: { amount: 7 } })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(200).fill(200));
    for (const r of replies) expect(r.body.userId).toBe(user);
    // Charges are serialised: the reported balances are exactly 7, 14, ..., 1400 (no lost update).
    expect(replies.map((r) => r.body.balance as number).sort((a, b) => a - b)).toEqual(range(1, 200).map((n) => 7 * n));
    expect(await balanceOf(user)).toBe(1400);
  });

  it("200 concurrent charges of 7 by one user split over HTTP and 4 WebSocket connections all succeed and total 1400", async () => {
    const user = "u-charge-mix";
    const wsClients = await Promise.all(range(1, 4).map(() => WsClient.connect(s, user)));
    sockets.push(...wsClients);
    const callers: Caller[] = [httpCaller(s, user, ""), ...wsClients.map((c) => wsCaller(c, user))];
    // 100 over HTTP, 25 on each socket.
    const plan = [...Array(100).fill(0), ...range(1, 4).flatMap((k) => Array(25).fill(k))] as number[];

    const results = await Promise.all(shuffled(plan).map((k) => callers[k]!.charge(7)));

    expect(results.map((r) => (r.ok ? "ok" : r.code))).toEqual(Array(200).fill("ok"));
    expect(results.map((r) => r.data.balance as number).sort((a, b) => a - b)).toEqual(range(1, 200).map((n) => 7 * n));
    expect(await balanceOf(user)).toBe(1400);
  });

  it("200 concurrent charges with distinct Idempotency-Keys plus 200 concurrent replays of the same keys count each key once and every replay returns the first response", async () => {
    const user = "u-charge-idem";
    const ws = await WsClient.connect(s, user);
    sockets.push(ws);
    const viaHttp = httpCaller(s, user, "");
    const viaWs = wsCaller(ws, user);
    // Key i charges i (1..200) so any double count shows in the sum; replays of odd keys go over WS.
    const jobs = range(1, 200).flatMap((i) => [
      { i, caller: viaHttp },
      { i, caller: i % 2 === 1 ? viaWs : viaHttp },
    ]);

    const results = await Promise.all(
      shuffled(jobs).map(async ({ i, caller }) => ({
        i,
        r: await caller.charge(i, `charge-key-${i}`),
      })),
    );

    expect(results.filter((x) => !x.r.ok).map((x) => `${x.i}: ${x.r.code}`)).toEqual([]);
    const byKey = new Map<number, any[]>();
    for (const { i, r } of results) byKey.set(i, [...(byKey.get(i) ?? []), r.data]);
    for (const [i, bodies] of byKey) {
      expect(bodies, `key ${i}`).toHaveLength(2);
      expect(bodies[1], `key ${i}: the replay returns the first response`).toEqual(bodies[0]);
    }
    // Each key's single execution saw its own balance: 200 distinct values.
    expect(new Set([...byKey.values()].map((b) => b[0].balance)).size).toBe(200);
    const total = (200 * 201) / 2;
    expect(Math.max(...[...byKey.values()].map((b) => b[0].balance as number))).toBe(total);
    expect(await balanceOf(user)).toBe(total);

    // A later sequential replay of every key still returns the stored response and charges nothing.
    const later = await Promise.all(range(1, 200).map((i) => viaHttp.charge(i, `charge-key-${i}`)));
    for (const [index, r] of later.entries()) {
      expect(r.ok).toBe(true);
      expect(r.data).toEqual(byKey.get(index + 1)![0]);
    }
    expect(await balanceOf(user)).toBe(total);
  });
});

describe("concurrent payments of one hold", () => {
  async function heldSeat(
    user: string,
    balance: number,
  ): Promise<{ scheduleId: number; concertId: number; reservationId: number }> {
    const { concertId, scheduleId } = await newSchedule(s, 4, 1000);
    expect((await httpCaller(s, user, "").charge(balance)).ok).toBe(true);
    const token = await activeToken(s, user);
    const hold = await http(s, "POST", "/v1/reservations", {
      user,
      queueToken: token,
      body: { scheduleId, seatNo: 1 },
    });
    expect(hold.status).toBe(201);
    return { concertId, scheduleId, reservationId: hold.body.reservationId };
  }

  it.each([
    ["distinct Idempotency-Keys", true],
    ["no Idempotency-Key", false],
  ])(
    "20 concurrent payments of one hold with %s: exactly one 201, 19 × 409 ALREADY_PAID, the balance debited once",
    async (_label, withKeys) => {
      const user = `u-pay-race-${withKeys ? "keys" : "nokey"}`;
      const { concertId, scheduleId, reservationId } = await heldSeat(user, 5000);

      const replies = await Promise.all(
        range(1, 20).map((i) =>
          http(s, "POST", "/v1/payments", {
            user,
            idempotencyKey: withKeys ? `pay-race-${i}` : undefined,
            body: { reservationIds: [reservationId] },
          }),
        ),
      );

      const paid = replies.filter((r) => r.status === 201);
      expect(paid).toHaveLength(1);
      expect(paid[0]!.body).toMatchObject({
        reservationIds: [reservationId],
        amount: 1000,
        balance: 4000,
        status: "paid",
      });
      expect(Number.isInteger(paid[0]!.body.paymentId)).toBe(true);
      expect(replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body?.error?.code}`)).toEqual(
        Array(19).fill("409 ALREADY_PAID"),
      );
      expect(await balanceOf(user)).toBe(4000);
      expect((await getReservation(user, reservationId)).status).toBe("paid");
      expect((await seatStatuses(scheduleId)).get(1)).toBe("sold");
      expect(await availableSeats(concertId, scheduleId)).toBe(3);
    },
  );

  it("20 concurrent payments of one hold with the same Idempotency-Key (HTTP and WebSocket) all return the identical 201 and debit once", async () => {
    const user = "u-pay-samekey";
    const { scheduleId, reservationId } = await heldSeat(user, 5000);
    const ws = await Promise.all([WsClient.connect(s, user), WsClient.connect(s, user)]);
    sockets.push(...ws);
    const callers = [httpCaller(s, user, ""), wsCaller(ws[0]!, user), wsCaller(ws[1]!, user)];

    const results = await Promise.all(range(1, 20).map((i) => callers[i % 3]!.pay([reservationId], "pay-same-key")));

    expect(results.map((r) => (r.ok ? "ok" : r.code))).toEqual(Array(20).fill("ok"));
    expect(results[0]!.data).toMatchObject({
      reservationIds: [reservationId],
      amount: 1000,
      balance: 4000,
      status: "paid",
    });
    for (const r of results) expect(r.data).toEqual(results[0]!.data);
    expect(await balanceOf(user)).toBe(4000);
    expect((await getReservation(user, reservationId)).status).toBe("paid");
    expect((await seatStatuses(scheduleId)).get(1)).toBe("sold");
  });

  it("paying two seats with money for one: every concurrent attempt is 402 INSUFFICIENT_BALANCE and nothing changes", async () => {
    const user = "u-pay-poor";
    const { concertId, scheduleId } = await newSchedule(s, 4, 1000);
    expect((await httpCaller(s, user, "").charge(1500)).ok).toBe(true);
    const token = await activeToken(s, user);
    const holds = await Promise.all(
      [1, 2].map((seatNo) =>
        http(s, "POST", "/v1/reservations", {
          user,
          queueToken: token,
          body: { scheduleId, seatNo },
        }),
      ),
    );
    expect(holds.map((h) => h.status)).toEqual([201, 201]);
    const ids = holds.map((h) => h.body.reservationId as number);

    const replies = await Promise.all(
      range(1, 10).map((i) =>
        http(s, "POST", "/v1/payments", {
          user,
          idempotencyKey: i % 2 === 0 ? `poor-${i}` : undefined,
          body: { reservationIds: ids },
        }),
      ),
    );

    expect(replies.map((r) => `${r.status} ${r.body?.error?.code}`)).toEqual(
      Array(10).fill("402 INSUFFICIENT_BALANCE"),
    );
    expect(await balanceOf(user)).toBe(1500);
    for (const [i, id] of ids.entries()) {
      expect(await getReservation(user, id)).toMatchObject({
        status: "held",
        expiresAt: holds[i]!.body.expiresAt,
      });
    }
    const seats = await seatStatuses(scheduleId);
    expect([seats.get(1), seats.get(2), seats.get(3), seats.get(4)]).toEqual([
      "held",
      "held",
      "available",
      "available",
    ]);
    expect(await availableSeats(concertId, scheduleId)).toBe(2);
    // The failed payment did not expire the caller's queue token either.
    expect((await http(s, "GET", "/v1/concerts", { user, queueToken: token })).status).toBe(200);
    // The error was not stored under its key: after topping up, the same key does the work.
    expect((await httpCaller(s, user, "").charge(500)).ok).toBe(true);
    const paid = await http(s, "POST", "/v1/payments", {
      user,
      idempotencyKey: "poor-2",
      body: { reservationIds: ids },
    });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({
      amount: 2000,
      balance: 0,
      status: "paid",
    });
  });
});

describe("concurrent holds", () => {
  it("50 users each holding 4 seats of a 200-seat schedule at once: all 200 seats held, none twice, and a 5th hold is HOLD_LIMIT", async () => {
    const { concertId, scheduleId } = await newSchedule(s, 200, 100);
    const holders = users("fill", 50);
    const tokens = await Promise.all(holders.slice(0, 25).map((u) => activeToken(s, u)));
    const wsClients = await Promise.all(holders.slice(25).map((u) => activeSocket(s, u)));
    const callers = holders.map((u, i) => (i < 25 ? httpCaller(s, u, tokens[i]!) : wsCaller(wsClients[i - 25]!, u)));

    // Each user runs 4 workers at once; a worker walks its own random order of seats until one hold succeeds.
    const won: { user: string; reservationId: number; seatNo: number }[] = [];
    const unexpected: string[] = [];
    async function worker(c: Caller): Promise<void> {
      for (const seatNo of shuffled(range(1, 200))) {
        const r = await c.hold(scheduleId, seatNo);
        if (r.ok) {
          expect(r.data).toMatchObject({
            scheduleId,
            seatNo,
            price: 100,
            status: "held",
          });
          won.push({
            user: c.user,
            reservationId: r.data.reservationId,
            seatNo,
          });
          return;
        }
        if (r.code !== "SEAT_UNAVAILABLE") unexpected.push(`${c.user} seat ${seatNo}: ${r.code}`);
        if (r.code === "HOLD_LIMIT") return;
      }
      unexpected.push(`${c.user}: no seat found`);
    }
    await Promise.all(callers.flatMap((c) => [worker(c), worker(c), worker(c), worker(c)]));

    expect(unexpected).toEqual([]);
    expect(won).toHaveLength(200);
    expect(won.map((w) => w.seatNo).sort((a, b) => a - b)).toEqual(range(1, 200));
    expect(new Set(won.map((w) => w.reservationId)).size).toBe(200);
    for (const user of holders) expect(won.filter((w) => w.user === user)).toHaveLength(4);

    // The seat map: every seat held.
    const seats = await seatStatuses(scheduleId);
    expect(seats.size).toBe(200);
    expect([...seats.values()].filter((x) => x !== "held")).toEqual([]);
    expect(await availableSeats(concertId, scheduleId)).toBe(0);
    // Each reservation: held, on the seat its 201 named, owned by the user who got it.
    const fetched = await Promise.all(won.map((w) => getReservation(w.user, w.reservationId)));
    for (const [i, body] of fetched.entries()) {
      expect(body).toMatchObject({
        reservationId: won[i]!.reservationId,
        scheduleId,
        seatNo: won[i]!.seatNo,
        status: "held",
      });
    }
    expect(new Set(fetched.map((b) => b.seatNo)).size).toBe(200);

    // A 5th hold per user, all at once: HOLD_LIMIT (checked before the seat, which is taken anyway).
    const fifth = await Promise.all(callers.map((c, i) => c.hold(scheduleId, 1 + ((i * 7) % 200))));
    expect(fifth.map((r) => (r.ok ? "ok" : r.code))).toEqual(Array(50).fill("HOLD_LIMIT"));
    // ...also on a fresh schedule with free seats.
    const other = await newSchedule(s, 60, 100);
    const fifthFree = await Promise.all(callers.map((c, i) => c.hold(other.scheduleId, i + 1)));
    expect(fifthFree.map((r) => (r.ok ? "ok" : r.code))).toEqual(Array(50).fill("HOLD_LIMIT"));
    expect(await availableSeats(other.concertId, other.scheduleId)).toBe(60);
  });

  it("one user sending 10 concurrent holds on free seats gets exactly 4 holds and 6 × HOLD_LIMIT", async () => {
    const { concertId, scheduleId } = await newSchedule(s, 10, 100);
    const user = "u-limit-race";
    const token = await activeToken(s, user);
    const replies = await Promise.all(
      range(1, 10).map((seatNo) =>
        http(s, "POST", "/v1/reservations", {
          user,
          queueToken: token,
          body: { scheduleId, seatNo },
        }),
      ),
    );
    const ok = replies.filter((r) => r.status === 201);
    expect(ok).toHaveLength(4);
    expect(replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body?.error?.code}`)).toEqual(
      Array(6).fill("409 HOLD_LIMIT"),
    );
    const seats = await seatStatuses(scheduleId);
    expect([...seats.values()].filter((x) => x === "held")).toHaveLength(4);
    for (const r of ok) expect(seats.get(r.body.seatNo)).toBe("held");
    expect(await availableSeats(concertId, scheduleId)).toBe(6);
  });

  it("many users holding and releasing the same seats at once: the final seat map, the pushes and the reservations' statuses agree", async () => {
    const SEATS = 8;
    const { concertId, scheduleId } = await newSchedule(s, SEATS, 100);

    // A subscriber rebuilds the seat map from pushes alone.
    const watcher = await WsClient.connect(s, "u-mix-watcher");
    sockets.push(watcher);
    expect((await watcher.request("queue.check", {})).data?.status).toBe("active");
    const sub = await watcher.request("seats.subscribe", { scheduleId });
    expect(sub.ok).toBe(true);
    const pushed = new Map<number, string>((sub.data.seats as any[]).map((x) => [x.no, x.status]));
    let version: number = sub.data.version;
    const versionErrors: string[] = [];
    const seen = new Set<unknown>();
    const applyPushes = () => {
      for (const p of watcher.pushes) {
        if (seen.has(p) || p.ev !== "seats" || p.scheduleId !== scheduleId) continue;
        seen.add(p);
        if (p.version !== version + 1) versionErrors.push(`version ${p.version} after ${version}`);
        version = p.version;
        for (const change of p.changes as { no: number; status: string }[]) pushed.set(change.no, change.status);
      }
    };

    const mixers = users("mix", 24);
    const tokens = await Promise.all(mixers.slice(0, 12).map((u) => activeToken(s, u)));
    const wsClients = await Promise.all(mixers.slice(12).map((u) => activeSocket(s, u)));
    const callers = mixers.map((u, i) => (i < 12 ? httpCaller(s, u, tokens[i]!) : wsCaller(wsClients[i - 12]!, u)));

    const made: {
      user: string;
      id: number;
      seatNo: number;
      state: "held" | "released";
    }[] = [];
    const problems: string[] = [];
    async function mixer(c: Caller): Promise<void> {
      const mine: (typeof made)[number][] = [];
      for (let round = 0; round < 12; round++) {
        const seatNo = 1 + randomInt(SEATS);
        const r = await c.hold(scheduleId, seatNo);
        if (r.ok) {
          const rec = {
            user: c.user,
            id: r.data.reservationId as number,
            seatNo,
            state: "held" as "held" | "released",
          };
          made.push(rec);
          mine.push(rec);
          const dice = Math.random();
          if (dice < 0.35) {
            const rel = await c.release(rec.id);
            if (!rel.ok) problems.push(`release ${rec.id}: ${rel.code}`);
            else rec.state = "released";
          } else if (dice < 0.55) {
            // The same user releasing twice at once: exactly one succeeds, the other is HOLD_EXPIRED.
            const both = await Promise.all([c.release(rec.id), c.release(rec.id)]);
            const codes = both.map((x) => (x.ok ? "ok" : x.code)).sort();
            if (JSON.stringify(codes) !== JSON.stringify(["HOLD_EXPIRED", "ok"]))
              problems.push(`double release ${rec.id}: ${codes}`);
            if (both.some((x) => x.ok)) rec.state = "released";
          }
        } else if (r.code !== "SEAT_UNAVAILABLE" && r.code !== "HOLD_LIMIT") {
          problems.push(`hold seat ${seatNo} by ${c.user}: ${r.code}`);
        }
        const kept = mine.filter((x) => x.state === "held");
        if (kept.length > 0 && Math.random() < 0.25) {
          const victim = kept[randomInt(kept.length)]!;
          const rel = await c.release(victim.id);
          if (!rel.ok) problems.push(`release ${victim.id}: ${rel.code}`);
          else victim.state = "released";
        }
      }
    }
    await Promise.all(callers.map((c) => mixer(c)));

    expect(problems).toEqual([]);
    expect(made.length).toBeGreaterThan(SEATS);

    // Every reservation's status is the one its owner's acknowledged operations imply.
    const statuses = await Promise.all(made.map((m) => getReservation(m.user, m.id)));
    for (const [i, body] of statuses.entries()) {
      expect(body, `reservation ${made[i]!.id}`).toMatchObject({
        seatNo: made[i]!.seatNo,
        status: made[i]!.state,
      });
    }
    const heldSeats = made.filter((m) => m.state === "held").map((m) => m.seatNo);
    expect(new Set(heldSeats).size).toBe(heldSeats.length); // no seat held by two reservations

    // The seat map: held exactly where a held reservation is.
    const seats = await seatStatuses(scheduleId);
    for (const no of range(1, SEATS)) {
      expect(seats.get(no), `seat ${no}`).toBe(heldSeats.includes(no) ? "held" : "available");
    }
    expect(await availableSeats(concertId, scheduleId)).toBe(SEATS - heldSeats.length);

    // The pushes converge on the same map, with no gap in versions.
    const deadline = Date.now() + 3000;
    for (;;) {
      applyPushes();
      const same = range(1, SEATS).every((no) => pushed.get(no) === seats.get(no));
      if (same || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(versionErrors).toEqual([]);
    expect(Object.fromEntries(pushed)).toEqual(Object.fromEntries(seats));
  });
});
