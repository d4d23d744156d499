// HTTP contract: the waiting room (POST /v1/queue/check) and the queue gate of the [active] routes.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { activeToken, createConcert, expectError, type HttpReply, http, uniqueIds } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const uid = uniqueIds("u-q");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function check(s: TestServer, user: string, queueToken?: string): Promise<any> {
  const reply = await http(s, "POST", "/v1/queue/check", queueToken === undefined ? { user } : { user, queueToken });
  expect(reply.status, reply.text).toBe(200);
  return reply.body;
}

/** The four [active] routes, as (method, path, body) for a concert/schedule that exists. */
function activeRoutes(concertId: number, scheduleId: number, seatNo: number): [string, string, unknown][] {
  return [
    ["GET", "/v1/concerts", undefined],
    ["GET", `/v1/concerts/${concertId}/schedules`, undefined],
    ["GET", `/v1/schedules/${scheduleId}/seats`, undefined],
    ["POST", "/v1/reservations", { scheduleId, seatNo }],
  ];
}

async function expectGate(
  s: TestServer,
  routes: [string, string, unknown][],
  options: { user: string; queueToken?: string },
  status: number,
  code: string,
): Promise<void> {
  for (const [method, path, body] of routes) {
    const reply = await http(s, method, path, { ...options, body });
    expect(`${method} ${path} -> ${reply.status} ${reply.body?.error?.code}`, reply.text).toBe(
      `${method} ${path} -> ${status} ${code}`,
    );
    expect(typeof reply.body?.error?.message).toBe("string");
  }
}

/** Polls `probe` until it returns true or the deadline passes; returns the elapsed ms. */
async function until(probe: () => Promise<boolean>, deadlineMs: number, stepMs = 100): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < deadlineMs) {
    if (await probe()) return Date.now() - start;
    await sleep(stepMs);
  }
  throw new Error(`condition not met within ${deadlineMs} ms`);
}

// Servers started by individual tests, stopped after each test.
const extra: TestServer[] = [];
async function fresh(env: Record<string, string>): Promise<TestServer> {
  const server = await startServer({ env });
  extra.push(server);
  return server;
}
afterEach(async () => {
  for (const server of extra.splice(0)) {
    await server.stop();
    server.cleanup();
  }
});

