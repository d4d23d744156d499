// WebSocket pushes: seat-map pushes to subscribers ({ev:"seats", scheduleId, version, changes}) and
// queue pushes to connections that checked in ({ev:"queue", status, position, waiting, etaSeconds, token}).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { activeToken, createConcert, decodeMsgpack, http, WsClient, type WsMessage } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Frame {
  message: WsMessage;
  binary: boolean;
}

const framesOf = new WeakMap<WsClient, Frame[]>();
let open: WsClient[] = [];

afterEach(() => {
  for (const client of open) client.close();
  open = [];
});

async function connect(server: TestServer, user: string): Promise<WsClient> {
  const client = await WsClient.connect(server, user);
  const frames: Frame[] = [];
  client.socket.on("message", (data: Buffer, isBinary: boolean) => {
    frames.push({ message: isBinary ? decodeMsgpack(data) : JSON.parse(data.toString("utf8")), binary: isBinary });
  });
  framesOf.set(client, frames);
  open.push(client);
  return client;
}

let idCounter = 1;

async function ok(client: WsClient, op: string, args: unknown, binary = false): Promise<any> {
  const id = idCounter++;
  const reply = await client.request(op, args, { binary, id });
  expect(reply, `${op} ${JSON.stringify(args)}`).toEqual({ id, ok: true, data: expect.anything() });
  const frame = framesOf.get(client)!.findLast((f) => f.message.ev === undefined && f.message.id === id);
  expect(frame!.binary, `encoding of the ${op} reply`).toBe(binary);
  return reply.data;
}

function seatPushes(client: WsClient, scheduleId: number): (WsMessage & { binary: boolean })[] {
  return client.pushes.filter((p) => p.ev === "seats" && p.scheduleId === scheduleId);
}

/** Polls until `predicate` holds or the deadline passes; returns whether it held. */
async function until(predicate: () => boolean, timeoutMs = 5000, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(stepMs);
  }
  return predicate();
}

/** Checks that pushes carry versions base+1, base+2, ... with no gap and no repeat. */
function expectConsecutive(pushes: WsMessage[], base: number): void {
  expect(pushes.map((p) => p.version)).toEqual(pushes.map((_, i) => base + 1 + i));
}

// =============================================================================================
// Seat pushes

