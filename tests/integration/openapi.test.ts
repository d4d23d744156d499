// /openapi.json: generated from the ops' schemas, and in step with the router — every route the
// server registers is documented, and every documented route is registered; Redocly's recommended
// rules accept it; GET /v1/ws without an upgrade is the 426 it declares.
import type { TemplatedApp } from "uWebSockets.js";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dispatcher } from "../../src/api/dispatch.js";
import { buildOpenApi, openApiPath } from "../../src/api/openapi.js";
import { ops } from "../../src/api/ops/index.js";
import { registerHttpRoutes } from "../../src/http/routes.js";
import { registerWebRoutes } from "../../src/http/web.js";
import { registerWebSocket } from "../../src/ws/routes.js";
import { http, WsClient } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const METHODS: Record<string, string> = {
  get: "get",
  post: "post",
  del: "delete",
  put: "put",
  patch: "patch",
  ws: "get",
};
/** Registrations that add no documented route: HEAD twins of GET routes (tested in http.headers). */
const UNDOCUMENTED = new Set(["head"]);

/** A stand-in uWS app that records what the server's registration code registers. */
function recordRoutes(register: (app: TemplatedApp) => void): Set<string> {
  const routes = new Set<string>();
  const app = new Proxy({} as TemplatedApp, {
    get: (_target, name: string) => (path: string) => {
      if (name === "any" && path === "/*") return app; // the catch-all 404
      if (UNDOCUMENTED.has(name)) return app;
      const method = METHODS[name];
      if (!method) throw new Error(`unexpected registration app.${name}(${path})`);
      routes.add(`${method} ${openApiPath(path)}`);
      return app;
    },
  });
  register(app);
  return routes;
}

let server: TestServer;
let document: { openapi: string; paths: Record<string, Record<string, any>> };

