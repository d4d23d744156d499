// The holes an attacker found (issue 11), each closed over real sockets: demo identities, the
// money door (rate, cap, pair keys), unauthenticated traffic (oversize tokens, bodies before
// authentication, per-address budgets, trusted proxies), the size of the line, metrics, and the
// Retry-After of WebSocket error frames.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { activeToken, http, tryUpgrade, WsClient } from "../helpers/client.js";
import { MAIN, signJwt, startServer, type TestServer, userJwt } from "../helpers/server.js";

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const servers: TestServer[] = [];

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startServer({ env });
  servers.push(server);
  return server;
}

afterAll(async () => {
  for (const server of servers) {
    await server.stop();
    server.cleanup();
  }
});

/** Writes `head` on a raw connection and resolves with what came back within `waitMs` (or until closed). */
function raw(server: TestServer, head: string, waitMs = 2000): Promise<{ text: string; ms: number; socket: Socket }> {
  return new Promise((done) => {
    const started = Date.now();
    let text = "";
    const socket = connect(server.port, "127.0.0.1", () => socket.write(head));
    const finish = () => done({ text, ms: Date.now() - started, socket });
    const timer = setTimeout(finish, waitMs);
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      // One whole JSON reply is enough.
      if (/\r\n\r\n\{.*\}$/s.test(text)) {
        clearTimeout(timer);
        finish();
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      finish();
    });
    socket.on("error", () => {});
  });
}

describe("demo identities (a plain npm start: SEED_DEMO=1, so dev login is on)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start({ SEED_DEMO: "1", MONEY_RATE_PER_SECOND: "0" });
  });

  test('dev login for "alice" is the user demo:alice and cannot spend the real alice\'s money', async () => {
    expect((await http(s, "POST", "/v1/balance/charge", { user: "alice", body: { amount: 5000 } })).status).toBe(200);
    const login = await http(s, "POST", "/v1/dev/login", { body: { name: "alice" } });
    expect(login.status).toBe(200);
    expect(login.body.userId).toBe("demo:alice");
    const claims = JSON.parse(Buffer.from(login.body.token.split(".")[1], "base64url").toString());
    expect(claims).toMatchObject({ iss: "dev-login", sub: "demo:alice" });
    const asDemo = { authorization: `Bearer ${login.body.token}` };
    expect((await http(s, "GET", "/v1/balance", { headers: asDemo })).body).toEqual({
      userId: "demo:alice",
      balance: 0,
    });
    expect((await http(s, "GET", "/v1/balance", { user: "alice" })).body.balance).toBe(5000);
  });

  test("a JWT of the real issuer with a demo: subject is 401, and so is a dev-login token naming a real user", async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    for (const claims of [
      { sub: "demo:alice", exp },
      { sub: "alice", exp, iss: "dev-login" },
    ]) {
      const reply = await http(s, "GET", "/v1/balance", { headers: { authorization: `Bearer ${signJwt(claims)}` } });
      expect(reply.status).toBe(401);
      expect(reply.body.error.code).toBe("UNAUTHENTICATED");
    }
  });

  test("dev login names may not carry control characters and are 1..59 characters", async () => {
    for (const name of ["vic\u0000x", "x".repeat(60), ""]) {
      expect((await http(s, "POST", "/v1/dev/login", { body: { name } })).status).toBe(400);
    }
    expect((await http(s, "POST", "/v1/dev/login", { body: { name: "x".repeat(59) } })).status).toBe(200);
  });
});