describe("seat pushes", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  async function schedule(seatCount = 12, price = 1000): Promise<number> {
    const concert = await createConcert(server, [{ startsAt: "2027-05-01T19:00:00.000Z", seatCount, price }]);
    return concert.schedules[0]!.id;
  }

  /** A checked-in connection subscribed to scheduleId; returns the subscribe reply too. */
  async function subscriber(user: string, scheduleId: number, binary = false) {
    const ws = await connect(server, user);
    await ok(ws, "queue.check", {}, binary);
    const snapshot = await ok(ws, "seats.subscribe", { scheduleId }, binary);
    return { ws, snapshot };
  }

  /** Another user's connection, checked in, ready to hold seats. */
  async function actor(user: string): Promise<WsClient> {
    const ws = await connect(server, user);
    await ok(ws, "queue.check", {});
    return ws;
  }

  describe.each([
    { encoding: "JSON text", binary: false, tag: "txt" },
    { encoding: "MessagePack binary", binary: true, tag: "bin" },
  ])("subscriber using $encoding frames", ({ binary, tag }) => {
    it("seats.subscribe replies with the seats.list body, version included", async () => {
      const scheduleId = await schedule(8, 700);
      const user = `u-push-${tag}-snap`;
      const ws = await connect(server, user);
      const check = await ok(ws, "queue.check", {}, binary);
      const listed = await ok(ws, "seats.list", { scheduleId }, binary);
      const snapshot = await ok(ws, "seats.subscribe", { scheduleId }, binary);
      expect(snapshot).toEqual(listed);
      const viaHttp = await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, { user, queueToken: check.token });
      expect(snapshot).toEqual(viaHttp.body);
      expect(snapshot.scheduleId).toBe(scheduleId);
      expect(typeof snapshot.version).toBe("number");
      expect(snapshot.seats).toHaveLength(8);
    });

    it("a hold, a release and a sale by another connection each push {ev:'seats', scheduleId, version+1, changes}", async () => {
      const scheduleId = await schedule(8, 500);
      const { ws: sub, snapshot } = await subscriber(`u-push-${tag}-sub`, scheduleId, binary);
      const base: number = snapshot.version;
      const other = await actor(`u-push-${tag}-actor`);
      await ok(other, "balance.charge", { amount: 5000 });

      const held = await ok(other, "reservations.create", { scheduleId, seatNo: 3 });
      const p1 = await sub.nextPush("seats", (m) => m.scheduleId === scheduleId && m.version === base + 1);
      expect(p1).toEqual({ ev: "seats", scheduleId, version: base + 1, changes: [{ no: 3, status: "held" }] });

      await ok(other, "reservations.release", { reservationId: held.reservationId });
      const p2 = await sub.nextPush("seats", (m) => m.scheduleId === scheduleId && m.version === base + 2);
      expect(p2).toEqual({ ev: "seats", scheduleId, version: base + 2, changes: [{ no: 3, status: "available" }] });

      const toBuy = await ok(other, "reservations.create", { scheduleId, seatNo: 5 });
      const p3 = await sub.nextPush("seats", (m) => m.scheduleId === scheduleId && m.version === base + 3);
      expect(p3).toEqual({ ev: "seats", scheduleId, version: base + 3, changes: [{ no: 5, status: "held" }] });

      await ok(other, "payments.create", { reservationIds: [toBuy.reservationId] });
      const p4 = await sub.nextPush("seats", (m) => m.scheduleId === scheduleId && m.version === base + 4);
      expect(p4).toEqual({ ev: "seats", scheduleId, version: base + 4, changes: [{ no: 5, status: "sold" }] });

      await sleep(150);
      const all = seatPushes(sub, scheduleId);
      expectConsecutive(all, base);
      expect(all).toHaveLength(4);
      // Pushes use the encoding the subscriber subscribed with.
      for (const push of all) expect(push.binary).toBe(binary);
    });
  });

  it("pushes for a hold made over HTTP reach WS subscribers too", async () => {
    const scheduleId = await schedule(6);
    const { ws: sub, snapshot } = await subscriber("u-push-httpsub", scheduleId);
    const user = "u-push-httpactor";
    const token = await activeToken(server, user);
    const reply = await http(server, "POST", "/v1/reservations", {
      user,
      queueToken: token,
      body: { scheduleId, seatNo: 6 },
    });
    expect(reply.status).toBe(201);
    const push = await sub.nextPush("seats", (m) => m.scheduleId === scheduleId);
    expect(push).toEqual({
      ev: "seats",
      scheduleId,
      version: snapshot.version + 1,
      changes: [{ no: 6, status: "held" }],
    });
  });

  it("holds in quick succession may be coalesced but versions never skip, and every change arrives", async () => {
    const scheduleId = await schedule(12);
    const { ws: sub, snapshot } = await subscriber("u-push-burst-sub", scheduleId);
    const base: number = snapshot.version;
    const a = await actor("u-push-burst-a");
    const b = await actor("u-push-burst-b");
    // Eight holds pipelined without waiting, from two connections.
    const replies = await Promise.all([
      ...[1, 2, 3, 4].map((seatNo) => a.request("reservations.create", { scheduleId, seatNo })),
      ...[5, 6, 7, 8].map((seatNo) => b.request("reservations.create", { scheduleId, seatNo })),
    ]);
    for (const reply of replies) expect(reply.ok).toBe(true);

    const seen = new Map<number, string>();
    const collect = () => {
      seen.clear();
      for (const push of seatPushes(sub, scheduleId)) for (const c of push.changes) seen.set(c.no, c.status);
      return seen.size === 8;
    };
    expect(await until(collect), "all eight held seats pushed").toBe(true);
    await sleep(200);
    const pushes = seatPushes(sub, scheduleId);
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    expect(pushes.length).toBeLessThanOrEqual(8);
    expectConsecutive(pushes, base);
    for (const push of pushes) {
      expect(Object.keys(push).sort()).toEqual(["binary", "changes", "ev", "scheduleId", "version"]);
      for (const change of push.changes) expect(change).toEqual({ no: expect.any(Number), status: "held" });
    }
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // A new subscriber's base is the last pushed version; the next change reaches both with the same version.
    const last: number = pushes[pushes.length - 1]!.version;
    const { ws: late, snapshot: lateSnapshot } = await subscriber("u-push-burst-late", scheduleId);
    expect(lateSnapshot.version).toBe(last);
    expect(lateSnapshot.seats.filter((s: { status: string }) => s.status === "held")).toHaveLength(8);
    const c = await actor("u-push-burst-c");
    await ok(c, "reservations.create", { scheduleId, seatNo: 12 });
    const expected = { ev: "seats", scheduleId, version: last + 1, changes: [{ no: 12, status: "held" }] };
    expect(await sub.nextPush("seats", (m) => m.scheduleId === scheduleId && m.version === last + 1)).toEqual(expected);
    expect(await late.nextPush("seats", (m) => m.scheduleId === scheduleId)).toEqual(expected);
  });

  it("seats.unsubscribe replies {} and stops further pushes for that schedule", async () => {
    const scheduleId = await schedule(6);
    const { ws: sub } = await subscriber("u-push-unsub", scheduleId);
    const { ws: control } = await subscriber("u-push-unsub-control", scheduleId);
    const other = await actor("u-push-unsub-actor");

    await ok(other, "reservations.create", { scheduleId, seatNo: 1 });
    await sub.nextPush("seats", (m) => m.scheduleId === scheduleId);
    await control.nextPush("seats", (m) => m.scheduleId === scheduleId);

    const reply = await ok(sub, "seats.unsubscribe", { scheduleId });
    expect(reply).toEqual({});
    const before = seatPushes(sub, scheduleId).length;

    await ok(other, "reservations.create", { scheduleId, seatNo: 2 });
    // The control subscriber proves the push was sent ...
    await control.nextPush("seats", (m) => m.scheduleId === scheduleId && m.changes.some((c: any) => c.no === 2));
    await sleep(300);
    // ... and the unsubscribed connection did not get it.
    expect(seatPushes(sub, scheduleId)).toHaveLength(before);
    // The connection itself is still fine.
    await ok(sub, "balance.get", {});
  });

  it("a subscription is per schedule: changes of another schedule are not pushed", async () => {
    const watched = await schedule(4);
    const other = await schedule(4);
    const { ws: sub } = await subscriber("u-push-scope", watched);
    const a = await actor("u-push-scope-actor");
    await ok(a, "reservations.create", { scheduleId: other, seatNo: 1 });
    await ok(a, "reservations.create", { scheduleId: watched, seatNo: 1 });
    await sub.nextPush("seats", (m) => m.scheduleId === watched);
    await sleep(150);
    expect(sub.pushes.filter((p) => p.ev === "seats" && p.scheduleId !== watched)).toHaveLength(0);
  });
});

