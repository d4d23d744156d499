// Response headers over real sockets: the page's strict CSP, protective headers on every reply,
// caching (no-store for the API, immutable hashed assets), source maps only outside production,
// HEAD wherever GET is (no body bytes), the favicon, and Retry-After on every 429 and 503.
import { execFileSync } from "node:child_process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ops } from "../../src/api/ops/index.js";
import { activeToken, adminHeaders, createConcert, type HttpReply, http } from "../helpers/client.js";
import { exchange } from "../helpers/rawHttp.js";
import { startServer, type TestServer, testStore, userJwt } from "../helpers/server.js";

const NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'";
const IMMUTABLE = "public, max-age=31536000, immutable";

let s: TestServer;
let page: HttpReply;
/** The page's asset references, e.g. /assets/app-ABCDEFGH.js. */
let assets: string[];
let token: string;
/** A reservation of u-hdr-active, for the GET op routes that read one. */
let reservationId: number;
/** The schedule of the concert made for these tests. */
let scheduleId: number;
/** Path parameters of the GET op routes that name something that exists. */
let ids: Record<string, number>;
let onSaleConcertId: number;

beforeAll(async () => {
  s = await startServer({ env: { MAX_BODY_BYTES: "1024" } });
  const concert = await createConcert(s);
  scheduleId = concert.schedules[0]!.id;
  token = await activeToken(s, "u-hdr-active");
  const hold = await http(s, "POST", "/v1/reservations", {
    user: "u-hdr-active",
    queueToken: token,
    body: { scheduleId: concert.schedules[0]!.id, seatNo: 2 },
  });
  reservationId = hold.body.reservationId;
  ids = { concertId: concert.id, scheduleId: concert.schedules[0]!.id, reservationId };
  // onsale.get and draw.get need a concert with an on-sale (open at once, so no room gates the other routes).
  const onSale = await http(s, "POST", "/v1/admin/concerts", {
    headers: adminHeaders(s),
    body: { title: "on sale", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 1, price: 1 }], onSale: {} },
  });
  onSaleConcertId = onSale.body.id;
  page = await http(s, "GET", "/");
  assets = [...page.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
});

afterAll(async () => {
  await s?.stop();
  s?.cleanup();
});

const asset = (ext: string) => assets.find((path) => path.endsWith(ext))!;
const auth = (user: string) => ({ authorization: `Bearer ${userJwt(user)}` });

