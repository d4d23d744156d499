// HTTP contract: user identity (JWT) and admin credentials.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminHeaders, expectError, http, uniqueIds } from "../helpers/client.js";
import { signJwt, startServer, TEST_AUTH_SECRET, type TestServer, userJwt } from "../helpers/server.js";

let counter = 0;
const uid = uniqueIds("u-auth");
const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

const goodSchedule = { startsAt: "2027-05-01T19:00:00.000Z", seatCount: 3, price: 1000 };

let s: TestServer;

beforeAll(async () => {
  s = await startServer();
});

afterAll(async () => {
  await s?.stop();
  s?.cleanup();
});

describe("valid user JWT", () => {
  test("a valid HS256 JWT identifies the user by sub and the user starts with balance 0", async () => {
    const user = uid("valid");
    const reply = await http(s, "GET", "/v1/balance", { user });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ userId: user, balance: 0 });
  });

  test("a sub of exactly 64 characters is accepted", async () => {
    const sub = "x".repeat(60) + String(++counter).padStart(4, "0");
    expect(sub.length).toBe(64);
    const reply = await http(s, "GET", "/v1/balance", { headers: bearer(userJwt(sub)) });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ userId: sub, balance: 0 });
  });
});

describe("bad user credentials -> 401 UNAUTHENTICATED", () => {
  const cases: [string, () => Record<string, string>][] = [
    ["no Authorization header", () => ({})],
    ["a malformed token (not a JWT)", () => bearer("not-a-jwt")],
    ["a token with three garbage parts", () => bearer("aaa.bbb.ccc")],
    ["an empty bearer value", () => ({ authorization: "Bearer " })],
    ["a valid JWT without the Bearer scheme", () => ({ authorization: userJwt(uid("noscheme")) })],
    ["a valid JWT under the Basic scheme", () => ({ authorization: `Basic ${userJwt(uid("basic"))}` })],
    ["a JWT signed with another secret", () => bearer(userJwt(uid("badsig"), 3600, "some-other-secret-0123456789"))],
    [
      "a JWT whose payload was altered after signing",
      () => {
        const [head, , sig] = userJwt(uid("tamper")).split(".");
        return bearer(`${head}.${b64({ sub: "someone-else", exp: now() + 3600 })}.${sig}`);
      },
    ],
    ["an expired JWT", () => bearer(userJwt(uid("expired"), -3600))],
    ["a JWT without exp", () => bearer(signJwt({ sub: uid("noexp"), iat: now() }))],
    [
      "an unsigned JWT with alg none",
      () => bearer(`${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: uid("none"), exp: now() + 3600 })}.`),
    ],
    [
      "a JWT with alg none and an HMAC signature",
      () => bearer(signJwt({ sub: uid("none2"), exp: now() + 3600 }, TEST_AUTH_SECRET, { alg: "none", typ: "JWT" })),
    ],
    ["a JWT without sub", () => bearer(signJwt({ iat: now(), exp: now() + 3600 }))],
    ["a JWT with an empty sub", () => bearer(signJwt({ sub: "", exp: now() + 3600 }))],
    ["a JWT with a sub of 65 characters", () => bearer(signJwt({ sub: "y".repeat(65), exp: now() + 3600 }))],
    ["a JWT with a numeric sub", () => bearer(signJwt({ sub: 12345, exp: now() + 3600 }))],
    ["the admin token used as a user token", () => adminHeaders(s)],
  ];

  test.each(cases)("GET /v1/balance with %s", async (_name, headers) => {
    expectError(await http(s, "GET", "/v1/balance", { headers: headers() }), 401, "UNAUTHENTICATED");
  });

  test.each(cases)("POST /v1/queue/check with %s", async (_name, headers) => {
    expectError(await http(s, "POST", "/v1/queue/check", { headers: headers() }), 401, "UNAUTHENTICATED");
  });

  test("every user route answers 401 UNAUTHENTICATED to an expired JWT", async () => {
    const headers = bearer(userJwt(uid("routes"), -3600));
    const routes: [string, string, unknown][] = [
      ["POST", "/v1/queue/check", undefined],
      ["GET", "/v1/concerts", undefined],
      ["GET", "/v1/concerts/1/schedules", undefined],
      ["GET", "/v1/schedules/1/seats", undefined],
      ["POST", "/v1/reservations", { scheduleId: 1, seatNo: 1 }],
      ["GET", "/v1/reservations/1", undefined],
      ["DELETE", "/v1/reservations/1", undefined],
      ["POST", "/v1/payments", { reservationIds: [1] }],
      ["GET", "/v1/balance", undefined],
      ["POST", "/v1/balance/charge", { amount: 100 }],
    ];
    for (const [method, path, body] of routes) {
      const reply = await http(s, method, path, { headers, body });
      expect(`${method} ${path} -> ${reply.status} ${reply.body?.error?.code}`).toBe(
        `${method} ${path} -> 401 UNAUTHENTICATED`,
      );
    }
  });

  test("authentication is checked before the queue gate and before body validation", async () => {
    // No JWT, no Queue-Token, invalid body: the JWT problem wins.
    expectError(await http(s, "POST", "/v1/reservations", { rawBody: "{not json" }), 401, "UNAUTHENTICATED");
    expectError(await http(s, "GET", "/v1/concerts", { queueToken: "nope" }), 401, "UNAUTHENTICATED");
    expectError(await http(s, "POST", "/v1/balance/charge", { body: { amount: "lots" } }), 401, "UNAUTHENTICATED");
  });

  test("a rejected JWT does not create the user or change anything", async () => {
    const user = uid("nochange");
    const forged = bearer(userJwt(user, 3600, "wrong-secret-wrong-secret-wrong"));
    expectError(
      await http(s, "POST", "/v1/balance/charge", { headers: forged, body: { amount: 500 } }),
      401,
      "UNAUTHENTICATED",
    );
    const reply = await http(s, "GET", "/v1/balance", { user });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ userId: user, balance: 0 });
  });
});