describe("seat pushes on hold expiry (HOLD_TTL_MS=800)", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ env: { HOLD_TTL_MS: "800" } });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it("an expired hold frees its seat by itself and pushes {no, status:'available'} with the next version", async () => {
    const concert = await createConcert(server, [{ startsAt: "2027-06-01T19:00:00.000Z", seatCount: 4, price: 100 }]);
    const scheduleId = concert.schedules[0]!.id;
    const sub = await connect(server, "u-exp-sub");
    await ok(sub, "queue.check", {}, true);
    const snapshot = await ok(sub, "seats.subscribe", { scheduleId }, true);
    const base: number = snapshot.version;

    const holder = await connect(server, "u-exp-holder");
    await ok(holder, "queue.check", {});
    const held = await ok(holder, "reservations.create", { scheduleId, seatNo: 2 });
    const heldAt = Date.now();

    const p1 = await sub.nextPush("seats", (m) => m.version === base + 1);
    expect(p1).toEqual({ ev: "seats", scheduleId, version: base + 1, changes: [{ no: 2, status: "held" }] });
    // No further request: the expiry alone must produce the next push.
    const p2 = await sub.nextPush("seats", (m) => m.version === base + 2, 5000);
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(700);
    expect(p2).toEqual({ ev: "seats", scheduleId, version: base + 2, changes: [{ no: 2, status: "available" }] });
    for (const push of seatPushes(sub, scheduleId)) expect(push.binary).toBe(true);

    const got = await ok(holder, "reservations.get", { reservationId: held.reservationId });
    expect(got.status).toBe("expired");
  });
});

