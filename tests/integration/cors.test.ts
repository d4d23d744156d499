// CORS over real sockets. Without CORS_ORIGINS the API is same-origin: no CORS header, no preflight
// route, any Origin may upgrade. With it: a listed origin's replies carry Access-Control-Allow-Origin
// (errors too) and its preflights get 204; another origin gets no CORS header and a 403 preflight;
// every reply says Vary: Origin; WebSocket upgrades from unlisted pages of other hosts are refused.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../../src/config.js";
import { exchange, type RawResponse } from "../helpers/rawHttp.js";
import { ServerExitedError, startServer, type TestServer, userJwt } from "../helpers/server.js";

const SHOP = "https://shop.example";
const MOBILE = "https://m.shop.example";
const EVIL = "https://evil.example";

let open: TestServer;
let listed: TestServer;

beforeAll(async () => {
  [open, listed] = await Promise.all([
    startServer(),
    startServer({ env: { CORS_ORIGINS: `${SHOP}, ${MOBILE}`, RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "1" } }),
  ]);
});

afterAll(async () => {
  await Promise.all([open?.stop(), listed?.stop()]);
  open?.cleanup();
  listed?.cleanup();
});

async function request(
  server: TestServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const [response] = await exchange(server.port, [{ method, path, headers }]);
  return response!;
}

const header = (response: RawResponse, name: string) => response.headers[name]?.join(", ");

function preflight(server: TestServer, origin: string, path = "/v1/reservations") {
  return request(server, "OPTIONS", path, {
    origin,
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type, queue-token",
  });
}

/** Opens a WebSocket with an Origin header; resolves with "open" or the refusal's status. */
function upgrade(server: TestServer, origin: string | undefined, host?: string): Promise<number | "open"> {
  const headers: Record<string, string> = { authorization: `Bearer ${userJwt("cors-ws")}` };
  if (host) headers.host = host;
  const socket = new WebSocket(server.wsUrl, { headers, ...(origin ? { origin } : {}) });
  return new Promise((done, fail) => {
    socket.once("open", () => {
      socket.close();
      done("open");
    });
    socket.once("unexpected-response", (_req, res) => done(res.statusCode ?? 0));
    socket.once("error", fail);
  });
}

describe("without CORS_ORIGINS (same-origin only)", () => {
  it("adds no CORS header and no Vary, and OPTIONS is an unknown route", async () => {
    const reply = await request(open, "GET", "/v1/balance", { origin: SHOP, authorization: `Bearer ${userJwt("a")}` });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
    expect(reply.headers.vary).toBeUndefined();
    expect((await preflight(open, SHOP)).status).toBe(404);
  });

  it("lets any Origin upgrade a WebSocket (the server does not know its public origin)", async () => {
    expect(await upgrade(open, EVIL)).toBe("open");
  });
});

