// HTTP contract: seat holds (POST/GET/DELETE /v1/reservations), hold limits and hold expiry.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { activeToken, createConcert, expectError, type HttpReply, http, uniqueIds } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const uid = uniqueIds("u-res");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Buyer {
  user: string;
  token: string;
}

async function buyer(s: TestServer, name: string): Promise<Buyer> {
  const user = uid(name);
  return { user, token: await activeToken(s, user) };
}

function tryHold(s: TestServer, b: Buyer, scheduleId: number, seatNo: number): Promise<HttpReply> {
  return http(s, "POST", "/v1/reservations", { user: b.user, queueToken: b.token, body: { scheduleId, seatNo } });
}

async function hold(s: TestServer, b: Buyer, scheduleId: number, seatNo: number): Promise<any> {
  const reply = await tryHold(s, b, scheduleId, seatNo);
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

async function seatStatus(s: TestServer, b: Buyer, scheduleId: number, seatNo: number): Promise<string> {
  const reply = await http(s, "GET", `/v1/schedules/${scheduleId}/seats`, { user: b.user, queueToken: b.token });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.seats.find((seat: { no: number }) => seat.no === seatNo)?.status;
}

async function charge(s: TestServer, user: string, amount: number): Promise<void> {
  const reply = await http(s, "POST", "/v1/balance/charge", { user, body: { amount } });
  expect(reply.status, reply.text).toBe(200);
}

describe("default limits (HOLD_TTL_MS 300000, MAX_HOLDS_PER_USER 4)", () => {
  let s: TestServer;
  let scheduleId: number;
  const SEATS = 30;

  beforeAll(async () => {
    s = await startServer();
    const concert = await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: SEATS, price: 1200 }]);
    scheduleId = concert.schedules[0]!.id;
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("POST /v1/reservations -> 201 {reservationId, scheduleId, seatNo, price, status: held, expiresAt}", async () => {
    const b = await buyer(s, "create");
    const before = Date.now();
    const reply = await tryHold(s, b, scheduleId, 1);
    const after = Date.now();
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body).toMatchObject({ scheduleId, seatNo: 1, price: 1200, status: "held" });
    expect(Number.isInteger(reply.body.reservationId)).toBe(true);
    expect(reply.body.reservationId).toBeGreaterThan(0);
    expect(reply.body.expiresAt).toMatch(ISO);
    const expiresAt = Date.parse(reply.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 300_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 300_000 + 1000);
    expect(await seatStatus(s, b, scheduleId, 1)).toBe("held");
  });

  test("holding a seat held by another user -> 409 SEAT_UNAVAILABLE", async () => {
    const a = await buyer(s, "firstA");
    const b = await buyer(s, "secondB");
    await hold(s, a, scheduleId, 2);
    expectError(await tryHold(s, b, scheduleId, 2), 409, "SEAT_UNAVAILABLE");
  });

  test("holding a seat one already holds -> 409 SEAT_UNAVAILABLE", async () => {
    const a = await buyer(s, "twice");
    await hold(s, a, scheduleId, 3);
    expectError(await tryHold(s, a, scheduleId, 3), 409, "SEAT_UNAVAILABLE");
  });

  test("holding a sold seat -> 409 SEAT_UNAVAILABLE", async () => {
    const a = await buyer(s, "seller");
    const r = await hold(s, a, scheduleId, 4);
    await charge(s, a.user, 1200);
    const pay = await http(s, "POST", "/v1/payments", { user: a.user, body: { reservationIds: [r.reservationId] } });
    expect(pay.status, pay.text).toBe(201);
    const b = await buyer(s, "late");
    expectError(await tryHold(s, b, scheduleId, 4), 409, "SEAT_UNAVAILABLE");
    // Also for the buyer, with a fresh queue token (payment ended the old one).
    const again = { user: a.user, token: await activeToken(s, a.user) };
    expectError(await tryHold(s, again, scheduleId, 4), 409, "SEAT_UNAVAILABLE");
  });

  test.each([
    ["seat 0", 0],
    ["seat n+1", SEATS + 1],
  ])("%s -> 404 NOT_FOUND", async (_name, seatNo) => {
    const b = await buyer(s, "range");
    expectError(await tryHold(s, b, scheduleId, seatNo), 404, "NOT_FOUND");
  });

  test("seat n (the last seat) can be held", async () => {
    const b = await buyer(s, "last");
    const body = await hold(s, b, scheduleId, SEATS);
    expect(body.seatNo).toBe(SEATS);
  });

  test("an unknown schedule -> 404 NOT_FOUND", async () => {
    const b = await buyer(s, "nosched");
    expectError(await tryHold(s, b, 987654321, 1), 404, "NOT_FOUND");
  });

  const badBodies: [string, string][] = [
    ["scheduleId as a string", JSON.stringify({ scheduleId: "1", seatNo: 5 })],
    ["seatNo as a string", JSON.stringify({ scheduleId: 1, seatNo: "5" })],
    ["a fractional seatNo", JSON.stringify({ scheduleId: 1, seatNo: 5.5 })],
    ["a fractional scheduleId", JSON.stringify({ scheduleId: 1.5, seatNo: 5 })],
    ["seatNo null", JSON.stringify({ scheduleId: 1, seatNo: null })],
    ["seatNo a boolean", JSON.stringify({ scheduleId: 1, seatNo: true })],
    ["a missing seatNo", JSON.stringify({ scheduleId: 1 })],
    ["a missing scheduleId", JSON.stringify({ seatNo: 5 })],
    ["an empty object", "{}"],
    ["an empty body", ""],
    ["a JSON array", "[1, 5]"],
    ["JSON null", "null"],
    ["a JSON string", '"hello"'],
    ["malformed JSON", '{"scheduleId": 1, "seatNo": '],
    ["not JSON at all", "scheduleId=1&seatNo=5"],
  ];

  test.each(badBodies)("POST /v1/reservations with %s -> 400 INVALID_ARGUMENT", async (_name, rawBody) => {
    const b = await buyer(s, "bad");
    // Substitute the real schedule id so only the named defect is wrong.
    const body = rawBody
      .replace('"scheduleId":1,', `"scheduleId":${scheduleId},`)
      .replace('"scheduleId":1}', `"scheduleId":${scheduleId}}`);
    const reply = await http(s, "POST", "/v1/reservations", { user: b.user, queueToken: b.token, rawBody: body });
    expectError(reply, 400, "INVALID_ARGUMENT");
  });

  test("an invalid request holds nothing", async () => {
    const b = await buyer(s, "nohold");
    await http(s, "POST", "/v1/reservations", {
      user: b.user,
      queueToken: b.token,
      body: { scheduleId, seatNo: "6" },
    });
    expect(await seatStatus(s, b, scheduleId, 6)).toBe("available");
  });

  test("GET /v1/reservations/:id by its owner -> 200 with the hold, no Queue-Token needed", async () => {
    const b = await buyer(s, "getter");
    const created = await hold(s, b, scheduleId, 7);
    const reply = await http(s, "GET", `/v1/reservations/${created.reservationId}`, { user: b.user });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({
      reservationId: created.reservationId,
      scheduleId,
      seatNo: 7,
      price: 1200,
      status: "held",
      expiresAt: created.expiresAt,
    });
  });

  test("GET /v1/reservations/:id of another user -> 403 FORBIDDEN", async () => {
    const a = await buyer(s, "mine");
    const created = await hold(s, a, scheduleId, 8);
    expectError(
      await http(s, "GET", `/v1/reservations/${created.reservationId}`, { user: uid("nosy") }),
      403,
      "FORBIDDEN",
    );
  });

  test("GET /v1/reservations/:id unknown -> 404 NOT_FOUND; non-integer id -> 400 INVALID_ARGUMENT", async () => {
    const user = uid("lookup");
    expectError(await http(s, "GET", "/v1/reservations/987654321", { user }), 404, "NOT_FOUND");
    for (const id of ["abc", "1.5", "0", "-2"]) {
      expectError(await http(s, "GET", `/v1/reservations/${id}`, { user }), 400, "INVALID_ARGUMENT");
    }
  });

  test("DELETE /v1/reservations/:id -> 200 {reservationId, status: released}; the seat is free again", async () => {
    const a = await buyer(s, "releaser");
    const created = await hold(s, a, scheduleId, 9);
    const reply = await http(s, "DELETE", `/v1/reservations/${created.reservationId}`, { user: a.user });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ reservationId: created.reservationId, status: "released" });

    const got = await http(s, "GET", `/v1/reservations/${created.reservationId}`, { user: a.user });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ reservationId: created.reservationId, seatNo: 9, status: "released" });
    expect(await seatStatus(s, a, scheduleId, 9)).toBe("available");
    const b = await buyer(s, "taker");
    const taken = await hold(s, b, scheduleId, 9);
    expect(taken.reservationId).not.toBe(created.reservationId);
  });

  test("releasing twice -> 410 HOLD_EXPIRED", async () => {
    const a = await buyer(s, "twice-release");
    const created = await hold(s, a, scheduleId, 10);
    const first = await http(s, "DELETE", `/v1/reservations/${created.reservationId}`, { user: a.user });
    expect(first.status, first.text).toBe(200);
    expectError(
      await http(s, "DELETE", `/v1/reservations/${created.reservationId}`, { user: a.user }),
      410,
      "HOLD_EXPIRED",
    );
  });

  test("releasing another user's hold -> 403 FORBIDDEN and the hold stays", async () => {
    const a = await buyer(s, "keeper");
    const created = await hold(s, a, scheduleId, 11);
    expectError(
      await http(s, "DELETE", `/v1/reservations/${created.reservationId}`, { user: uid("vandal") }),
      403,
      "FORBIDDEN",
    );
    const got = await http(s, "GET", `/v1/reservations/${created.reservationId}`, { user: a.user });
    expect(got.body.status).toBe("held");
    expect(await seatStatus(s, a, scheduleId, 11)).toBe("held");
  });

  test("releasing an unknown reservation -> 404 NOT_FOUND; a non-integer id -> 400", async () => {
    const user = uid("ghost");
    expectError(await http(s, "DELETE", "/v1/reservations/987654321", { user }), 404, "NOT_FOUND");
    expectError(await http(s, "DELETE", "/v1/reservations/xyz", { user }), 400, "INVALID_ARGUMENT");
  });

  test("releasing a paid reservation -> 409 ALREADY_PAID and the seat stays sold", async () => {
    const a = await buyer(s, "paid-release");
    const created = await hold(s, a, scheduleId, 12);
    await charge(s, a.user, 1200);
    const pay = await http(s, "POST", "/v1/payments", {
      user: a.user,
      body: { reservationIds: [created.reservationId] },
    });
    expect(pay.status, pay.text).toBe(201);
    expectError(
      await http(s, "DELETE", `/v1/reservations/${created.reservationId}`, { user: a.user }),
      409,
      "ALREADY_PAID",
    );
    const got = await http(s, "GET", `/v1/reservations/${created.reservationId}`, { user: a.user });
    expect(got.body.status).toBe("paid");
    const b = await buyer(s, "paid-viewer");
    expect(await seatStatus(s, b, scheduleId, 12)).toBe("sold");
  });

  test("a user may hold MAX_HOLDS_PER_USER (4) seats; the fifth -> 409 HOLD_LIMIT", async () => {
    const a = await buyer(s, "four");
    for (const seatNo of [13, 14, 15, 16]) await hold(s, a, scheduleId, seatNo);
    expectError(await tryHold(s, a, scheduleId, 17), 409, "HOLD_LIMIT");
    expect(await seatStatus(s, a, scheduleId, 17)).toBe("available");
  });
});