// =============================================================================================
// Queue pushes. Each scenario gets its own server: QUEUE_ACTIVE_MAX=1 makes tests share one slot.

const QUEUE_ENV = { QUEUE_ACTIVE_MAX: "1", QUEUE_TICK_MS: "100" };

async function httpCheck(server: TestServer, user: string, token?: string) {
  const reply = await http(server, "POST", "/v1/queue/check", { user, queueToken: token });
  expect(reply.status).toBe(200);
  return reply.body as { token: string; status: string; position: number; waiting: number };
}

/** The active user buys one seat, which expires their queue token. */
async function payOnce(server: TestServer, user: string, token: string): Promise<void> {
  const concert = await createConcert(server, [{ startsAt: "2027-07-01T19:00:00.000Z", seatCount: 2, price: 100 }]);
  const scheduleId = concert.schedules[0]!.id;
  const charge = await http(server, "POST", "/v1/balance/charge", { user, body: { amount: 100 } });
  expect(charge.status).toBe(200);
  const hold = await http(server, "POST", "/v1/reservations", {
    user,
    queueToken: token,
    body: { scheduleId, seatNo: 1 },
  });
  expect(hold.status).toBe(201);
  const pay = await http(server, "POST", "/v1/payments", { user, body: { reservationIds: [hold.body.reservationId] } });
  expect(pay.status).toBe(201);
}

describe("queue push when the active user pays (QUEUE_ACTIVE_MAX=1)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: QUEUE_ENV });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it("a waiting WS connection gets {ev:'queue', status:'active', position:0, token} once the active user pays", async () => {
    const first = await httpCheck(server, "u-q1-active");
    expect(first.status).toBe("active");

    const ws = await connect(server, "u-q1-waiter");
    const waiting = await ok(ws, "queue.check", {});
    expect(waiting).toEqual({
      token: expect.any(String),
      concertId: null,
      status: "waiting",
      position: 1,
      waiting: 1,
      active: 1,
      etaSeconds: expect.any(Number),
      expiresAt: expect.any(String),
      opensAt: null,
    });
    // Still waiting: the gate says so.
    const gated = await ws.request("concerts.list", {});
    expect(gated).toEqual({
      id: gated.id,
      ok: false,
      error: { code: "TOKEN_NOT_ACTIVE", message: expect.any(String) },
    });

    await payOnce(server, "u-q1-active", first.token);
    const push = await ws.nextPush("queue", (m) => m.status === "active", 5000);
    expect(push).toMatchObject({ ev: "queue", status: "active", position: 0, etaSeconds: 0, token: waiting.token });
    expect(push).toHaveProperty("waiting");
    expect(push.waiting).toBe(0);
    // The remembered token is now active: the gated op works without args.token.
    const concerts = await ok(ws, "concerts.list", {});
    expect(Array.isArray(concerts.concerts)).toBe(true);
  });
});

