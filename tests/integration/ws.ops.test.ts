// WebSocket ops contract: every op of API.md's WS table, once over JSON text frames and once over
// MessagePack binary frames. `data` must be exactly the body of the HTTP twin, errors must come as
// {id, ok:false, error:{code,message}} with the HTTP codes, and each reply uses its request's encoding.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activeToken, createConcert, decodeMsgpack, http, WsClient, type WsMessage } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

let server: TestServer;

beforeAll(async () => {
  server = await startServer({
    // Small money limits so BALANCE_LIMIT is reachable in two charges; CHARGE_MAX <= BALANCE_MAX.
    env: { CHARGE_MAX: "500000", BALANCE_MAX: "1000000", MAX_HOLDS_PER_USER: "4" },
  });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

// ---------------------------------------------------------------------------------------------
// Helpers: a connection that also records the encoding of every frame it received.

interface Frame {
  message: WsMessage;
  binary: boolean;
}

const framesOf = new WeakMap<WsClient, Frame[]>();
const open: WsClient[] = [];

async function connect(user: string): Promise<WsClient> {
  const client = await WsClient.connect(server, user);
  const frames: Frame[] = [];
  client.socket.on("message", (data: Buffer, isBinary: boolean) => {
    frames.push({ message: isBinary ? decodeMsgpack(data) : JSON.parse(data.toString("utf8")), binary: isBinary });
  });
  framesOf.set(client, frames);
  open.push(client);
  return client;
}

afterAll(() => {
  for (const client of open) client.close();
});

let idCounter = 1000;

/** Sends one request in the given encoding, checks the reply came back in that same encoding. */
async function call(client: WsClient, op: string, args: unknown, binary: boolean): Promise<WsMessage> {
  const id = idCounter++;
  const reply = await client.request(op, args, { binary, id });
  const frame = framesOf.get(client)!.findLast((f) => f.message.ev === undefined && f.message.id === id);
  expect(frame, `reply frame for ${op}`).toBeDefined();
  expect(frame!.binary, `reply to a ${binary ? "binary" : "text"} ${op} request`).toBe(binary);
  expect(reply.id).toBe(id);
  return reply;
}

/** Calls an op that must succeed and returns its `data`. */
async function ok(client: WsClient, op: string, args: unknown, binary: boolean): Promise<any> {
  const reply = await call(client, op, args, binary);
  expect(reply, `${op} ${JSON.stringify(args)}`).toEqual({ id: reply.id, ok: true, data: expect.anything() });
  return reply.data;
}

/** Calls an op that must fail with `code`; checks the exact error frame shape. */
async function fails(client: WsClient, op: string, args: unknown, binary: boolean, code: string): Promise<void> {
  const reply = await call(client, op, args, binary);
  expect(reply, `${op} ${JSON.stringify(args)}`).toEqual({
    id: reply.id,
    ok: false,
    error: { code, message: expect.any(String) },
  });
}

/** A connection whose queue token (from queue.check over WS) is active and remembered. */
async function checkedIn(user: string, binary: boolean): Promise<{ ws: WsClient; token: string }> {
  const ws = await connect(user);
  const data = await ok(ws, "queue.check", {}, binary);
  expect(data.status).toBe("active");
  return { ws, token: data.token };
}

async function newSchedule(seatCount = 10, price = 1000): Promise<{ concertId: number; scheduleId: number }> {
  const concert = await createConcert(server, [{ startsAt: "2027-03-01T19:00:00.000Z", seatCount, price }]);
  return { concertId: concert.id, scheduleId: concert.schedules[0]!.id };
}

async function httpHold(user: string, scheduleId: number, seatNo: number): Promise<number> {
  const token = await activeToken(server, user);
  const reply = await http(server, "POST", "/v1/reservations", {
    user,
    queueToken: token,
    body: { scheduleId, seatNo },
  });
  expect(reply.status).toBe(201);
  return reply.body.reservationId;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// ---------------------------------------------------------------------------------------------

describe.each([
  { encoding: "JSON text", binary: false, tag: "txt" },
  { encoding: "MessagePack binary", binary: true, tag: "bin" },
])("WS ops over $encoding frames", ({ binary, tag }) => {
  const u = (name: string) => `u-ops-${tag}-${name}`;

  // ------------------------------------------------------------------ queue.check and the gate

  it("queue.check returns the POST /v1/queue/check body, and the same token HTTP gives that user", async () => {
    const user = u("check");
    const ws = await connect(user);
    const data = await ok(ws, "queue.check", {}, binary);
    expect(data).toEqual({
      token: expect.any(String),
      concertId: null,
      status: "active",
      position: 0,
      waiting: expect.any(Number),
      active: expect.any(Number),
      etaSeconds: 0,
      expiresAt: expect.stringMatching(ISO),
      opensAt: null,
    });
    const viaHttp = await http(server, "POST", "/v1/queue/check", { user });
    expect(viaHttp.status).toBe(200);
    // One live token per user: HTTP sees the very same token, admission time and counts.
    expect(data).toEqual(viaHttp.body);
    // queue.check with args.token (the user's own live token) returns it again.
    const again = await ok(ws, "queue.check", { token: data.token }, binary);
    expect(again).toEqual(viaHttp.body);
  });

  it("a gated op without queue.check and without args.token is TOKEN_INVALID", async () => {
    const ws = await connect(u("nogate"));
    await fails(ws, "concerts.list", {}, binary, "TOKEN_INVALID");
    // (A real schedule: an unknown one is NOT_FOUND before the gate.)
    const { scheduleId } = await newSchedule(2);
    await fails(ws, "seats.list", { scheduleId }, binary, "TOKEN_INVALID");
    await fails(ws, "reservations.create", { scheduleId, seatNo: 1 }, binary, "TOKEN_INVALID");
  });

  it("the token from queue.check is remembered: gated ops work afterwards without args.token", async () => {
    const { ws } = await checkedIn(u("remember"), binary);
    const data = await ok(ws, "concerts.list", {}, binary);
    expect(Array.isArray(data.concerts)).toBe(true);
  });

  it("args.token works on a connection that never checked in (token obtained over HTTP)", async () => {
    const user = u("argtoken");
    const token = await activeToken(server, user);
    const ws = await connect(user);
    const data = await ok(ws, "concerts.list", { token }, binary);
    expect(Array.isArray(data.concerts)).toBe(true);
  });

  it("args.token overrides the remembered token: another user's token is FORBIDDEN, an unknown one TOKEN_INVALID", async () => {
    const { ws } = await checkedIn(u("override-a"), binary);
    const otherToken = await activeToken(server, u("override-b"));
    await fails(ws, "concerts.list", { token: otherToken }, binary, "FORBIDDEN");
    await fails(ws, "concerts.list", { token: "no-such-token" }, binary, "TOKEN_INVALID");
    // The remembered token is still used when args.token is absent.
    await ok(ws, "concerts.list", {}, binary);
  });

  // ------------------------------------------------------------------ catalog reads

  it("concerts.list data equals the GET /v1/concerts body", async () => {
    await newSchedule();
    const user = u("concerts");
    const { ws, token } = await checkedIn(user, binary);
    const data = await ok(ws, "concerts.list", {}, binary);
    const viaHttp = await http(server, "GET", "/v1/concerts", { user, queueToken: token });
    expect(viaHttp.status).toBe(200);
    expect(data).toEqual(viaHttp.body);
    expect(data.concerts.length).toBeGreaterThan(0);
    for (const c of data.concerts) expect(c).toEqual({ id: expect.any(Number), title: expect.any(String) });
  });

  it("schedules.list data equals the GET /v1/concerts/:id/schedules body", async () => {
    const concert = await createConcert(server, [
      { startsAt: "2027-04-01T19:00:00.000Z", seatCount: 5, price: 100 },
      { startsAt: "2027-04-02T19:00:00.000Z", seatCount: 7, price: 200 },
    ]);
    const user = u("schedules");
    const { ws, token } = await checkedIn(user, binary);
    const data = await ok(ws, "schedules.list", { concertId: concert.id }, binary);
    const viaHttp = await http(server, "GET", `/v1/concerts/${concert.id}/schedules`, { user, queueToken: token });
    expect(viaHttp.status).toBe(200);
    expect(data).toEqual(viaHttp.body);
    expect(data.schedules).toHaveLength(2);
    expect(data.schedules[0]).toEqual({
      id: concert.schedules[0]!.id,
      concertId: concert.id,
      startsAt: "2027-04-01T19:00:00.000Z",
      timeZone: "UTC",
      totalSeats: 5,
      availableSeats: 5,
    });
  });

  it("schedules.list of an unknown concert is NOT_FOUND", async () => {
    const { ws } = await checkedIn(u("schedules-404"), binary);
    await fails(ws, "schedules.list", { concertId: 987654 }, binary, "NOT_FOUND");
  });

  it("seats.list data equals the GET /v1/schedules/:id/seats body (with version)", async () => {
    const { scheduleId } = await newSchedule(6, 1500);
    await httpHold(u("seats-holder"), scheduleId, 2);
    const user = u("seats");
    const { ws, token } = await checkedIn(user, binary);
    const data = await ok(ws, "seats.list", { scheduleId }, binary);
    const viaHttp = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user, queueToken: token });
    expect(viaHttp.status).toBe(200);
    // The hold's diff may be flushed (version + 1) between the two reads; the seats may not differ.
    expect({ ...data, version: 0 }).toEqual({ ...viaHttp.body, version: 0 });
    expect(viaHttp.body.version).toBeGreaterThanOrEqual(data.version);
    expect(viaHttp.body.version).toBeLessThanOrEqual(data.version + 1);
    expect(data.scheduleId).toBe(scheduleId);
    expect(typeof data.version).toBe("number");
    expect(data.seats).toHaveLength(6);
    expect(data.seats[0]).toEqual({ no: 1, price: 1500, status: "available" });
    expect(data.seats[1]).toEqual({ no: 2, price: 1500, status: "held" });
  });

  it("seats.list of an unknown schedule is NOT_FOUND", async () => {
    const { ws } = await checkedIn(u("seats-404"), binary);
    await fails(ws, "seats.list", { scheduleId: 987654 }, binary, "NOT_FOUND");
  });

  it("seats.subscribe data equals the GET /v1/schedules/:id/seats body and seats.unsubscribe replies {}", async () => {
    const { scheduleId } = await newSchedule(4, 900);
    await httpHold(u("sub-holder"), scheduleId, 4);
    const user = u("sub");
    const { ws, token } = await checkedIn(user, binary);
    const data = await ok(ws, "seats.subscribe", { scheduleId }, binary);
    const viaHttp = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user, queueToken: token });
    // The hold's diff may be flushed (version + 1) between the two reads; the seats may not differ.
    expect({ ...data, version: 0 }).toEqual({ ...viaHttp.body, version: 0 });
    expect(viaHttp.body.version).toBeGreaterThanOrEqual(data.version);
    expect(viaHttp.body.version).toBeLessThanOrEqual(data.version + 1);
    expect(data.seats[3]).toEqual({ no: 4, price: 900, status: "held" });
    expect(await ok(ws, "seats.unsubscribe", { scheduleId }, binary)).toEqual({});
  });

  it("seats.subscribe of an unknown schedule is NOT_FOUND, with a mistyped scheduleId INVALID_ARGUMENT", async () => {
    const { ws } = await checkedIn(u("sub-404"), binary);
    await fails(ws, "seats.subscribe", { scheduleId: 987654 }, binary, "NOT_FOUND");
    await fails(ws, "seats.subscribe", { scheduleId: "one" }, binary, "INVALID_ARGUMENT");
    await fails(ws, "seats.list", { scheduleId: "one" }, binary, "INVALID_ARGUMENT");
  });

  // ------------------------------------------------------------------ reservations

  it("reservations.create returns the 201 body and reservations.get equals GET /v1/reservations/:id", async () => {
    const { scheduleId } = await newSchedule(5, 1200);
    const user = u("create");
    const { ws } = await checkedIn(user, binary);
    const created = await ok(ws, "reservations.create", { scheduleId, seatNo: 3 }, binary);
    expect(created).toEqual({
      reservationId: expect.any(Number),
      scheduleId,
      seatNo: 3,
      price: 1200,
      status: "held",
      expiresAt: expect.stringMatching(ISO),
    });
    const got = await ok(ws, "reservations.get", { reservationId: created.reservationId }, binary);
    const viaHttp = await http(server, "GET", `/v1/reservations/${created.reservationId}`, { user });
    expect(viaHttp.status).toBe(200);
    expect(got).toEqual(viaHttp.body);
    expect(got).toEqual(created);
  });

  it("reservations.create of a held seat is SEAT_UNAVAILABLE, of a seat past the last one NOT_FOUND", async () => {
    const { scheduleId } = await newSchedule(5);
    await httpHold(u("taken-other"), scheduleId, 1);
    const { ws } = await checkedIn(u("taken"), binary);
    await fails(ws, "reservations.create", { scheduleId, seatNo: 1 }, binary, "SEAT_UNAVAILABLE");
    await fails(ws, "reservations.create", { scheduleId, seatNo: 6 }, binary, "NOT_FOUND");
    await fails(ws, "reservations.create", { scheduleId: 987654, seatNo: 1 }, binary, "NOT_FOUND");
  });

  it("a fifth hold is HOLD_LIMIT", async () => {
    const { scheduleId } = await newSchedule(10);
    const { ws } = await checkedIn(u("limit"), binary);
    for (let seatNo = 1; seatNo <= 4; seatNo++) await ok(ws, "reservations.create", { scheduleId, seatNo }, binary);
    await fails(ws, "reservations.create", { scheduleId, seatNo: 5 }, binary, "HOLD_LIMIT");
  });

  it("reservations.create with wrong argument types is INVALID_ARGUMENT", async () => {
    const { scheduleId } = await newSchedule(5);
    const { ws } = await checkedIn(u("create-400"), binary);
    await fails(ws, "reservations.create", { scheduleId: "x", seatNo: 1 }, binary, "INVALID_ARGUMENT");
    await fails(ws, "reservations.create", { scheduleId, seatNo: "1" }, binary, "INVALID_ARGUMENT");
    await fails(ws, "reservations.create", { scheduleId }, binary, "INVALID_ARGUMENT");
  });

  it("reservations.get of an unknown id is NOT_FOUND, of another user's FORBIDDEN", async () => {
    const { scheduleId } = await newSchedule(5);
    const othersId = await httpHold(u("get-other"), scheduleId, 1);
    const ws = await connect(u("get"));
    await fails(ws, "reservations.get", { reservationId: 987654 }, binary, "NOT_FOUND");
    await fails(ws, "reservations.get", { reservationId: othersId }, binary, "FORBIDDEN");
    await fails(ws, "reservations.get", { reservationId: "abc" }, binary, "INVALID_ARGUMENT");
  });

  it("reservations.release returns {reservationId, status:'released'}; again is HOLD_EXPIRED; another user's is FORBIDDEN", async () => {
    const { scheduleId } = await newSchedule(5);
    const user = u("release");
    const { ws } = await checkedIn(user, binary);
    const created = await ok(ws, "reservations.create", { scheduleId, seatNo: 2 }, binary);
    const released = await ok(ws, "reservations.release", { reservationId: created.reservationId }, binary);
    expect(released).toEqual({ reservationId: created.reservationId, status: "released" });
    const viaHttp = await http(server, "GET", `/v1/reservations/${created.reservationId}`, { user });
    expect(viaHttp.body.status).toBe("released");
    await fails(ws, "reservations.release", { reservationId: created.reservationId }, binary, "HOLD_EXPIRED");
    const othersId = await httpHold(u("release-other"), scheduleId, 3);
    await fails(ws, "reservations.release", { reservationId: othersId }, binary, "FORBIDDEN");
    await fails(ws, "reservations.release", { reservationId: 987654 }, binary, "NOT_FOUND");
  });

  // ------------------------------------------------------------------ balance

  it("balance.get data equals the GET /v1/balance body; a new user has balance 0", async () => {
    const user = u("balance");
    const ws = await connect(user);
    const data = await ok(ws, "balance.get", {}, binary);
    expect(data).toEqual({ userId: user, balance: 0 });
    const viaHttp = await http(server, "GET", "/v1/balance", { user });
    expect(viaHttp.status).toBe(200);
    expect(data).toEqual(viaHttp.body);
  });

  it("balance.charge returns {userId, balance} and GET /v1/balance agrees", async () => {
    const user = u("charge");
    const ws = await connect(user);
    expect(await ok(ws, "balance.charge", { amount: 700 }, binary)).toEqual({ userId: user, balance: 700 });
    expect(await ok(ws, "balance.charge", { amount: 300 }, binary)).toEqual({ userId: user, balance: 1000 });
    const viaHttp = await http(server, "GET", "/v1/balance", { user });
    expect(viaHttp.body).toEqual({ userId: user, balance: 1000 });
    expect(await ok(ws, "balance.get", {}, binary)).toEqual(viaHttp.body);
  });

  it("balance.charge with args.idempotencyKey replays the first reply; another amount with that key is IDEMPOTENCY_MISMATCH", async () => {
    const user = u("charge-idem");
    const ws = await connect(user);
    const first = await ok(ws, "balance.charge", { amount: 250, idempotencyKey: "k-charge-1" }, binary);
    expect(first).toEqual({ userId: user, balance: 250 });
    const replay = await ok(ws, "balance.charge", { amount: 250, idempotencyKey: "k-charge-1" }, binary);
    expect(replay).toEqual(first);
    await fails(ws, "balance.charge", { amount: 251, idempotencyKey: "k-charge-1" }, binary, "IDEMPOTENCY_MISMATCH");
    expect(await ok(ws, "balance.get", {}, binary)).toEqual({ userId: user, balance: 250 });
  });

  it("balance.charge over HTTP with the key used over WS replays the WS reply (one idempotency store)", async () => {
    const user = u("charge-cross");
    const ws = await connect(user);
    const first = await ok(ws, "balance.charge", { amount: 400, idempotencyKey: "k-cross" }, binary);
    const viaHttp = await http(server, "POST", "/v1/balance/charge", {
      user,
      idempotencyKey: "k-cross",
      body: { amount: 400 },
    });
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.body).toEqual(first);
    expect((await http(server, "GET", "/v1/balance", { user })).body.balance).toBe(400);
  });

  it("balance.charge that would exceed BALANCE_MAX is BALANCE_LIMIT and changes nothing", async () => {
    const user = u("charge-limit");
    const ws = await connect(user);
    await ok(ws, "balance.charge", { amount: 500000 }, binary);
    expect(await ok(ws, "balance.charge", { amount: 500000 }, binary)).toEqual({ userId: user, balance: 1000000 });
    await fails(ws, "balance.charge", { amount: 1 }, binary, "BALANCE_LIMIT");
    expect(await ok(ws, "balance.get", {}, binary)).toEqual({ userId: user, balance: 1000000 });
  });

  it("balance.charge with a bad amount or an over-long idempotencyKey is INVALID_ARGUMENT", async () => {
    const user = u("charge-400");
    const ws = await connect(user);
    await fails(ws, "balance.charge", { amount: 0 }, binary, "INVALID_ARGUMENT");
    await fails(ws, "balance.charge", { amount: -5 }, binary, "INVALID_ARGUMENT");
    await fails(ws, "balance.charge", { amount: 1.5 }, binary, "INVALID_ARGUMENT");
    await fails(ws, "balance.charge", { amount: "100" }, binary, "INVALID_ARGUMENT");
    await fails(ws, "balance.charge", {}, binary, "INVALID_ARGUMENT");
    await fails(ws, "balance.charge", { amount: 500001 }, binary, "INVALID_ARGUMENT");
    await fails(ws, "balance.charge", { amount: 10, idempotencyKey: "k".repeat(129) }, binary, "INVALID_ARGUMENT");
    expect(await ok(ws, "balance.get", {}, binary)).toEqual({ userId: user, balance: 0 });
  });

  // ------------------------------------------------------------------ payments

  it("payments.create returns the 201 body, marks the reservation paid and expires the remembered queue token", async () => {
    const { scheduleId } = await newSchedule(5, 1000);
    const user = u("pay");
    const { ws } = await checkedIn(user, binary);
    await ok(ws, "balance.charge", { amount: 5000 }, binary);
    const r1 = await ok(ws, "reservations.create", { scheduleId, seatNo: 1 }, binary);
    const r2 = await ok(ws, "reservations.create", { scheduleId, seatNo: 2 }, binary);
    const paid = await ok(ws, "payments.create", { reservationIds: [r1.reservationId, r2.reservationId] }, binary);
    expect(paid).toEqual({
      paymentId: expect.any(Number),
      reservationIds: [r1.reservationId, r2.reservationId],
      amount: 2000,
      balance: 3000,
      status: "paid",
    });
    const got = await ok(ws, "reservations.get", { reservationId: r1.reservationId }, binary);
    expect(got.status).toBe("paid");
    expect(got).toEqual((await http(server, "GET", `/v1/reservations/${r1.reservationId}`, { user })).body);
    expect(await ok(ws, "balance.get", {}, binary)).toEqual({ userId: user, balance: 3000 });
    // The payment expired the caller's queue token: the remembered token no longer opens the gate.
    await fails(ws, "concerts.list", {}, binary, "TOKEN_INVALID");
    // A fresh check admits again and is remembered in its turn.
    const again = await ok(ws, "queue.check", {}, binary);
    expect(again.status).toBe("active");
    await ok(ws, "concerts.list", {}, binary);
  });

  it("payments.create of a paid reservation is ALREADY_PAID, of a released one HOLD_EXPIRED", async () => {
    const { scheduleId } = await newSchedule(5, 100);
    const { ws } = await checkedIn(u("pay-twice"), binary);
    await ok(ws, "balance.charge", { amount: 1000 }, binary);
    const r1 = await ok(ws, "reservations.create", { scheduleId, seatNo: 1 }, binary);
    const r2 = await ok(ws, "reservations.create", { scheduleId, seatNo: 2 }, binary);
    await ok(ws, "reservations.release", { reservationId: r2.reservationId }, binary);
    await ok(ws, "payments.create", { reservationIds: [r1.reservationId] }, binary);
    await fails(ws, "payments.create", { reservationIds: [r1.reservationId] }, binary, "ALREADY_PAID");
    await fails(ws, "payments.create", { reservationIds: [r2.reservationId] }, binary, "HOLD_EXPIRED");
    // Releasing a paid reservation is ALREADY_PAID too.
    await fails(ws, "reservations.release", { reservationId: r1.reservationId }, binary, "ALREADY_PAID");
    expect((await ok(ws, "balance.get", {}, binary)).balance).toBe(900);
  });

  it("payments.create without enough balance is INSUFFICIENT_BALANCE and changes nothing", async () => {
    const { scheduleId } = await newSchedule(5, 1000);
    const user = u("pay-poor");
    const { ws } = await checkedIn(user, binary);
    await ok(ws, "balance.charge", { amount: 999 }, binary);
    const r = await ok(ws, "reservations.create", { scheduleId, seatNo: 1 }, binary);
    await fails(ws, "payments.create", { reservationIds: [r.reservationId] }, binary, "INSUFFICIENT_BALANCE");
    expect((await ok(ws, "reservations.get", { reservationId: r.reservationId }, binary)).status).toBe("held");
    expect(await ok(ws, "balance.get", {}, binary)).toEqual({ userId: user, balance: 999 });
    // The queue token was not expired by the failed payment.
    await ok(ws, "concerts.list", {}, binary);
  });

  it("payments.create of another user's reservation is FORBIDDEN, of an unknown one NOT_FOUND", async () => {
    const { scheduleId } = await newSchedule(5, 100);
    const othersId = await httpHold(u("pay-other-owner"), scheduleId, 1);
    const ws = await connect(u("pay-other"));
    await ok(ws, "balance.charge", { amount: 1000 }, binary);
    await fails(ws, "payments.create", { reservationIds: [othersId] }, binary, "FORBIDDEN");
    await fails(ws, "payments.create", { reservationIds: [987654] }, binary, "NOT_FOUND");
  });

  it("payments.create with args.idempotencyKey replays the first reply; other ids with that key are IDEMPOTENCY_MISMATCH", async () => {
    const { scheduleId } = await newSchedule(5, 300);
    const { ws } = await checkedIn(u("pay-idem"), binary);
    await ok(ws, "balance.charge", { amount: 1000 }, binary);
    const r1 = await ok(ws, "reservations.create", { scheduleId, seatNo: 1 }, binary);
    const r2 = await ok(ws, "reservations.create", { scheduleId, seatNo: 2 }, binary);
    const first = await ok(
      ws,
      "payments.create",
      { reservationIds: [r1.reservationId], idempotencyKey: "k-pay-1" },
      binary,
    );
    expect(first).toEqual({
      paymentId: expect.any(Number),
      reservationIds: [r1.reservationId],
      amount: 300,
      balance: 700,
      status: "paid",
    });
    const replay = await ok(
      ws,
      "payments.create",
      { reservationIds: [r1.reservationId], idempotencyKey: "k-pay-1" },
      binary,
    );
    expect(replay).toEqual(first);
    await fails(
      ws,
      "payments.create",
      { reservationIds: [r2.reservationId], idempotencyKey: "k-pay-1" },
      binary,
      "IDEMPOTENCY_MISMATCH",
    );
    expect((await ok(ws, "balance.get", {}, binary)).balance).toBe(700);
  });

  it("payments.create with an empty, duplicated or mistyped reservationIds is INVALID_ARGUMENT", async () => {
    const ws = await connect(u("pay-400"));
    await fails(ws, "payments.create", { reservationIds: [] }, binary, "INVALID_ARGUMENT");
    await fails(ws, "payments.create", { reservationIds: [5, 5] }, binary, "INVALID_ARGUMENT");
    await fails(ws, "payments.create", { reservationIds: ["5"] }, binary, "INVALID_ARGUMENT");
    await fails(ws, "payments.create", { reservationIds: 5 }, binary, "INVALID_ARGUMENT");
    await fails(ws, "payments.create", {}, binary, "INVALID_ARGUMENT");
  });

  // ------------------------------------------------------------------ unknown op

  it("an unknown op is INVALID_ARGUMENT with the request's id", async () => {
    const ws = await connect(u("unknown-op"));
    await fails(ws, "seats.explode", {}, binary, "INVALID_ARGUMENT");
    await ok(ws, "balance.get", {}, binary);
  });
});

describe("WS reply encodings on one connection", () => {
  it("text and binary requests interleaved on one connection are each answered in their own encoding", async () => {
    const user = "u-ops-mixed";
    const ws = await connect(user);
    for (const binary of [false, true, true, false, true]) {
      expect(await ok(ws, "balance.get", {}, binary)).toEqual({ userId: user, balance: 0 });
    }
    await fails(ws, "concerts.list", {}, true, "TOKEN_INVALID");
    await fails(ws, "concerts.list", {}, false, "TOKEN_INVALID");
  });
});