describe("MAX_HOLDS_PER_USER=2", () => {
  let s: TestServer;
  let scheduleId: number;

  beforeAll(async () => {
    s = await startServer({ env: { MAX_HOLDS_PER_USER: "2" } });
    const concert = await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 20, price: 700 }]);
    scheduleId = concert.schedules[0]!.id;
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("the third hold -> 409 HOLD_LIMIT; after a release the user may hold again", async () => {
    const a = await buyer(s, "limit");
    const first = await hold(s, a, scheduleId, 1);
    await hold(s, a, scheduleId, 2);
    expectError(await tryHold(s, a, scheduleId, 3), 409, "HOLD_LIMIT");
    expect(await seatStatus(s, a, scheduleId, 3)).toBe("available");

    const release = await http(s, "DELETE", `/v1/reservations/${first.reservationId}`, { user: a.user });
    expect(release.status, release.text).toBe(200);
    const third = await hold(s, a, scheduleId, 3);
    expect(third.seatNo).toBe(3);
    expectError(await tryHold(s, a, scheduleId, 4), 409, "HOLD_LIMIT");
  });

  test("HOLD_LIMIT is checked before the seat: a held seat gives HOLD_LIMIT to a user at the limit", async () => {
    const other = await buyer(s, "other");
    await hold(s, other, scheduleId, 10);
    const a = await buyer(s, "full");
    await hold(s, a, scheduleId, 11);
    await hold(s, a, scheduleId, 12);
    expectError(await tryHold(s, a, scheduleId, 10), 409, "HOLD_LIMIT");
  });

  test("the limit is per user: another user can still hold", async () => {
    const a = await buyer(s, "perA");
    await hold(s, a, scheduleId, 13);
    await hold(s, a, scheduleId, 14);
    const b = await buyer(s, "perB");
    await hold(s, b, scheduleId, 15);
  });

  test("paid seats no longer count as holds", async () => {
    const a = await buyer(s, "payer");
    const r1 = await hold(s, a, scheduleId, 16);
    const r2 = await hold(s, a, scheduleId, 17);
    await charge(s, a.user, 1400);
    const pay = await http(s, "POST", "/v1/payments", {
      user: a.user,
      body: { reservationIds: [r1.reservationId, r2.reservationId] },
    });
    expect(pay.status, pay.text).toBe(201);
    const token = await activeToken(s, a.user);
    const again = { user: a.user, token };
    await hold(s, again, scheduleId, 18);
    await hold(s, again, scheduleId, 19);
  });
});