describe("default limits", () => {
  let s: TestServer;
  let concert: Awaited<ReturnType<typeof createConcert>>;

  beforeAll(async () => {
    s = await startServer();
    concert = await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 50, price: 1000 }]);
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("check answers 200 with token, status, position, waiting, active, etaSeconds, expiresAt of the right types", async () => {
    const before = Date.now();
    const body = await check(s, uid("fields"));
    const after = Date.now();
    expect(typeof body.token).toBe("string");
    expect(body.token.length).toBeGreaterThan(0);
    expect(["waiting", "active"]).toContain(body.status);
    for (const key of ["position", "waiting", "active", "etaSeconds"]) {
      expect(typeof body[key], key).toBe("number");
      expect(body[key], key).toBeGreaterThanOrEqual(0);
    }
    expect(Number.isInteger(body.position)).toBe(true);
    expect(Number.isInteger(body.waiting)).toBe(true);
    expect(Number.isInteger(body.active)).toBe(true);
    expect(typeof body.expiresAt).toBe("string");
    expect(body.expiresAt).toMatch(ISO);
    // Room and nobody waiting: admitted at once, expiresAt = admission + QUEUE_ACTIVE_TTL_MS (600000).
    expect(body).toMatchObject({ status: "active", position: 0, etaSeconds: 0 });
    expect(body.active).toBeGreaterThanOrEqual(1);
    const expiresAt = Date.parse(body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 600_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 600_000 + 1000);
  });

  test("a second check returns the same token, with or without the Queue-Token header", async () => {
    const user = uid("same");
    const first = await check(s, user);
    const second = await check(s, user);
    expect(second.token).toBe(first.token);
    expect(second.status).toBe("active");
    const third = await check(s, user, first.token);
    expect(third.token).toBe(first.token);
    expect(third.status).toBe("active");
  });

  test("different users get different tokens", async () => {
    const a = await check(s, uid("diffA"));
    const b = await check(s, uid("diffB"));
    expect(a.token).not.toBe(b.token);
  });

  test("the active token opens every [active] route", async () => {
    const user = uid("open");
    const token = await activeToken(s, user);
    const [list, schedules, seats, hold] = activeRoutes(concert.id, concert.schedules[0]!.id, 1);
    for (const [method, path] of [list!, schedules!, seats!]) {
      const reply = await http(s, method, path, { user, queueToken: token });
      expect(reply.status, `${method} ${path}: ${reply.text}`).toBe(200);
    }
    const reply = await http(s, hold![0], hold![1], { user, queueToken: token, body: hold![2] });
    expect(reply.status, reply.text).toBe(201);
  });

  test("check with another user's token -> 403 FORBIDDEN", async () => {
    const owner = uid("owner");
    const token = await activeToken(s, owner);
    expectError(await http(s, "POST", "/v1/queue/check", { user: uid("thief"), queueToken: token }), 403, "FORBIDDEN");
  });

  test("check with an unknown token -> 200 with the caller's live token (or a new one)", async () => {
    const user = uid("unknown");
    const first = await check(s, user, "no-such-token");
    expect(typeof first.token).toBe("string");
    expect(first.token).not.toBe("no-such-token");
    expect(first.status).toBe("active");
    const again = await check(s, user, "still-no-such-token");
    expect(again.token).toBe(first.token);
  });

  test("[active] routes without a Queue-Token -> 401 TOKEN_INVALID", async () => {
    const routes = activeRoutes(concert.id, concert.schedules[0]!.id, 2);
    await expectGate(s, routes, { user: uid("none") }, 401, "TOKEN_INVALID");
  });

  test("[active] routes with an unknown Queue-Token -> 401 TOKEN_INVALID", async () => {
    const user = uid("bogus");
    await activeToken(s, user); // the user has a live token, but sends a different one
    const routes = activeRoutes(concert.id, concert.schedules[0]!.id, 3);
    await expectGate(s, routes, { user, queueToken: "bogus-token-123" }, 401, "TOKEN_INVALID");
  });

  test("[active] routes with another user's active token -> 403 FORBIDDEN", async () => {
    const owner = uid("tokowner");
    const token = await activeToken(s, owner);
    const routes = activeRoutes(concert.id, concert.schedules[0]!.id, 4);
    await expectGate(s, routes, { user: uid("borrower"), queueToken: token }, 403, "FORBIDDEN");
    // The attempted hold did not happen: seat 4 is still free for the owner.
    const hold = await http(s, "POST", "/v1/reservations", {
      user: owner,
      queueToken: token,
      body: { scheduleId: concert.schedules[0]!.id, seatNo: 4 },
    });
    expect(hold.status, hold.text).toBe(201);
  });

  test("arguments and the target are checked before the queue gate (API.md's order of checks)", async () => {
    const user = uid("order");
    expectError(await http(s, "POST", "/v1/reservations", { user, rawBody: "{broken" }), 400, "INVALID_ARGUMENT");
    expectError(await http(s, "POST", "/v1/reservations", { user, body: {} }), 400, "INVALID_ARGUMENT");
    expectError(await http(s, "GET", "/v1/schedules/abc/seats", { user }), 400, "INVALID_ARGUMENT");
    expectError(await http(s, "GET", "/v1/concerts/987654/schedules", { user }), 404, "NOT_FOUND");
    // A well-formed request for a real target, without a queue token.
    expectError(await http(s, "GET", "/v1/concerts", { user }), 401, "TOKEN_INVALID");
  });

  test("user routes outside the booking area need no Queue-Token", async () => {
    const user = uid("nogate");
    expect((await http(s, "GET", "/v1/balance", { user })).status).toBe(200);
    expect((await http(s, "POST", "/v1/balance/charge", { user, body: { amount: 10 } })).status).toBe(200);
    expectError(await http(s, "GET", "/v1/reservations/987654", { user }), 404, "NOT_FOUND");
  });
});