function expectProtected(reply: HttpReply, what: string): void {
  expect(reply.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(reply.headers.get("referrer-policy"), what).toBe("no-referrer");
  expect(reply.headers.get("content-security-policy") ?? "", what).toContain("frame-ancestors 'none'");
}

let everyKind: Promise<[string, HttpReply][]> | undefined;
/** Every kind of reply the server makes over HTTP, named for the test table (made once: holds change state). */
const everyKindOfReply = () => (everyKind ??= makeEveryKindOfReply());

async function makeEveryKindOfReply(): Promise<[string, HttpReply][]> {
  const hold = { scheduleId, seatNo: 1 };
  return [
    ["GET / (page)", page],
    ["GET script", await http(s, "GET", asset(".js"))],
    ["GET style sheet", await http(s, "GET", asset(".css"))],
    ["GET /favicon.ico", await http(s, "GET", "/favicon.ico")],
    ["GET /openapi.json", await http(s, "GET", "/openapi.json")],
    ["GET /healthz", await http(s, "GET", "/healthz")],
    ["GET /metrics", await http(s, "GET", "/metrics")],
    ["GET /v1/balance 200", await http(s, "GET", "/v1/balance", { user: "u-hdr-1" })],
    ["GET /v1/balance 401", await http(s, "GET", "/v1/balance")],
    [
      "POST /v1/reservations 201",
      await http(s, "POST", "/v1/reservations", { user: "u-hdr-active", queueToken: token, body: hold }),
    ],
    [
      "POST /v1/reservations 409",
      await http(s, "POST", "/v1/reservations", { user: "u-hdr-active", queueToken: token, body: hold }),
    ],
    ["POST /v1/balance/charge 400", await http(s, "POST", "/v1/balance/charge", { user: "u-hdr-1", rawBody: "{bad" })],
    ["GET /v1/reservations/999 404", await http(s, "GET", "/v1/reservations/999", { user: "u-hdr-1" })],
    ["GET /v1/nope 404", await http(s, "GET", "/v1/nope")],
    ["GET /nope 404", await http(s, "GET", "/nope")],
    ["GET /assets/nope.js 404", await http(s, "GET", "/assets/nope.js")],
    [
      "POST /v1/balance/charge 413",
      await http(s, "POST", "/v1/balance/charge", { user: "u-hdr-1", rawBody: "x".repeat(2048) }),
    ],
    [
      "POST /v1/admin/concerts 201",
      await http(s, "POST", "/v1/admin/concerts", {
        headers: adminHeaders(s),
        body: { title: "t", schedules: [{ startsAt: "2027-01-01T00:00:00Z", seatCount: 1, price: 1 }] },
      }),
    ],
  ];
}

describe("Content-Security-Policy, X-Content-Type-Options, Referrer-Policy", () => {
  test("the page's CSP allows only its own script, style, images and connections, and no framing", () => {
    expect(page.status).toBe(200);
    const policy = page.headers.get("content-security-policy") ?? "";
    const directives = new Map(
      policy.split(";").map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name!, values.join(" ")];
      }),
    );
    expect(Object.fromEntries(directives)).toMatchObject({
      "default-src": "'none'",
      "script-src": "'self'",
      "style-src": "'self'",
      "img-src": "'self'",
      "connect-src": "'self'",
      "frame-ancestors": "'none'",
      "base-uri": "'none'",
    });
    expect(policy).not.toMatch(/unsafe-|\*|data:|http:|https:/);
    // Nothing in the page needs an exception: no inline script or style.
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
  });

  test("every reply carries nosniff, Referrer-Policy no-referrer and a CSP; all but the page the restrictive one", async () => {
    for (const [what, reply] of await everyKindOfReply()) {
      expectProtected(reply, what);
      if (what !== "GET / (page)") expect(reply.headers.get("content-security-policy"), what).toBe(NOTHING_POLICY);
    }
  });
});

describe("Cache-Control", () => {
  test("every /v1 reply is no-store: successes and errors (400, 401, 404, 409, 413) alike", async () => {
    const v1 = (await everyKindOfReply()).filter(([what]) => what.includes(" /v1/"));
    expect(new Set(v1.map(([, reply]) => reply.status))).toEqual(new Set([200, 201, 400, 401, 404, 409, 413]));
    for (const [what, reply] of v1) expect(reply.headers.get("cache-control"), what).toBe("no-store");
  });

  test("the page is no-cache and names only content-hashed assets, which are served immutable", async () => {
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(assets).toHaveLength(3);
    for (const path of assets) {
      expect(path).toMatch(/^\/assets\/(app|favicon)-[A-Z0-9]{8}\.(js|css|svg)$/);
      const reply = await http(s, "GET", path);
      expect(reply.status, path).toBe(200);
      expect(reply.headers.get("cache-control"), path).toBe(IMMUTABLE);
    }
    expect(asset(".js")).toBeDefined();
    expect(asset(".css")).toBeDefined();
    expect((await http(s, "GET", asset(".js"))).headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await http(s, "GET", asset(".css"))).headers.get("content-type")).toMatch(/^text\/css/);
    // The unhashed names are gone: nothing could be cached under a name whose content changes.
    for (const old of ["/assets/app.js", "/assets/app.css", "/assets/index.html"]) {
      expect((await http(s, "GET", old)).status, old).toBe(404);
    }
  });
});

describe("favicon", () => {
  test("GET /favicon.ico is an SVG icon, and the page links its hashed copy", async () => {
    const icon = await http(s, "GET", "/favicon.ico");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.text).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const link = /<link rel="icon" href="([^"]+)" type="image\/svg\+xml"/.exec(page.text)?.[1];
    expect(link).toMatch(/^\/assets\/favicon-[A-Z0-9]{8}\.svg$/);
    expect((await http(s, "GET", link!)).text).toBe(icon.text);
  });
});