describe("production", () => {
  test("NODE_ENV=production turns dev login off whatever SEED_DEMO says", async () => {
    const s = await start({ NODE_ENV: "production", SEED_DEMO: "1" });
    const reply = await http(s, "POST", "/v1/dev/login", { body: { name: "alice" } });
    expect(reply.status).toBe(404);
    // A token a demo server minted earlier (same secret) is refused too.
    const exp = Math.floor(Date.now() / 1000) + 600;
    const dev = signJwt({ sub: "demo:alice", exp, iss: "dev-login" });
    expect((await http(s, "GET", "/v1/balance", { headers: { authorization: `Bearer ${dev}` } })).status).toBe(401);
  });

  test("NODE_ENV=production with DEV_LOGIN=1 is a configuration error: exit 2 with a message", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ticketing-production-"));
    const run = spawnSync(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        DEV_LOGIN: "1",
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dataDir,
      },
      encoding: "utf8",
      timeout: 10_000,
      killSignal: "SIGKILL",
    });
    rmSync(dataDir, { recursive: true, force: true });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/DEV_LOGIN=1 is not allowed with NODE_ENV=production/);
  });

  test("the Docker image runs with NODE_ENV=production and SEED_DEMO=0", () => {
    const dockerfile = readFileSync(join(import.meta.dirname, "../../Dockerfile"), "utf8");
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(runtime).toMatch(/ENV[^\n]*(\\\n[^\n]*)*NODE_ENV=production/);
    expect(runtime).toMatch(/ENV[^\n]*(\\\n[^\n]*)*SEED_DEMO=0/);
  });
});

describe("unauthenticated traffic", () => {
  test("a bearer token over 8 KiB is 401 without being verified (a validly signed one too), over HTTP and WebSocket", async () => {
    const s = await start();
    const exp = Math.floor(Date.now() / 1000) + 600;
    const padded = signJwt({ sub: "alice", exp, pad: "x".repeat(9000) });
    const reply = await http(s, "GET", "/v1/balance", { headers: { authorization: `Bearer ${padded}` } });
    expect(reply.status).toBe(401);
    expect(reply.body.error.message).toMatch(/over 8192 bytes/);
    expect((await tryUpgrade(s, padded)).status).toBe(401);
  });

  test("a request head up to 16 KiB is served; a longer one is 431 and the connection closes (both uWS builds)", async () => {
    const s = await start();
    const token = userJwt("long-head");
    const head = (padBytes: number) =>
      `GET /v1/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Pad: ${"p".repeat(padBytes)}\r\n\r\n`;
    const base = head(0).length;
    const served = await raw(s, head(16 * 1024 - base));
    served.socket.destroy();
    expect(served.text).toMatch(/^HTTP\/1\.1 200 /);
    const refused = await raw(s, head(16 * 1024 - base + 1));
    expect(refused.text).toMatch(/^HTTP\/1\.1 431 /);
    // raw() returns early only on a JSON reply or a close: this one closed.
    expect(refused.ms).toBeLessThan(1500);
    refused.socket.destroy();
  });

  test("a POST is authenticated from its headers: a bad token is answered before its body arrives", async () => {
    const s = await start();
    const head = `POST /v1/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"amou`;
    const { text, ms, socket } = await raw(s, head, 3000);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 401/);
    // BODY_TIMEOUT_MS is 10 s: the answer did not wait for a body that never comes.
    expect(ms).toBeLessThan(2000);
  });

  test("bodies in flight are capped (MAX_INFLIGHT_BODIES=2): the next POST is 503 with Retry-After until one completes", async () => {
    const s = await start({ MAX_INFLIGHT_BODIES: "2", MONEY_RATE_PER_SECOND: "0" });
    const token = userJwt("slow");
    const head = `POST /v1/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"amou`;
    const slow = await Promise.all([raw(s, head, 300), raw(s, head, 300)]);
    expect(slow.map((r) => r.text)).toEqual(["", ""]);
    const refused = await http(s, "POST", "/v1/balance/charge", { user: "other", body: { amount: 1 } });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: "UNAVAILABLE", retryAfter: 1 });
    // Reads need no body and are not affected.
    expect((await http(s, "GET", "/v1/balance", { user: "other" })).status).toBe(200);
    slow[0]!.socket.write('nt":1}');
    await sleep(200);
    expect((await http(s, "POST", "/v1/balance/charge", { user: "other", body: { amount: 1 } })).status).toBe(200);
    for (const r of slow) r.socket.destroy();
  });

  test("failed authentications spend the address's budget: then an uncached token gets 429 unverified, a cached valid one still passes", async () => {
    const s = await start({ RATE_LIMIT_PER_IP: "1", RATE_LIMIT_PER_IP_BURST: "5" });
    const known = userJwt("known");
    expect((await http(s, "GET", "/v1/balance", { headers: { authorization: `Bearer ${known}` } })).status).toBe(200);
    const bad = { authorization: `Bearer ${signJwt({ sub: "x", exp: 9e9 }, "wrong-secret-0123456789")}` };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await http(s, "GET", "/v1/balance", { headers: bad })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const limited = await http(s, "GET", "/v1/balance", { headers: bad });
    expect(limited.body.error).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
    // A valid token never seen before is not verified now either; the cached one still is known.
    expect((await http(s, "GET", "/v1/balance", { user: "fresh" })).status).toBe(429);
    expect((await http(s, "GET", "/v1/balance", { headers: { authorization: `Bearer ${known}` } })).status).toBe(200);
    // Requests without any credentials count as failures too (they were already refused here).
    expect((await http(s, "GET", "/v1/balance")).status).toBe(429);
    // The bucket refills: a second later the fresh user gets in.
    await sleep(1100);
    expect((await http(s, "GET", "/v1/balance", { user: "fresh" })).status).toBe(200);
  });

  test("X-Forwarded-For counts only with TRUST_PROXY=1, and then its rightmost entry", async () => {
    const env = { RATE_LIMIT_PER_IP: "1", RATE_LIMIT_PER_IP_BURST: "2" };
    const bad = { authorization: "Bearer nope" };
    const failures = async (server: TestServer, xff: string, n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        statuses.push(
          (await http(server, "GET", "/v1/balance", { headers: { ...bad, "x-forwarded-for": xff } })).status,
        );
      }
      return statuses;
    };
    const direct = await start(env);
    expect(await failures(direct, "198.51.100.1", 2)).toEqual([401, 401]);
    // Without a trusted proxy the header is the client's to forge: still the same address.
    expect(await failures(direct, "198.51.100.2", 1)).toEqual([429]);

    const proxied = await start({ ...env, TRUST_PROXY: "1" });
    expect(await failures(proxied, "203.0.113.5, 198.51.100.1", 3)).toEqual([401, 401, 429]);
    // A forged entry on the left does not make a new address; the proxy's (rightmost) does.
    expect(await failures(proxied, "10.9.9.9, 198.51.100.1", 1)).toEqual([429]);
    expect(await failures(proxied, "198.51.100.1, 198.51.100.2", 1)).toEqual([401]);
  });

  test("WebSocket upgrades spend the address's budget (429 past it); dev logins too", async () => {
    const s = await start({ RATE_LIMIT_PER_IP: "1", RATE_LIMIT_PER_IP_BURST: "3", SEED_DEMO: "1" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await tryUpgrade(s, userJwt(`ws-${i}`))).status);
    expect(statuses).toEqual([101, 101, 101, 429]);
    const logins: number[] = [];
    const proxied = await start({ RATE_LIMIT_PER_IP: "1", RATE_LIMIT_PER_IP_BURST: "3", SEED_DEMO: "1" });
    for (let i = 0; i < 4; i++)
      logins.push((await http(proxied, "POST", "/v1/dev/login", { body: { name: `n${i}` } })).status);
    expect(logins).toEqual([200, 200, 200, 429]);
  });

  test("a WebSocket whose subject has a control character is refused at the upgrade", async () => {
    const s = await start();
    const exp = Math.floor(Date.now() / 1000) + 600;
    expect((await tryUpgrade(s, signJwt({ sub: "vic\u0000x", exp }))).status).toBe(401);
  });
});