describe("one active slot (QUEUE_ACTIVE_MAX=1)", () => {
  const env = { QUEUE_ACTIVE_MAX: "1", QUEUE_TICK_MS: "100" };

  test("waiting tokens are numbered FIFO 1, 2, 3 with waiting/active counts", async () => {
    const s = await fresh(env);
    const [a, b, c, d] = [uid("fifoA"), uid("fifoB"), uid("fifoC"), uid("fifoD")];
    const ca = await check(s, a);
    expect(ca).toMatchObject({ status: "active", position: 0, etaSeconds: 0, active: 1, waiting: 0 });

    const before = Date.now();
    const cb = await check(s, b);
    expect(cb).toMatchObject({ status: "waiting", position: 1, waiting: 1, active: 1 });
    // Waiting: expiresAt = last check + QUEUE_WAITING_IDLE_MS (60000 by default).
    expect(cb.expiresAt).toMatch(ISO);
    expect(Date.parse(cb.expiresAt)).toBeGreaterThanOrEqual(before + 60_000 - 1000);
    expect(Date.parse(cb.expiresAt)).toBeLessThanOrEqual(Date.now() + 60_000 + 1000);
    expect(typeof cb.etaSeconds).toBe("number");
    expect(cb.etaSeconds).toBeGreaterThanOrEqual(0);

    const cc = await check(s, c);
    expect(cc).toMatchObject({ status: "waiting", position: 2, waiting: 2, active: 1 });
    const cd = await check(s, d);
    expect(cd).toMatchObject({ status: "waiting", position: 3, waiting: 3, active: 1 });

    // Checking again keeps one's place and token.
    const cb2 = await check(s, b, cb.token);
    expect(cb2).toMatchObject({ token: cb.token, status: "waiting", position: 1, waiting: 3, active: 1 });
    const cd2 = await check(s, d);
    expect(cd2).toMatchObject({ token: cd.token, status: "waiting", position: 3 });
    const ca2 = await check(s, a);
    expect(ca2).toMatchObject({ token: ca.token, status: "active", position: 0 });
    expect(new Set([ca.token, cb.token, cc.token, cd.token]).size).toBe(4);
  });

  test("a waiting token on every [active] route -> 403 TOKEN_NOT_ACTIVE", async () => {
    const s = await fresh(env);
    const concert = await createConcert(s);
    const holder = uid("slot");
    await activeToken(s, holder);
    const waiter = uid("waiter");
    const waiting = await check(s, waiter);
    expect(waiting.status).toBe("waiting");
    await expectGate(
      s,
      activeRoutes(concert.id, concert.schedules[0]!.id, 1),
      { user: waiter, queueToken: waiting.token },
      403,
      "TOKEN_NOT_ACTIVE",
    );
    // Someone else's waiting token is still FORBIDDEN, not TOKEN_NOT_ACTIVE.
    await expectGate(
      s,
      activeRoutes(concert.id, concert.schedules[0]!.id, 1),
      { user: uid("other"), queueToken: waiting.token },
      403,
      "FORBIDDEN",
    );
  });

  test("the active user's payment ends its token and the first waiting token is admitted; newcomers queue behind", async () => {
    const s = await fresh(env);
    const concert = await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 5, price: 1000 }]);
    const scheduleId = concert.schedules[0]!.id;
    const [a, b, c] = [uid("payA"), uid("payB"), uid("payC")];
    const tokenA = await activeToken(s, a);
    const cb = await check(s, b);
    const cc = await check(s, c);
    expect([cb.status, cb.position, cc.status, cc.position]).toEqual(["waiting", 1, "waiting", 2]);

    const hold = await http(s, "POST", "/v1/reservations", {
      user: a,
      queueToken: tokenA,
      body: { scheduleId, seatNo: 1 },
    });
    expect(hold.status, hold.text).toBe(201);
    expect((await http(s, "POST", "/v1/balance/charge", { user: a, body: { amount: 1000 } })).status).toBe(200);
    const pay = await http(s, "POST", "/v1/payments", { user: a, body: { reservationIds: [hold.body.reservationId] } });
    expect(pay.status, pay.text).toBe(201);

    // A's token ended with the payment.
    expectError(await http(s, "GET", "/v1/concerts", { user: a, queueToken: tokenA }), 401, "TOKEN_INVALID");
    // A newcomer does not jump the line: either B still waits or B holds the slot.
    const d = uid("payD");
    const cd = await check(s, d);
    expect(cd.status).toBe("waiting");
    expect(cd.position).toBeGreaterThanOrEqual(2);

    // B is admitted within a few ticks (QUEUE_TICK_MS=100).
    let admitted: any;
    await until(async () => {
      admitted = await check(s, b, cb.token);
      return admitted.status === "active";
    }, 3000);
    expect(admitted).toMatchObject({ token: cb.token, status: "active", position: 0, etaSeconds: 0 });
    const list = await http(s, "GET", "/v1/concerts", { user: b, queueToken: cb.token });
    expect(list.status, list.text).toBe(200);

    expect(await check(s, c, cc.token)).toMatchObject({ token: cc.token, status: "waiting", position: 1 });
    expect(await check(s, d, cd.token)).toMatchObject({ token: cd.token, status: "waiting", position: 2 });
    // A asking again gets a new token at the back of the line.
    const again = await check(s, a, tokenA);
    expect(again.token).not.toBe(tokenA);
    expect(again).toMatchObject({ status: "waiting", position: 3 });
  });
});