describe("queue push when the active token's TTL ends (QUEUE_ACTIVE_TTL_MS=1500)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { ...QUEUE_ENV, QUEUE_ACTIVE_TTL_MS: "1500" } });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it("a waiting WS connection is admitted with a queue push when the active token expires, and the old token is TOKEN_INVALID", async () => {
    const first = await httpCheck(server, "u-q2-active");
    expect(first.status).toBe("active");
    const ws = await connect(server, "u-q2-waiter");
    const waiting = await ok(ws, "queue.check", {}, true);
    expect(waiting.status).toBe("waiting");
    expect(waiting.position).toBe(1);

    const push = await ws.nextPush("queue", (m) => m.status === "active", 6000);
    expect(push).toMatchObject({ ev: "queue", status: "active", position: 0, etaSeconds: 0, token: waiting.token });
    expect(ws.pushes.find((p) => p.ev === "queue" && p.status === "active")!.binary).toBe(true);

    const stale = await http(server, "GET", "/v1/concerts", { user: "u-q2-active", queueToken: first.token });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe("TOKEN_INVALID");
    await ok(ws, "concerts.list", {}, true);
  });
});

describe("queue push when the position changes (QUEUE_ACTIVE_MAX=1)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: QUEUE_ENV });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it("a waiting WS connection whose place moves from 2 to 1 gets a queue push with position 1", async () => {
    const active = await httpCheck(server, "u-q3-active");
    expect(active.status).toBe("active");
    const second = await httpCheck(server, "u-q3-second");
    expect(second).toMatchObject({ status: "waiting", position: 1 });

    const ws = await connect(server, "u-q3-third");
    const third = await ok(ws, "queue.check", {}, true);
    expect(third).toMatchObject({ status: "waiting", position: 2, waiting: 2 });

    await payOnce(server, "u-q3-active", active.token);
    const push = await ws.nextPush("queue", (m) => m.position === 1, 5000);
    expect(push).toMatchObject({ ev: "queue", status: "waiting", position: 1, waiting: 1, token: third.token });
    expect(typeof push.etaSeconds).toBe("number");
    // Pushes use the encoding of the queue.check that caused them.
    expect(ws.pushes.filter((p) => p.ev === "queue").every((p) => p.binary)).toBe(true);
    // The second user is the active one now.
    const again = await httpCheck(server, "u-q3-second", second.token);
    expect(again).toMatchObject({ token: second.token, status: "active", position: 0 });
  });
});

describe("waiting tokens and QUEUE_WAITING_IDLE_MS=800 (QUEUE_ACTIVE_MAX=1)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { ...QUEUE_ENV, QUEUE_WAITING_IDLE_MS: "800" } });
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it("an open WS keeps its waiting token alive past the idle time while an unchecked HTTP-only waiting token leaves", async () => {
    const active = await httpCheck(server, "u-q4-active");
    expect(active.status).toBe("active");
    const httpOnly = await httpCheck(server, "u-q4-http");
    expect(httpOnly).toMatchObject({ status: "waiting", position: 1 });

    const ws = await connect(server, "u-q4-ws");
    const mine = await ok(ws, "queue.check", {});
    expect(mine).toMatchObject({ status: "waiting", position: 2 });
    const checkedAt = Date.now();

    // The HTTP-only token goes silent and leaves; the WS connection moves up to position 1.
    const moved = await ws.nextPush("queue", (m) => m.position === 1, 5000);
    expect(moved).toMatchObject({ ev: "queue", status: "waiting", position: 1, token: mine.token });
    expect(Date.now() - checkedAt).toBeGreaterThanOrEqual(700);

    // Stay silent for well past another idle period: the WS-held token must not leave.
    await sleep(2000);
    expect(ws.pushes.filter((p) => p.ev === "queue" && p.position !== 1)).toEqual([]);

    // The HTTP user's old token is gone: checking with it gives a new token, behind the WS user.
    const back = await httpCheck(server, "u-q4-http", httpOnly.token);
    expect(back.token).not.toBe(httpOnly.token);
    expect(back).toMatchObject({ status: "waiting", position: 2 });
    const old = await http(server, "GET", "/v1/concerts", { user: "u-q4-http", queueToken: httpOnly.token });
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe("TOKEN_INVALID");

    // The WS user still holds the same token at the head of the line.
    const still = await ok(ws, "queue.check", {});
    expect(still).toMatchObject({ token: mine.token, status: "waiting", position: 1 });
  });
});