describe("source maps", () => {
  test("served in development: the map the script names is there", async () => {
    const script = await http(s, "GET", asset(".js"));
    const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(script.text)?.[1];
    expect(map).toMatch(/^app-[A-Z0-9]{8}\.js\.map$/);
    const reply = await http(s, "GET", `/assets/${map}`);
    expect(reply.status).toBe(200);
    expect(reply.body.sources.length).toBeGreaterThan(0);
  });

  test("with NODE_ENV=production every .map is 404, the page still works", async () => {
    const production = await startServer({ env: { NODE_ENV: "production" } });
    try {
      const home = await http(production, "GET", "/");
      expect(home.status).toBe(200);
      const script = await http(production, "GET", asset(".js"));
      expect(script.status).toBe(200);
      for (const map of [`${asset(".js")}.map`, `${asset(".css")}.map`]) {
        const reply = await http(production, "GET", map);
        expect(reply.status, map).toBe(404);
        expect(reply.body.error.code).toBe("NOT_FOUND");
      }
    } finally {
      await production.stop();
      production.cleanup();
    }
  });
});

describe("HEAD", () => {
  /** HEAD and GET of `path`: same status and headers, no body bytes after HEAD's headers. */
  async function expectHeadLikeGet(
    path: string,
    headers: Record<string, string> = {},
    sameLength = true,
  ): Promise<number> {
    // One connection each: a request pipelined behind one whose reply waits for the database goes
    // unanswered in this uWS build (docs/reliability.md), and on PostgreSQL every read waits.
    const [head] = await exchange(s.port, [{ method: "HEAD", path, headers }]);
    const [get] = await exchange(s.port, [{ method: "GET", path, headers }]);
    expect(head!.status, path).toBe(get!.status);
    expect(head!.body.length, path).toBe(0);
    const { date: _d1, "x-request-id": _r1, "content-length": headLength, ...headHeaders } = head!.headers;
    const { date: _d2, "x-request-id": _r2, "content-length": _l, connection: _c, ...getHeaders } = get!.headers;
    expect(headHeaders, path).toEqual(getHeaders);
    expect(headLength, path).toHaveLength(1);
    if (sameLength) expect(headLength, path).toEqual([String(get!.body.length)]);
    return head!.status;
  }

  test("the page, its assets, /favicon.ico, /healthz, /metrics and /openapi.json answer HEAD like GET", async () => {
    for (const path of ["/", ...assets, "/favicon.ico", "/healthz", "/openapi.json"]) {
      expect(await expectHeadLikeGet(path), path).toBe(200);
    }
    // /metrics changes between two requests, so its length may differ; the rest must match.
    const [head, get] = await exchange(s.port, [
      { method: "HEAD", path: "/metrics" },
      { method: "GET", path: "/metrics" },
    ]);
    expect(head!.status).toBe(200);
    expect(head!.headers["content-type"]).toEqual(get!.headers["content-type"]);
    expect(head!.headers["cache-control"]).toEqual(["no-store"]);
    expect(Number(head!.headers["content-length"]?.[0])).toBeGreaterThan(100);
  });

  test("every GET op route answers HEAD with the GET's authentication, checks and status", async () => {
    const getOps = ops.filter((op) => op.http?.method === "GET");
    expect(getOps.length).toBeGreaterThanOrEqual(5);
    for (const op of getOps) {
      const onSaleRoute = op.name === "onsale.get" || op.name === "draw.get";
      const path = op.http!.path.replace(/:([a-zA-Z]+)/g, (_, name: string) =>
        String(onSaleRoute ? onSaleConcertId : ids[name]),
      );
      // No credentials: refused; credentials without a queue token: gated routes refuse;
      // a bad id: 400; with everything: the op's own answer.
      await expectHeadLikeGet(path);
      await expectHeadLikeGet(path, auth("u-hdr-head"));
      await expectHeadLikeGet(op.http!.path.replace(/:[a-zA-Z]+/g, "x"), auth("u-hdr-active"));
      const status = await expectHeadLikeGet(path, { ...auth("u-hdr-active"), "queue-token": token });
      expect(status, op.name).toBe(200);
    }
    expect(await expectHeadLikeGet("/v1/balance")).toBe(401);
    expect(await expectHeadLikeGet("/v1/balance", auth("u-hdr-head"))).toBe(200);
    expect(await expectHeadLikeGet("/v1/concerts", auth("u-hdr-head"))).toBe(401); // no Queue-Token
    expect(await expectHeadLikeGet(`/v1/reservations/${reservationId}`, auth("u-hdr-active"))).toBe(200);
    expect(await expectHeadLikeGet(`/v1/reservations/${reservationId}`, auth("u-hdr-other"))).toBe(403);
  });

  test("HEAD of an unknown route or asset is a 404 without a body", async () => {
    expect(await expectHeadLikeGet("/assets/nope.js"), "/assets/nope.js").toBe(404);
    // The catch-all's message names the method ("no route HEAD /nope"), so only the length differs.
    for (const path of ["/v1/nope", "/nope", "/v1/payments"]) {
      expect(await expectHeadLikeGet(path, {}, false), path).toBe(404);
    }
  });
});