describe("hold expiry (HOLD_TTL_MS=800)", () => {
  let s: TestServer;
  let scheduleId: number;

  beforeAll(async () => {
    s = await startServer({ env: { HOLD_TTL_MS: "800", MAX_HOLDS_PER_USER: "2" } });
    const concert = await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 10, price: 900 }]);
    scheduleId = concert.schedules[0]!.id;
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("an expired hold frees its seat by itself; another user can hold it; release and payment -> 410 HOLD_EXPIRED", async () => {
    const a = await buyer(s, "expA");
    const watcher = await buyer(s, "watch");
    const before = Date.now();
    const created = await hold(s, a, scheduleId, 1);
    expect(Date.parse(created.expiresAt)).toBeGreaterThanOrEqual(before + 800 - 300);
    expect(Date.parse(created.expiresAt)).toBeLessThanOrEqual(Date.now() + 800 + 300);
    expect(await seatStatus(s, watcher, scheduleId, 1)).toBe("held");

    // Only the watcher asks for the seat map; the owner sends nothing about the hold.
    const start = Date.now();
    while ((await seatStatus(s, watcher, scheduleId, 1)) !== "available") {
      if (Date.now() - start > 4000) throw new Error("hold did not expire within 4 s");
      await sleep(100);
    }
    expect(Date.now() - before, "not freed before its TTL").toBeGreaterThanOrEqual(800 - 150);

    const got = await http(s, "GET", `/v1/reservations/${created.reservationId}`, { user: a.user });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ reservationId: created.reservationId, seatNo: 1, status: "expired" });

    const b = await buyer(s, "expB");
    const retaken = await hold(s, b, scheduleId, 1);
    expect(retaken.reservationId).not.toBe(created.reservationId);

    expectError(
      await http(s, "DELETE", `/v1/reservations/${created.reservationId}`, { user: a.user }),
      410,
      "HOLD_EXPIRED",
    );
    await charge(s, a.user, 900);
    expectError(
      await http(s, "POST", "/v1/payments", { user: a.user, body: { reservationIds: [created.reservationId] } }),
      410,
      "HOLD_EXPIRED",
    );
    // Nothing changed: balance intact, B's hold intact, A's reservation still expired.
    const balance = await http(s, "GET", "/v1/balance", { user: a.user });
    expect(balance.body).toMatchObject({ userId: a.user, balance: 900 });
    const bGot = await http(s, "GET", `/v1/reservations/${retaken.reservationId}`, { user: b.user });
    expect(bGot.body.status).toBe("held");
    const aGot = await http(s, "GET", `/v1/reservations/${created.reservationId}`, { user: a.user });
    expect(aGot.body.status).toBe("expired");
  });

  test("schedules' availableSeats comes back after expiry", async () => {
    const concert = await createConcert(s, [{ startsAt: "2027-01-02T19:00:00.000Z", seatCount: 3, price: 900 }]);
    const a = await buyer(s, "availA");
    await hold(s, a, concert.schedules[0]!.id, 2);
    const row = async () => {
      const reply = await http(s, "GET", `/v1/concerts/${concert.id}/schedules`, { user: a.user, queueToken: a.token });
      expect(reply.status, reply.text).toBe(200);
      return reply.body.schedules[0].availableSeats as number;
    };
    expect(await row()).toBe(2);
    const start = Date.now();
    while ((await row()) !== 3) {
      if (Date.now() - start > 4000) throw new Error("availableSeats did not recover within 4 s");
      await sleep(100);
    }
  });

  test("expired holds no longer count toward MAX_HOLDS_PER_USER", async () => {
    const concert = await createConcert(s, [{ startsAt: "2027-01-03T19:00:00.000Z", seatCount: 6, price: 900 }]);
    const id = concert.schedules[0]!.id;
    const a = await buyer(s, "limitexp");
    const r1 = await hold(s, a, id, 1);
    await hold(s, a, id, 2);
    expectError(await tryHold(s, a, id, 3), 409, "HOLD_LIMIT");
    const start = Date.now();
    for (;;) {
      const got = await http(s, "GET", `/v1/reservations/${r1.reservationId}`, { user: a.user });
      if (got.body.status === "expired") break;
      if (Date.now() - start > 4000) throw new Error("hold did not expire within 4 s");
      await sleep(100);
    }
    await hold(s, a, id, 3);
    await hold(s, a, id, 4);
  });
});
