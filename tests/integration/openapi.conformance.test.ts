// The documents describe what the server really answers: for a sample of requests per op (good,
// unauthenticated, ungated, malformed, oversized, unknown ids, each op's own refusals, over the rate
// limits, with no body slot free), every HTTP status and error code is one that /openapi.json
// declares for that operation, and every WebSocket error code one that /asyncapi.json declares.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Op } from "../../src/api/op.js";
import { openApiPath } from "../../src/api/openapi.js";
import { ops, opsByName } from "../../src/api/ops/index.js";
import { adminHeaders, createConcert, type HttpReply, http, WsClient } from "../helpers/client.js";
import { startServer, type TestServer, userJwt } from "../helpers/server.js";

interface Sample {
  op: string;
  what: string;
  status: number;
  code: string | undefined;
  headers: Headers;
}

interface CallOptions {
  user?: string;
  authorization?: string;
  queueToken?: string;
  params?: Record<string, string | number>;
  body?: unknown;
  rawBody?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

const samples: Sample[] = [];
const wsSamples: { op: string; what: string; code: string | undefined }[] = [];
let s: TestServer;
let tight: TestServer;
let openapi: { paths: Record<string, Record<string, any>> };
let asyncapi: { operations: Record<string, any>; components: { schemas: Record<string, any> } };

const httpOps = ops.filter((op) => op.http);
const ADMIN = "admin";

/** Calls `name`'s route; records the status and code as a sample of that op. */
async function call(server: TestServer, name: string, what: string, options: CallOptions = {}): Promise<HttpReply> {
  const op = opsByName.get(name)!;
  const path = op.http!.path.replace(/:([A-Za-z]+)/g, (_m, param: string) => String(options.params?.[param] ?? 1));
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization) headers.authorization = options.authorization;
  else if (options.user === ADMIN) Object.assign(headers, adminHeaders(server));
  else if (options.user) headers.authorization = `Bearer ${userJwt(options.user)}`;
  const reply = await http(server, op.http!.method, path, {
    headers,
    ...(options.queueToken !== undefined ? { queueToken: options.queueToken } : {}),
    ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
    ...(options.rawBody !== undefined ? { rawBody: options.rawBody } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  samples.push({ op: name, what, status: reply.status, code: reply.body?.error?.code, headers: reply.headers });
  return reply;
}

async function wsCall(client: WsClient, op: string, what: string, args: unknown) {
  const reply = await client.request(op, args);
  wsSamples.push({ op, what, code: reply.ok ? undefined : reply.error?.code });
  return reply;
}

/** A valid body or path of each op, given the ids made in beforeAll. */
let valid: (op: Op) => CallOptions;

beforeAll(async () => {
  [s, tight] = await Promise.all([
    startServer({
      env: {
        QUEUE_ACTIVE_MAX: "3",
        MAX_HOLDS_PER_USER: "2",
        MAX_BODY_BYTES: "256",
        CHARGE_MAX: "5000",
        BALANCE_MAX: "10000",
        DEV_LOGIN: "1",
      },
    }),
    startServer({
      env: {
        RATE_LIMIT_PER_SECOND: "1",
        RATE_LIMIT_BURST: "1",
        RATE_LIMIT_PER_IP: "1",
        RATE_LIMIT_PER_IP_BURST: "1",
        MAX_INFLIGHT_BODIES: "1",
        BODY_TIMEOUT_MS: "20000",
      },
    }),
  ]);
  openapi = (await http(s, "GET", "/openapi.json")).body;
  asyncapi = (await http(s, "GET", "/asyncapi.json")).body;
  const concert = await createConcert(s, [{ startsAt: "2027-05-01T19:00:00Z", seatCount: 10, price: 1000 }]);
  const scheduleId = concert.schedules[0]!.id;
  // An on-sale that opens at once (so it gates nothing the samples above use).
  const onSale = await http(s, "POST", "/v1/admin/concerts", {
    headers: adminHeaders(s),
    body: { title: "on sale", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 1, price: 1 }], onSale: {} },
  });
  const onSaleId = onSale.body.id as number;
  valid = (op) =>
    (
      ({
        "queue.check": {},
        "concerts.list": {},
        "schedules.list": { params: { concertId: concert.id } },
        "seats.list": { params: { scheduleId } },
        "reservations.create": { body: { scheduleId, seatNo: 1 } },
        "reservations.best": { body: { scheduleId, count: 1 } },
        "seats.layout": { params: { scheduleId } },
        "reservations.get": { params: { reservationId: 1 } },
        "reservations.release": { params: { reservationId: 1 } },
        "payments.create": { body: { reservationIds: [1] } },
        "balance.get": {},
        "balance.charge": { body: { amount: 1 } },
        "admin.concerts.create": {
          body: { title: "t", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 2, price: 10 }] },
        },
        "dev.login": { body: { name: "sampler" } },
        "onsale.get": { params: { concertId: onSaleId } },
        "draw.get": { params: { concertId: onSaleId } },
        "admin.onsale.update": { params: { concertId: onSaleId }, body: { paused: false } },
        "reservations.list": {},
        "onsales.list": {},
      }) as Record<string, CallOptions>
    )[op.name] ?? {};
});