describe("the money door", () => {
  test("MONEY_RATE_PER_SECOND limits charges per user (429 with Retry-After); replays of a stored key are free", async () => {
    const s = await start({ MONEY_RATE_PER_SECOND: "1", MONEY_RATE_BURST: "2" });
    const charge = (key?: string) =>
      http(s, "POST", "/v1/balance/charge", { user: "m", idempotencyKey: key, body: { amount: 10 } });
    expect((await charge("k1")).status).toBe(200);
    expect((await charge()).status).toBe(200);
    const limited = await charge("k2");
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
    for (let i = 0; i < 5; i++) expect((await charge("k1")).body).toEqual({ userId: "m", balance: 10 });
    expect((await http(s, "GET", "/v1/balance", { user: "m" })).body.balance).toBe(20);
  });

  test("IDEMPOTENCY_MAX_PER_USER: a new key past the cap is 429 with Retry-After, also after kill -9; stored keys replay", async () => {
    const env = { IDEMPOTENCY_MAX_PER_USER: "2", MONEY_RATE_PER_SECOND: "0" };
    const s = await start(env);
    const charge = (server: TestServer, key: string) =>
      http(server, "POST", "/v1/balance/charge", { user: "cap", idempotencyKey: key, body: { amount: 1 } });
    expect((await charge(s, "a")).status).toBe(200);
    expect((await charge(s, "b")).status).toBe(200);
    const refused = await charge(s, "c");
    expect(refused.status).toBe(429);
    expect(refused.body.error.retryAfter).toBeGreaterThan(86_000);
    await s.kill();
    const again = await startServer({ dataDir: s.dataDir, env });
    servers.push(again);
    expect((await charge(again, "c")).status).toBe(429);
    expect((await charge(again, "a")).body).toEqual({ userId: "cap", balance: 1 });
    // Keys of other users are their own.
    const other = await http(again, "POST", "/v1/balance/charge", {
      user: "cap2",
      idempotencyKey: "c",
      body: { amount: 1 },
    });
    expect(other.status).toBe(200);
  });

  test("an idempotency key with a control character is 400 (it could make two users' records collide)", async () => {
    const s = await start();
    const c = await WsClient.connect(s, "vic");
    const reply = await c.request("balance.charge", { amount: 1, idempotencyKey: "x\u0000k1" });
    expect(reply.error?.code).toBe("INVALID_ARGUMENT");
    c.close();
  });
});