beforeAll(async () => {
  server = await startServer();
  const reply = await http(server, "GET", "/openapi.json");
  expect(reply.status).toBe(200);
  document = reply.body;
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 and lists exactly the routes the server registers", () => {
    expect(document.openapi).toBe("3.1.0");
    const deps = { dispatcher: {} as Dispatcher } as any;
    const registered = recordRoutes((app) => {
      registerHttpRoutes(app, deps);
      registerWebSocket(app, deps);
      registerWebRoutes(app, { serveSourceMaps: true });
    });
    // The generator as the source tree has it (the served document is the built copy of it).
    const generated = buildOpenApi(ops, "test") as unknown as typeof document;
    expect(document.paths).toEqual(generated.paths);
    const documented = new Set(
      Object.entries(generated.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`)),
    );
    expect(
      [...registered].filter((route) => !documented.has(route)),
      "registered but not documented",
    ).toEqual([]);
    expect(
      [...documented].filter((route) => !registered.has(route)),
      "documented but not registered",
    ).toEqual([]);
    expect(registered.size).toBeGreaterThan(15);
  });

  it("every documented route answers on the real server (no 'no route' 404)", async () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const method of Object.keys(methods)) {
        const concrete = path.replace(/\{[^}]+\}/g, path.startsWith("/assets") ? "app.js" : "1");
        const reply = await http(server, method.toUpperCase(), concrete);
        const noRoute = reply.status === 404 && /no route/.test(reply.body?.error?.message ?? "");
        expect(
          noRoute && path !== "/v1/dev/login",
          `${method} ${concrete}: ${reply.status} ${reply.text.slice(0, 80)}`,
        ).toBe(false);
      }
    }
  });

  it("takes request and response bodies from the op schemas", () => {
    for (const op of ops) {
      if (!op.http) continue;
      const operation = document.paths[openApiPath(op.http.path)]![op.http.method.toLowerCase()];
      expect(operation.operationId).toBe(op.name);
      const success = operation.responses[String(op.http.status)].content["application/json"].schema;
      // An object, or a choice of objects (seats.list with or without compact).
      for (const schema of success.anyOf ?? [success]) expect(schema.type).toBe("object");
    }
    const hold = document.paths["/v1/reservations"]!.post;
    expect(hold.requestBody.content["application/json"].schema.required).toEqual(["scheduleId", "seatNo"]);
    expect(hold.parameters).toContainEqual(
      expect.objectContaining({ name: "Queue-Token", in: "header", required: true }),
    );
    const created = hold.responses["201"].content["application/json"].schema;
    expect(created.properties.status).toEqual({ type: "string", const: "held" });
    const pay = document.paths["/v1/payments"]!.post;
    expect(pay.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header" }));
    const seats = document.paths["/v1/schedules/{scheduleId}/seats"]!.get;
    expect(seats.parameters[0]).toMatchObject({ name: "scheduleId", in: "path", schema: { type: "integer" } });
    const [full, compact] = seats.responses["200"].content["application/json"].schema.anyOf;
    expect(full.properties.seats.items.properties.status.enum).toEqual(["available", "held", "sold"]);
    expect(compact.properties.compact).toEqual({ type: "boolean", const: true });
    expect(seats.parameters).toContainEqual(expect.objectContaining({ name: "compact", in: "query" }));
    const layout = document.paths["/v1/schedules/{scheduleId}/layout"]!.get;
    expect(Object.keys(layout.responses)).toEqual(expect.arrayContaining(["200", "304"]));
    expect(Object.keys(layout.responses["200"].headers)).toEqual(["X-Request-Id", "ETag", "Cache-Control"]);
    expect(layout.parameters).toContainEqual(expect.objectContaining({ name: "If-None-Match", in: "header" }));
  });
});

/** Rules of Redocly's recommended set that this document breaks on purpose, each with its reason. */
const JUSTIFIED_WARNINGS: Record<string, string> = {
  "info-license #/info": "the project has no licence to name (package.json is private and names none)",
  "operation-4xx-response #/paths/~1healthz/get/responses": "/healthz answers 200 or 503, never a 4xx",
  "operation-4xx-response #/paths/~1openapi.json/get/responses": "a fixed document: 200, never a 4xx",
  "operation-4xx-response #/paths/~1asyncapi.json/get/responses": "a fixed document: 200, never a 4xx",
  "operation-2xx-response #/paths/~1v1~1ws/get/responses": "its success is 101 Switching Protocols, not a 2xx",
};

const run = promisify(execFile);

describe("Redocly lint (recommended rules)", () => {
  it("finds no error in the served document, and no warning beyond the justified ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "openapi-lint-"));
    try {
      const file = join(dir, "openapi.json");
      writeFileSync(file, JSON.stringify(document));
      const redocly = join(import.meta.dirname, "../../node_modules/.bin/redocly");
      const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };
      // Exit code 1 when there are errors: the report is on stdout either way.
      const { stdout } = await run(redocly, ["lint", file, "--extends=recommended", "--format=json"], { env }).catch(
        (failure: { stdout?: string }) => ({ stdout: failure.stdout ?? "" }),
      );
      const report = JSON.parse(stdout) as {
        problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
      };
      const problems = report.problems.map((p) => ({
        key: `${p.ruleId} ${p.location[0]?.pointer}`,
        severity: p.severity,
        message: p.message,
      }));
      for (const p of problems.filter((p) => p.severity !== "error")) {
        console.log(`redocly ${p.severity}: ${p.key}: ${p.message} (${JUSTIFIED_WARNINGS[p.key] ?? "NOT JUSTIFIED"})`);
      }
      expect(problems.filter((p) => p.severity === "error")).toEqual([]);
      expect(problems.filter((p) => !(p.key in JUSTIFIED_WARNINGS)).map((p) => `${p.key}: ${p.message}`)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("GET /v1/ws without an upgrade", () => {
  it("is 426 UPGRADE_REQUIRED with Upgrade: websocket, as the document declares (HEAD too)", async () => {
    const declared = document.paths["/v1/ws"]!.get.responses["426"];
    expect(declared.headers.Upgrade.schema.const).toBe("websocket");
    expect(declared.content["application/json"].schema.properties.error.properties.code.enum).toEqual([
      "UPGRADE_REQUIRED",
    ]);
    const reply = await http(server, "GET", "/v1/ws");
    expect(reply.status).toBe(426);
    expect(reply.body.error.code).toBe("UPGRADE_REQUIRED");
    expect(reply.headers.get("upgrade")).toBe("websocket");
    const head = await http(server, "HEAD", "/v1/ws");
    expect(head.status).toBe(426);
    expect(head.headers.get("upgrade")).toBe("websocket");
    // An upgrade on the same path still works.
    const socket = await WsClient.connect(server, "u-426");
    expect((await socket.request("balance.get")).ok).toBe(true);
    socket.close();
  });
});