afterAll(async () => {
  await Promise.all([s?.stop(), tight?.stop()]);
  s?.cleanup();
  tight?.cleanup();
});

/** The statuses the document declares for `op`, each with the codes its schema allows. */
function declared(op: Op): Map<string, { codes: string[] | undefined; headers: Record<string, unknown> }> {
  const operation = openapi.paths[openApiPath(op.http!.path)]![op.http!.method.toLowerCase()];
  return new Map(
    Object.entries(operation.responses as Record<string, any>).map(([status, response]) => [
      status,
      {
        codes: response.content?.["application/json"]?.schema?.properties?.error?.properties?.code?.enum,
        headers: response.headers ?? {},
      },
    ]),
  );
}

async function tokenOf(server: TestServer, user: string): Promise<string> {
  const reply = await call(server, "queue.check", "check in", { user });
  return reply.body.token;
}

describe("HTTP replies are declared in /openapi.json", () => {
  it("a sample of requests per op on a server with small limits", async () => {
    // Three active fans fill the active set; a fourth waits.
    const fan = await tokenOf(s, "fan");
    const other = await tokenOf(s, "other");
    await tokenOf(s, "third");
    const waiting = await tokenOf(s, "waiter");
    expect((await call(s, "queue.check", "refresh", { user: "waiter" })).body.status).toBe("waiting");

    for (const op of httpOps) {
      const name = op.name;
      const good = valid(op);
      const gated = op.gate === "active" ? { queueToken: fan } : {};
      if (op.gate !== "none") {
        await call(s, name, "no credentials", good);
        await call(s, name, "a bad bearer", { ...good, authorization: "Bearer not-a-jwt" });
        if (op.gate === "admin") await call(s, name, "a user JWT as admin", { ...good, user: "fan" });
      }
      if (op.gate === "active") {
        await call(s, name, "no queue token", { ...good, user: "fan" });
        await call(s, name, "an unknown queue token", { ...good, user: "fan", queueToken: "nope" });
        await call(s, name, "another user's queue token", { ...good, user: "fan", queueToken: other });
        await call(s, name, "a waiting queue token", { ...good, user: "waiter", queueToken: waiting });
      }
      const user = op.gate === "admin" ? ADMIN : op.gate === "none" ? undefined : "fan";
      const as = { ...(user ? { user } : {}), ...gated };
      for (const param of op.http!.path.match(/:([A-Za-z]+)/g) ?? []) {
        const key = param.slice(1);
        await call(s, name, `${key} not a number`, { ...as, ...good, params: { ...good.params, [key]: "abc" } });
        await call(s, name, `${key} unknown`, { ...as, ...good, params: { ...good.params, [key]: 999_999 } });
      }
      if (op.http!.method === "POST") {
        await call(s, name, "malformed JSON", { ...as, rawBody: "{bad" });
        await call(s, name, "an array body", { ...as, rawBody: "[]" });
        await call(s, name, "wrong types", { ...as, body: { amount: "x", scheduleId: "x", reservationIds: "x" } });
        await call(s, name, "a body over MAX_BODY_BYTES", { ...as, rawBody: JSON.stringify({ pad: "x".repeat(400) }) });
      }
      await call(s, name, "valid", { ...as, ...good });
    }

    // Each op's own refusals.
    const held = await call(s, "reservations.create", "hold seat 2", {
      user: "fan",
      queueToken: fan,
      body: { scheduleId: 1, seatNo: 2 },
    });
    await call(s, "reservations.create", "a taken seat", {
      user: "other",
      queueToken: other,
      body: { scheduleId: 1, seatNo: 2 },
    });
    await call(s, "reservations.create", "hold seat 3", {
      user: "fan",
      queueToken: fan,
      body: { scheduleId: 1, seatNo: 3 },
    });
    await call(s, "reservations.create", "over the hold limit", {
      user: "fan",
      queueToken: fan,
      body: { scheduleId: 1, seatNo: 4 },
    });
    await call(s, "reservations.create", "a seat not in the schedule", {
      user: "other",
      queueToken: other,
      body: { scheduleId: 1, seatNo: 99 },
    });
    await call(s, "queue.check", "another user's token", { user: "fan", queueToken: other });
    const mine = held.body.reservationId as number;
    await call(s, "reservations.get", "another user's reservation", { user: "other", params: { reservationId: mine } });
    await call(s, "reservations.release", "another user's reservation", {
      user: "other",
      params: { reservationId: mine },
    });
    await call(s, "reservations.release", "released already", { user: "fan", params: { reservationId: 1 } });
    await call(s, "payments.create", "a released hold", { user: "fan", body: { reservationIds: [1] } });
    await call(s, "payments.create", "not enough money", { user: "fan", body: { reservationIds: [mine] } });
    await call(s, "payments.create", "another user's hold", { user: "other", body: { reservationIds: [mine] } });
    await call(s, "balance.charge", "over CHARGE_MAX", { user: "fan", body: { amount: 5001 } });
    await call(s, "balance.charge", "charge", { user: "fan", body: { amount: 5000 }, idempotencyKey: "k1" });
    await call(s, "balance.charge", "a key with another body", {
      user: "fan",
      body: { amount: 7 },
      idempotencyKey: "k1",
    });
    await call(s, "balance.charge", "charge", { user: "fan", body: { amount: 4000 } });
    await call(s, "balance.charge", "over BALANCE_MAX", { user: "fan", body: { amount: 2000 } });
    await call(s, "payments.create", "pay", { user: "fan", body: { reservationIds: [mine] }, idempotencyKey: "p1" });
    await call(s, "payments.create", "a key with another body", {
      user: "fan",
      body: { reservationIds: [1] },
      idempotencyKey: "p1",
    });
    await call(s, "payments.create", "paid already", { user: "fan", body: { reservationIds: [mine] } });
    await call(s, "reservations.release", "paid already", { user: "fan", params: { reservationId: mine } });
    const best = (what: string, body: Record<string, unknown>) =>
      call(s, "reservations.best", what, { user: "fan", queueToken: fan, body: { scheduleId: 1, ...body } });
    await best("over the hold limit", { count: 1 });
    await best("a count over MAX_HOLDS_PER_USER", { count: 3 });
    await best("an unknown category", { count: 1, category: "VIP" });
    await call(s, "reservations.best", "no such block", {
      user: "other",
      queueToken: other,
      body: { scheduleId: 1, count: 1, accessible: true },
    });
    const layout = await call(s, "seats.layout", "the layout", {
      user: "fan",
      queueToken: fan,
      params: { scheduleId: 1 },
    });
    await call(s, "seats.layout", "a current ETag", {
      user: "fan",
      queueToken: fan,
      params: { scheduleId: 1 },
      headers: { "if-none-match": layout.headers.get("etag")! },
    });
    await call(s, "admin.concerts.create", "a price over CHARGE_MAX", {
      user: ADMIN,
      body: { title: "t", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 1, price: 5001 }] },
    });
  });

  it("a sample on a server with no body slot to spare and budgets of one request", async () => {
    // One slow body holds the only slot: every other POST that passes its gate is 503.
    const slow: Socket = connect(tight.port, "127.0.0.1");
    await new Promise((done) => slow.once("connect", done));
    slow.write(
      `POST /v1/balance/charge HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${userJwt("slow")}\r\n` +
        "content-type: application/json\r\ncontent-length: 100\r\n\r\n{",
    );
    await new Promise((done) => setTimeout(done, 200));
    try {
      for (const op of httpOps.filter((op) => op.http!.method === "POST")) {
        const user = op.gate === "admin" ? ADMIN : `busy-${op.name}`;
        const reply = await call(tight, op.name, "no body slot free", { user, ...valid(op) });
        if (op.gate !== "active" && op.gate !== "none") expect(reply.status, op.name).toBe(503);
      }
    } finally {
      slow.destroy();
    }
    // Budgets of one: the second request of a user (or the second failure of the address) is 429.
    for (const op of httpOps) {
      const user = op.gate === "admin" ? undefined : `twice-${op.name}`;
      const as = op.gate === "admin" ? { authorization: "Bearer wrong-admin-token" } : { user };
      await call(tight, op.name, "first", { ...as, ...valid(op) });
      await call(tight, op.name, "second within the budget's second", { ...as, ...valid(op) });
    }
    const statuses = new Set(samples.filter((sample) => sample.what.startsWith("second")).map((x) => x.status));
    expect(statuses.has(429)).toBe(true);
  });

  it("every sampled status and code is declared for its operation, with the declared headers", () => {
    const undeclared: string[] = [];
    const seen = new Map<string, Set<string>>();
    for (const sample of samples) {
      const op = opsByName.get(sample.op)!;
      const responses = declared(op);
      const response = responses.get(String(sample.status));
      const label = `${sample.op} (${sample.what}): ${sample.status} ${sample.code ?? ""}`;
      if (!response) {
        undeclared.push(`${label}: status not declared`);
        continue;
      }
      if (sample.status >= 400 && !response.codes?.includes(sample.code!)) {
        undeclared.push(`${label}: code not declared (${response.codes})`);
      }
      if ("X-Request-Id" in response.headers) expect(sample.headers.get("x-request-id"), label).toBeTruthy();
      if ("Retry-After" in response.headers)
        expect(Number(sample.headers.get("retry-after")), label).toBeGreaterThan(0);
      if (!seen.has(sample.op)) seen.set(sample.op, new Set());
      seen.get(sample.op)!.add(`${sample.status}${sample.code ? ` ${sample.code}` : ""}`);
    }
    expect(undeclared).toEqual([]);
    // What the sample covered, per op (the declared codes it did not reach: INTERNAL, a full line, ...).
    for (const op of httpOps) {
      const all = [...declared(op)].flatMap(([status, r]) => (r.codes ?? [""]).map((c) => `${status} ${c}`.trim()));
      const missed = all.filter((entry) => !seen.get(op.name)?.has(entry));
      console.log(
        `${op.name}: sampled ${[...(seen.get(op.name) ?? [])].sort().join(", ")}; not sampled: ${missed.join(", ")}`,
      );
    }
    expect(samples.length).toBeGreaterThan(120);
    // Every op's success and its gate's refusals were reached.
    for (const op of httpOps) expect(seen.get(op.name)?.has(String(op.http!.status)), op.name).toBe(true);
  });
});