describe("with CORS_ORIGINS", () => {
  it("a listed origin's replies carry its origin, Vary: Origin and the exposed headers; errors too", async () => {
    for (const origin of [SHOP, MOBILE]) {
      // One request per user: this server's budget is one request a second.
      const auth = { authorization: `Bearer ${userJwt(`cors-user-${origin.length}`)}` };
      for (const [method, path, headers, status] of [
        ["GET", "/v1/balance", { ...auth, "x-request-id": "cors-1" }, 200],
        ["GET", "/v1/balance", {}, 401],
        ["GET", "/v1/nope", {}, 404],
        ["HEAD", "/openapi.json", {}, 200],
        ["GET", "/asyncapi.json", {}, 200],
      ] as const) {
        const reply = await request(listed, method, path, { ...headers, origin });
        const what = `${origin} ${method} ${path}`;
        expect(reply.status, what).toBe(status);
        expect(reply.headers["access-control-allow-origin"], what).toEqual([origin]);
        expect(reply.headers.vary, what).toEqual(["Origin"]);
        expect(header(reply, "access-control-expose-headers"), what).toBe("x-request-id, retry-after, etag");
      }
    }
  });

  it("a 429 exposes Retry-After to a listed origin", async () => {
    const headers = { origin: SHOP, authorization: `Bearer ${userJwt("cors-busy")}` };
    const [, second] = await exchange(listed.port, [
      { method: "GET", path: "/v1/balance", headers },
      { method: "GET", path: "/v1/balance", headers },
    ]);
    expect(second!.status).toBe(429);
    expect(Number(header(second!, "retry-after"))).toBeGreaterThan(0);
    expect(header(second!, "access-control-allow-origin")).toBe(SHOP);
    expect(header(second!, "access-control-expose-headers")).toContain("retry-after");
  });

  it("another origin, or none, gets no CORS header but still Vary: Origin", async () => {
    for (const headers of [
      { origin: EVIL },
      { origin: "null" },
      {},
      { origin: `${SHOP}/` },
      { origin: "https://SHOP.example" },
    ] as Record<string, string>[]) {
      const reply = await request(listed, "GET", "/healthz", headers);
      expect(reply.status).toBe(200);
      expect(reply.headers["access-control-allow-origin"], JSON.stringify(headers)).toBeUndefined();
      expect(reply.headers.vary).toEqual(["Origin"]);
    }
  });

  it("a listed origin's preflight is 204 with the methods, headers and max-age; another origin's is 403", async () => {
    const ok = await preflight(listed, MOBILE);
    expect(ok.status).toBe(204);
    expect(ok.body.length).toBe(0);
    expect(ok.headers["content-length"]).toBeUndefined();
    expect(header(ok, "access-control-allow-origin")).toBe(MOBILE);
    expect(header(ok, "access-control-allow-methods")).toBe("GET, HEAD, POST, PATCH, DELETE");
    expect(header(ok, "access-control-allow-headers")).toBe(
      "authorization, content-type, idempotency-key, if-none-match, queue-token, x-request-id",
    );
    expect(Number(header(ok, "access-control-max-age"))).toBeGreaterThan(0);
    expect(header(ok, "vary")).toBe("Origin");
    expect(header(ok, "x-content-type-options")).toBe("nosniff");

    const refused = await preflight(listed, EVIL);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body.toString()).error.code).toBe("FORBIDDEN");
    expect(Object.keys(refused.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);

    // An OPTIONS that is not a preflight is what it was: an unknown route.
    expect((await request(listed, "OPTIONS", "/v1/reservations", { origin: SHOP })).status).toBe(404);
  });

  it("WebSocket upgrades: listed origins, the server's own host and non-browsers are let in; other pages get 403", async () => {
    expect(await upgrade(listed, SHOP)).toBe("open");
    expect(await upgrade(listed, undefined)).toBe("open");
    // A page served by this server itself (same host, whatever the scheme behind a TLS proxy).
    expect(await upgrade(listed, `http://127.0.0.1:${listed.port}`)).toBe("open");
    expect(await upgrade(listed, "https://tickets.example", "tickets.example")).toBe("open");
    expect(await upgrade(listed, EVIL)).toBe(403);
    expect(await upgrade(listed, "null")).toBe(403);
    expect(await upgrade(listed, `http://127.0.0.1:${listed.port + 1}`)).toBe(403);
  });
});

describe("CORS_ORIGINS validation", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "ticketing-cors-config-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = (value: string) => ({
    DATA_DIR: dataDir,
    AUTH_SECRET: "x".repeat(32),
    ADMIN_TOKEN: "y".repeat(32),
    CORS_ORIGINS: value,
  });

  it("takes a comma-separated list of exact origins; unset or blank is none", () => {
    expect(loadConfig(env(`${SHOP},${MOBILE}, http://localhost:3000`)).corsOrigins).toEqual([
      SHOP,
      MOBILE,
      "http://localhost:3000",
    ]);
    expect(loadConfig(env("")).corsOrigins).toEqual([]);
  });

  it.each([
    ["a trailing slash", `${SHOP}/`, `did you mean ${SHOP}?`],
    ["a path", `${SHOP}/app`, `did you mean ${SHOP}?`],
    ["upper case", "https://Shop.example", `did you mean ${SHOP}?`],
    ["a default port", "https://shop.example:443", `did you mean ${SHOP}?`],
    ["a wildcard", "*", "not an exact origin"],
    ["no scheme", "shop.example", "not an exact origin"],
    ["another scheme", "ftp://shop.example", "not an exact origin"],
  ])("refuses %s", (_, value, message) => {
    expect(() => loadConfig(env(value))).toThrow(message);
  });

  it("a bad list stops the server with exit code 2", async () => {
    const failure = await startServer({ env: { CORS_ORIGINS: "*" } }).catch((error) => error);
    expect(failure).toBeInstanceOf(ServerExitedError);
    expect((failure as ServerExitedError).exitCode).toBe(2);
    expect((failure as ServerExitedError).output).toContain("CORS_ORIGINS");
  });
});