describe("waiting idle expiry (QUEUE_WAITING_IDLE_MS=1500)", () => {
  test("a waiting token that is not checked leaves the line; a regularly checked one stays", async () => {
    const s = await fresh({ QUEUE_ACTIVE_MAX: "1", QUEUE_WAITING_IDLE_MS: "1500", QUEUE_TICK_MS: "100" });
    const concert = await createConcert(s);
    const [a, b, c] = [uid("idleA"), uid("idleB"), uid("idleC")];
    await activeToken(s, a);
    const cb = await check(s, b);
    const cc = await check(s, c);
    expect([cb.status, cb.position, cc.status, cc.position]).toEqual(["waiting", 1, "waiting", 2]);
    const start = Date.now();

    // Check C every 300 ms for 3.5 s (more than twice the idle limit); B is never checked.
    let firstAtOne: number | undefined;
    while (Date.now() - start < 3500) {
      await sleep(300);
      const now = await check(s, c, cc.token);
      expect(now.token, "C keeps its token").toBe(cc.token);
      expect(now.status).toBe("waiting");
      if (now.position === 1 && firstAtOne === undefined) firstAtOne = Date.now() - start;
    }
    expect(firstAtOne, "B left the line, so C moved up to position 1").toBeDefined();
    expect(firstAtOne!, "B did not leave before its idle time").toBeGreaterThanOrEqual(1000);
    const last = await check(s, c, cc.token);
    expect(last).toMatchObject({ token: cc.token, status: "waiting", position: 1, waiting: 1 });

    // B's old token is gone: gated routes say TOKEN_INVALID (not TOKEN_NOT_ACTIVE).
    expectError(await http(s, "GET", "/v1/concerts", { user: b, queueToken: cb.token }), 401, "TOKEN_INVALID");
    expectError(
      await http(s, "GET", `/v1/schedules/${concert.schedules[0]!.id}/seats`, { user: b, queueToken: cb.token }),
      401,
      "TOKEN_INVALID",
    );
    // B checking again gets a new token at the back of the line, behind C.
    const back = await check(s, b, cb.token);
    expect(back.token).not.toBe(cb.token);
    expect(back).toMatchObject({ status: "waiting", position: 2, waiting: 2 });
  });
});

describe("active TTL expiry (QUEUE_ACTIVE_TTL_MS=1200)", () => {
  test("an active token expires after its TTL: gated routes then answer 401 TOKEN_INVALID and the slot is refilled", async () => {
    const s = await fresh({ QUEUE_ACTIVE_MAX: "1", QUEUE_ACTIVE_TTL_MS: "1200", QUEUE_TICK_MS: "100" });
    const concert = await createConcert(s);
    const [a, b] = [uid("ttlA"), uid("ttlB")];
    const before = Date.now();
    const ca = await check(s, a);
    expect(ca).toMatchObject({ status: "active", position: 0 });
    expect(Date.parse(ca.expiresAt)).toBeGreaterThanOrEqual(before + 1200 - 500);
    expect(Date.parse(ca.expiresAt)).toBeLessThanOrEqual(Date.now() + 1200 + 500);
    const cb = await check(s, b);
    expect(cb).toMatchObject({ status: "waiting", position: 1 });

    const first = await http(s, "GET", "/v1/concerts", { user: a, queueToken: ca.token });
    expect(first.status, first.text).toBe(200);

    let last: HttpReply | undefined;
    const elapsed = await until(async () => {
      last = await http(s, "GET", "/v1/concerts", { user: a, queueToken: ca.token });
      return last.status !== 200;
    }, 5000);
    expectError(last!, 401, "TOKEN_INVALID");
    expect(Date.now() - before, "expired no earlier than its TTL").toBeGreaterThanOrEqual(1200 - 200);
    expect(elapsed).toBeLessThan(5000);
    for (const [method, path, body] of activeRoutes(concert.id, concert.schedules[0]!.id, 1)) {
      expectError(await http(s, method, path, { user: a, queueToken: ca.token, body }), 401, "TOKEN_INVALID");
    }

    // The freed slot goes to B.
    let admitted: any;
    await until(async () => {
      admitted = await check(s, b, cb.token);
      return admitted.status === "active";
    }, 3000);
    expect(admitted).toMatchObject({ token: cb.token, status: "active", position: 0 });
    const list = await http(s, "GET", "/v1/concerts", { user: b, queueToken: cb.token });
    expect(list.status, list.text).toBe(200);
  });
});