describe("WebSocket errors are declared in /asyncapi.json", () => {
  it("a sample of frames per op answers only codes of that op's error message", async () => {
    const fan = await WsClient.connect(s, "ws-sampler");
    try {
      for (const op of ops) {
        if (!asyncapi.operations[op.name]) continue;
        await wsCall(fan, op.name, "args not an object", "x");
        await wsCall(fan, op.name, "no queue token / valid", valid(op).body ?? {});
        await wsCall(fan, op.name, "wrong types", { scheduleId: "x", concertId: -1, reservationId: 0, amount: "x" });
      }
      await wsCall(fan, "queue.check", "check in", {});
      await wsCall(fan, "seats.subscribe", "an unknown schedule", { scheduleId: 999 });
      await wsCall(fan, "reservations.get", "an unknown reservation", { reservationId: 999 });
      const undeclared = wsSamples.filter((sample) => {
        if (sample.code === undefined) return false;
        const codes: string[] = asyncapi.components.schemas[`${sample.op}.error`].properties.error.properties.code.enum;
        return !codes.includes(sample.code);
      });
      expect(undeclared).toEqual([]);
      expect(wsSamples.filter((sample) => sample.code !== undefined).length).toBeGreaterThan(20);
    } finally {
      fan.close();
    }
  });
});