describe("admin credentials", () => {
  const body = { title: "Admin auth concert", schedules: [goodSchedule] };

  test("POST /v1/admin/concerts with the admin token -> 201", async () => {
    const reply = await http(s, "POST", "/v1/admin/concerts", { headers: adminHeaders(s), body });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.title).toBe("Admin auth concert");
  });

  test("POST /v1/admin/concerts without a token -> 401 UNAUTHENTICATED", async () => {
    expectError(await http(s, "POST", "/v1/admin/concerts", { body }), 401, "UNAUTHENTICATED");
  });

  test("POST /v1/admin/concerts with a wrong token -> 401 UNAUTHENTICATED", async () => {
    expectError(
      await http(s, "POST", "/v1/admin/concerts", { headers: bearer("wrong-admin-token"), body }),
      401,
      "UNAUTHENTICATED",
    );
    expectError(
      await http(s, "POST", "/v1/admin/concerts", { headers: bearer(`${s.adminToken}x`), body }),
      401,
      "UNAUTHENTICATED",
    );
    expectError(
      await http(s, "POST", "/v1/admin/concerts", { headers: { authorization: s.adminToken }, body }),
      401,
      "UNAUTHENTICATED",
    );
  });

  test("POST /v1/admin/concerts with a valid user JWT -> 401 UNAUTHENTICATED", async () => {
    expectError(await http(s, "POST", "/v1/admin/concerts", { user: uid("notadmin"), body }), 401, "UNAUTHENTICATED");
  });

  test("admin credentials are checked before body validation", async () => {
    expectError(
      await http(s, "POST", "/v1/admin/concerts", { user: uid("notadmin2"), body: { title: "" } }),
      401,
      "UNAUTHENTICATED",
    );
    expectError(await http(s, "POST", "/v1/admin/concerts", { rawBody: "{oops" }), 401, "UNAUTHENTICATED");
  });

  test("a rejected admin request creates no concert", async () => {
    const title = `never-created-${++counter}`;
    await http(s, "POST", "/v1/admin/concerts", {
      headers: bearer("wrong-admin-token"),
      body: { title, schedules: [goodSchedule] },
    });
    const user = uid("lister");
    const check = await http(s, "POST", "/v1/queue/check", { user });
    expect(check.status, check.text).toBe(200);
    const list = await http(s, "GET", "/v1/concerts", { user, queueToken: check.body.token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.concerts.map((c: { title: string }) => c.title)).not.toContain(title);
  });
});
