// HTTP contract: unknown routes, body limits, body parsing, /healthz and /metrics.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { activeToken, adminHeaders, expectError, http, uniqueIds } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const uid = uniqueIds("u-err");

let s: TestServer;

beforeAll(async () => {
  s = await startServer({ env: { MAX_BODY_BYTES: "1024", ADMIN_MAX_BODY_BYTES: "2048" } });
});

afterAll(async () => {
  await s?.stop();
  s?.cleanup();
});

describe("unknown routes", () => {
  test.each([
    // "/" is the demo page (src/http/web.ts); an unknown file beside it is still 404.
    ["GET", "/index.html"],
    ["GET", "/v1"],
    ["GET", "/v1/nope"],
    ["POST", "/v1/concerts/1/tickets"],
    ["GET", "/v2/concerts"],
    ["GET", "/healthz/extra"],
  ])("%s %s -> 404 NOT_FOUND with the error body", async (method, path) => {
    const reply = await http(s, method, path, { user: uid("route") });
    expectError(reply, 404, "NOT_FOUND");
  });

  test.each([
    ["PUT", "/v1/balance"],
    ["DELETE", "/v1/concerts"],
    ["POST", "/v1/concerts"],
    ["GET", "/v1/payments"],
    ["GET", "/v1/queue/check"],
    ["PATCH", "/v1/reservations/1"],
    ["GET", "/v1/admin/concerts"],
  ])("wrong method %s %s -> 404 NOT_FOUND", async (method, path) => {
    expectError(await http(s, method, path, { user: uid("method") }), 404, "NOT_FOUND");
  });

  test("the route is checked before authentication: an unknown route without credentials is 404", async () => {
    expectError(await http(s, "GET", "/v1/nothing-here"), 404, "NOT_FOUND");
    expectError(await http(s, "POST", "/v1/nothing-here", { rawBody: "{bad" }), 404, "NOT_FOUND");
  });

  test("error bodies are JSON with Content-Type application/json", async () => {
    const reply = await http(s, "GET", "/v1/nope");
    expect(reply.status).toBe(404);
    expect(reply.headers.get("content-type") ?? "").toMatch(/application\/json/);
    expect(reply.body).toHaveProperty("error");
  });
});

describe("request bodies (MAX_BODY_BYTES=1024, ADMIN_MAX_BODY_BYTES=2048)", () => {
  test("a charge body over the limit -> 413 PAYLOAD_TOO_LARGE and the balance is unchanged", async () => {
    const user = uid("big");
    const rawBody = JSON.stringify({ amount: 100, padding: "x".repeat(2048) });
    expect(Buffer.byteLength(rawBody)).toBeGreaterThan(1024);
    expectError(await http(s, "POST", "/v1/balance/charge", { user, rawBody }), 413, "PAYLOAD_TOO_LARGE");
    const balance = await http(s, "GET", "/v1/balance", { user });
    expect(balance.body).toMatchObject({ userId: user, balance: 0 });
  });

  test("an oversized body on other POST routes -> 413 PAYLOAD_TOO_LARGE", async () => {
    const user = uid("big2");
    const token = await activeToken(s, user);
    const padding = "y".repeat(4096);
    expectError(
      await http(s, "POST", "/v1/reservations", {
        user,
        queueToken: token,
        body: { scheduleId: 1, seatNo: 1, padding },
      }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    expectError(
      await http(s, "POST", "/v1/payments", { user, body: { reservationIds: [1], padding } }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    expectError(
      await http(s, "POST", "/v1/admin/concerts", {
        headers: adminHeaders(s),
        body: { title: "big", schedules: [{ startsAt: "2027-01-01T00:00:00.000Z", seatCount: 1, price: 1 }], padding },
      }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
  });

  test("an admin's body may be up to ADMIN_MAX_BODY_BYTES, once the admin token is checked", async () => {
    const concert = { title: "venue", schedules: [{ startsAt: "2027-01-01T00:00:00.000Z", seatCount: 1, price: 1 }] };
    const fits = { ...concert, padding: "v".repeat(1500) };
    const created = await http(s, "POST", "/v1/admin/concerts", { headers: adminHeaders(s), body: fits });
    expect(created.status, created.text).toBe(201);
    // Without the admin token the request is refused before a byte of its body is read.
    expectError(await http(s, "POST", "/v1/admin/concerts", { body: fits }), 401, "UNAUTHENTICATED");
  });

  test("a body just under the limit is accepted (unknown fields are ignored)", async () => {
    const user = uid("fits");
    const base = JSON.stringify({ amount: 100, padding: "" });
    const rawBody = JSON.stringify({ amount: 100, padding: "z".repeat(1000 - Buffer.byteLength(base)) });
    expect(Buffer.byteLength(rawBody)).toBe(1000);
    const reply = await http(s, "POST", "/v1/balance/charge", { user, rawBody });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ userId: user, balance: 100 });
  });

  test("malformed JSON -> 400 INVALID_ARGUMENT", async () => {
    expectError(
      await http(s, "POST", "/v1/balance/charge", { user: uid("malformed"), rawBody: "{amount: 5}" }),
      400,
      "INVALID_ARGUMENT",
    );
  });

  test("an empty POST body is treated as {}", async () => {
    const user = uid("empty");
    const check = await http(s, "POST", "/v1/queue/check", { user, rawBody: "" });
    expect(check.status, check.text).toBe(200);
    expect(check.body.status).toBe("active");
    const noBody = await http(s, "POST", "/v1/queue/check", { user });
    expect(noBody.status, noBody.text).toBe(200);
    expect(noBody.body.token).toBe(check.body.token);
    // {} is missing `amount`.
    expectError(await http(s, "POST", "/v1/balance/charge", { user }), 400, "INVALID_ARGUMENT");
  });

  test("Content-Type is not enforced: a JSON body sent as text/plain is parsed", async () => {
    const user = uid("ctype");
    const reply = await http(s, "POST", "/v1/balance/charge", {
      user,
      rawBody: JSON.stringify({ amount: 250 }),
      headers: { "content-type": "text/plain" },
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ userId: user, balance: 250 });
  });
});

describe("/healthz and /metrics", () => {
  test("GET /healthz -> 200 {ok: true} without credentials", async () => {
    const reply = await http(s, "GET", "/healthz");
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({ ok: true });
  });

  test("GET /metrics -> 200 Prometheus text containing ticketing_requests_total", async () => {
    await http(s, "GET", "/v1/balance", { user: uid("metrics") });
    await http(s, "GET", "/v1/nope");
    const reply = await http(s, "GET", "/metrics");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type") ?? "").toMatch(/text\/plain/);
    expect(typeof reply.body).toBe("string");
    expect(reply.text).toContain("ticketing_requests_total");
    expect(reply.text).toMatch(/^# TYPE ticketing_requests_total counter$/m);
    expect(reply.text).toMatch(/^ticketing_requests_total\{[^}]*\} \d+(\.\d+)?(e[+-]?\d+)?$/m);
  });

  test("GET /metrics exposes the queue, hold, sale and commit metrics", async () => {
    const reply = await http(s, "GET", "/metrics");
    expect(reply.status).toBe(200);
    for (const name of [
      "ticketing_queue_waiting",
      "ticketing_queue_active",
      "ticketing_holds_live",
      "ticketing_seats_sold",
      "ticketing_commit_seconds",
    ]) {
      expect(reply.text, name).toContain(name);
    }
  });
});
