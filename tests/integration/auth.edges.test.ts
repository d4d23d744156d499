// Authentication edges not covered by http.auth.test.ts: other algorithms in the JWT header,
// not-yet-valid and over-long tokens, the same edges at the WebSocket upgrade, idempotency keys
// scoped per user, and credentials never reaching the log even at LOG_LEVEL=debug.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { http, WsClient } from "../helpers/client.js";
import { signJwt, startServer, TEST_AUTH_SECRET, type TestServer } from "../helpers/server.js";

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A JWT with any header, signed with HMAC-`hash` over the given secret. */
function hmacJwt(header: object, claims: object, hash: string, secret = TEST_AUTH_SECRET): string {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${createHmac(hash, secret).update(head).digest("base64url")}`;
}

const valid = (sub: string) => ({ sub, iat: now(), exp: now() + 3600 });
const forged: [string, () => string][] = [
  ["HS512 signed with the right secret", () => hmacJwt({ alg: "HS512", typ: "JWT" }, valid("edge-hs512"), "sha512")],
  ["HS384 signed with the right secret", () => hmacJwt({ alg: "HS384", typ: "JWT" }, valid("edge-hs384"), "sha384")],
  // Key confusion: an RS256 header with an HMAC over the shared secret must not pass as HS256.
  ["RS256 header with an HMAC signature", () => hmacJwt({ alg: "RS256", typ: "JWT" }, valid("edge-rs256"), "sha256")],
  ["ES256 header with an HMAC signature", () => hmacJwt({ alg: "ES256", typ: "JWT" }, valid("edge-es256"), "sha256")],
  ["alg NONE in capitals, unsigned", () => `${b64({ alg: "NONE" })}.${b64(valid("edge-none"))}.`],
  ["no alg at all", () => hmacJwt({ typ: "JWT" }, valid("edge-noalg"), "sha256")],
  ["nbf one hour ahead", () => signJwt({ ...valid("edge-nbf"), nbf: now() + 3600 })],
  ["exp as a string", () => signJwt({ sub: "edge-strexp", exp: String(now() + 3600) })],
  ["a sub of 10,000 characters", () => signJwt({ ...valid("x"), sub: "s".repeat(10_000) })],
  ["a sub that is an object", () => signJwt({ ...valid("x"), sub: { id: "edge-obj" } })],
  ["a token with four parts", () => `${signJwt(valid("edge-four"))}.extra`],
  [
    "the right signature on a payload with whitespace changes",
    () => {
      const token = signJwt(valid("edge-ws"));
      const [head, , sig] = token.split(".");
      const payload = Buffer.from(JSON.stringify(valid("edge-ws"), null, 1)).toString("base64url");
      return `${head}.${payload}.${sig}`;
    },
  ],
];

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.stop();
  s?.cleanup();
});

describe("forged and odd JWTs are 401 UNAUTHENTICATED over HTTP and refused at the WebSocket upgrade", () => {
  test.each(forged)("HTTP: %s", async (_name, token) => {
    const reply = await http(s, "GET", "/v1/balance", { headers: { authorization: `Bearer ${token()}` } });
    expect(reply.status, reply.text).toBe(401);
    expect(reply.body.error.code).toBe("UNAUTHENTICATED");
  });

  test.each(forged)("WebSocket upgrade: %s", async (_name, token) => {
    const status = await new Promise<number | "open">((done) => {
      const ws = new WebSocket(`${s.wsUrl}?access_token=${encodeURIComponent(token())}`);
      ws.once("open", () => {
        ws.close();
        done("open");
      });
      ws.once("unexpected-response", (_req, res) => done(res.statusCode ?? 0));
      ws.once("error", () => {});
    });
    expect(status).toBe(401);
  });

  test("a JWT whose nbf has passed is accepted (nbf is honoured, not refused outright)", async () => {
    const reply = await http(s, "GET", "/v1/balance", {
      headers: { authorization: `Bearer ${signJwt({ ...valid("edge-nbf-past"), nbf: now() - 10 })}` },
    });
    expect(reply.status, reply.text).toBe(200);
  });

  test("a WebSocket whose JWT expires after the upgrade gets UNAUTHENTICATED for later requests", async () => {
    const token = signJwt({ sub: "edge-expiring", exp: now() + 2 });
    const c = await WsClient.connect(s, undefined, { headers: { authorization: `Bearer ${token}` } });
    expect((await c.request("balance.get")).ok).toBe(true);
    await new Promise((done) => setTimeout(done, 2100));
    expect((await c.request("balance.get")).error?.code).toBe("UNAUTHENTICATED");
    c.close();
  });
});

describe("idempotency keys are scoped per user", () => {
  test("another user replaying someone's key does the work for themselves and never sees the first user's response", async () => {
    const first = await http(s, "POST", "/v1/balance/charge", {
      user: "edge-idem-a",
      idempotencyKey: "shared-key",
      body: { amount: 700 },
    });
    expect(first.status).toBe(200);
    const second = await http(s, "POST", "/v1/balance/charge", {
      user: "edge-idem-b",
      idempotencyKey: "shared-key",
      body: { amount: 700 },
    });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ userId: "edge-idem-b", balance: 700 });
    expect((await http(s, "GET", "/v1/balance", { user: "edge-idem-a" })).body.balance).toBe(700);
  });
});

describe("secrets never reach the log", () => {
  test("with LOG_LEVEL=debug and generated secrets, neither JWTs, AUTH_SECRET nor ADMIN_TOKEN appear in the output", async () => {
    // Empty values make the server generate its secrets into DATA_DIR/secrets.
    const server = await startServer({ env: { LOG_LEVEL: "debug", AUTH_SECRET: "", ADMIN_TOKEN: "" } });
    try {
      const authSecret = readFileSync(join(server.dataDir, "secrets/auth_secret"), "utf8").trim();
      const adminToken = readFileSync(join(server.dataDir, "secrets/admin_token"), "utf8").trim();
      const jwt = signJwt(valid("edge-logs"), authSecret);
      const badJwt = signJwt(valid("edge-logs-bad"), "wrong-secret-0123456789abcdef");
      const user = { authorization: `Bearer ${jwt}` };
      const check = await http(server, "POST", "/v1/queue/check", { headers: user });
      expect(check.status, check.text).toBe(200);
      const queueToken = check.body.token as string;
      await http(server, "GET", "/v1/concerts", { headers: { ...user, "queue-token": queueToken } });
      await http(server, "POST", "/v1/balance/charge", { headers: user, body: { amount: 5 }, idempotencyKey: "k" });
      await http(server, "GET", "/v1/balance", { headers: { authorization: `Bearer ${badJwt}` } });
      await http(server, "POST", "/v1/admin/concerts", {
        headers: { authorization: `Bearer ${adminToken}` },
        body: { title: "Logged?", schedules: [{ startsAt: "2027-01-01T00:00:00Z", seatCount: 1, price: 1 }] },
      });
      await http(server, "POST", "/v1/admin/concerts", {
        headers: { authorization: `Bearer ${adminToken}x` },
        body: { title: "x" },
      });
      const c = await WsClient.connect(server, undefined, { path: `/v1/ws?access_token=${jwt}` });
      await c.request("queue.check", { token: queueToken });
      await c.request("balance.get");
      c.close();
      await server.stop();
      const output = server.logs.join("\n");
      expect(output).toContain('"request"'); // debug logging was on: one line per request
      for (const [name, secret] of [
        ["JWT", jwt],
        ["JWT signature", jwt.split(".")[2]!],
        ["bad JWT", badJwt],
        ["AUTH_SECRET", authSecret],
        ["ADMIN_TOKEN", adminToken],
      ] as const) {
        expect(output.includes(secret), `${name} appears in the log`).toBe(false);
      }
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});