describe("the waiting line", () => {
  test("QUEUE_WAITING_MAX: a full line turns new fans away with 503 and retryAfter; a fan in line keeps their place", async () => {
    const s = await start({ QUEUE_ACTIVE_MAX: "1", QUEUE_WAITING_MAX: "2" });
    expect(await activeToken(s, "q0")).toBeTruthy();
    const waiting = [];
    for (const user of ["q1", "q2"]) waiting.push((await http(s, "POST", "/v1/queue/check", { user })).body);
    expect(waiting.map((w) => w.position)).toEqual([1, 2]);
    const full = await http(s, "POST", "/v1/queue/check", { user: "q3" });
    expect(full.status).toBe(503);
    expect(full.body.error).toMatchObject({ code: "UNAVAILABLE", retryAfter: 10 });
    expect((await http(s, "POST", "/v1/queue/check", { user: "q2" })).body.position).toBe(2);
  });

  test("new queue tokens are limited per address (RATE_LIMIT_PER_IP); refreshes are not", async () => {
    const s = await start({ RATE_LIMIT_PER_IP: "1", RATE_LIMIT_PER_IP_BURST: "3" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await http(s, "POST", "/v1/queue/check", { user: `j${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await http(s, "POST", "/v1/queue/check", { user: "j0" })).status).toBe(200);
  });
});

describe("metrics", () => {
  test("with METRICS_TOKEN, /metrics needs it; the text is rendered at most once a second", async () => {
    const token = "metrics-token-0123456789";
    const s = await start({ METRICS_TOKEN: token });
    expect((await http(s, "GET", "/metrics")).status).toBe(401);
    expect(
      (await http(s, "GET", "/metrics", { headers: { authorization: "Bearer wrong-token-012345678" } })).status,
    ).toBe(401);
    const scrape = () => http(s, "GET", "/metrics", { headers: { authorization: `Bearer ${token}` } });
    const first = await scrape();
    expect(first.status).toBe(200);
    await http(s, "GET", "/v1/balance", { user: "between" });
    // The request in between is not counted yet: the same rendering answered.
    expect((await scrape()).text).toBe(first.text);
    await sleep(1100);
    expect((await scrape()).text).toMatch(/ticketing_requests_total\{op="balance.get",code="OK"\} 1/);
  });
});

describe("WebSocket error frames", () => {
  test("a 429 over a WebSocket carries error.retryAfter", async () => {
    const s = await start({ RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "2" });
    const c = await WsClient.connect(s, "frames");
    const replies = await Promise.all(Array.from({ length: 5 }, () => c.request("balance.get")));
    const limited = replies.filter((r) => r.ok === false);
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) expect(r.error).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
    c.close();
  });
});