describe("Retry-After on 429 and 503", () => {
  test("a 429 carries Retry-After (seconds, as error.retryAfter) and no-store, for GET and HEAD", async () => {
    const limited = await startServer({ env: { RATE_LIMIT_PER_SECOND: "1", RATE_LIMIT_BURST: "1" } });
    try {
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await http(limited, "GET", "/v1/balance", { user: "u-hdr-rl" }));
      const refused = replies.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const reply of refused) {
        expect(reply.body.error.retryAfter).toBeGreaterThanOrEqual(1);
        expect(reply.headers.get("retry-after")).toBe(String(reply.body.error.retryAfter));
        expect(reply.headers.get("cache-control")).toBe("no-store");
      }
      const [head] = await exchange(limited.port, [{ method: "HEAD", path: "/v1/balance", headers: auth("u-hdr-rl") }]);
      expect(head!.status).toBe(429);
      expect(head!.headers["retry-after"]).toEqual([String(refused[0]!.body.error.retryAfter)]);
    } finally {
      await limited.stop();
      limited.cleanup();
    }
  });

  // A storage fault made on purpose: a file-size limit of one byte makes the next commit fail.
  const hasPrlimit = (() => {
    try {
      execFileSync("prlimit", ["--version"], { stdio: "ignore" });
      return process.platform === "linux";
    } catch {
      return false;
    }
  })();

  // On PostgreSQL: a constraint, added behind the server's back, that the next ledger row breaks.
  async function breakStorage(server: TestServer): Promise<void> {
    if (server.databaseUrl === undefined) {
      execFileSync("prlimit", ["--pid", String(server.child.pid), "--fsize=1"]);
      return;
    }
    const sql = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await sql`ALTER TABLE ledger ADD CONSTRAINT no_more_charges CHECK (amount < 0) NOT VALID`;
    } finally {
      await sql.end();
    }
  }

  test.runIf(hasPrlimit || testStore() === "postgres")(
    "a 503 (a commit that failed) carries Retry-After and no-store",
    async () => {
      const failing = await startServer({ env: { RATE_LIMIT_PER_SECOND: "0" } });
      try {
        const charge = () => http(failing, "POST", "/v1/balance/charge", { user: "u-hdr-503", body: { amount: 1 } });
        expect((await charge()).status).toBe(200);
        await breakStorage(failing);
        const reply = await charge();
        expect(reply.status, reply.text).toBe(503);
        expect(reply.body.error.code).toBe("UNAVAILABLE");
        expect(reply.body.error.retryAfter).toBeGreaterThanOrEqual(1);
        expect(reply.headers.get("retry-after")).toBe(String(reply.body.error.retryAfter));
        expect(reply.headers.get("cache-control")).toBe("no-store");
        expectProtected(reply, "503");
      } finally {
        await failing.kill();
        failing.cleanup();
      }
    },
  );
});
