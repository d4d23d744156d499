// /openapi.json: generated from the ops' schemas, and in step with the router — every route the
// server registers is documented, and every documented route is registered.
import type { TemplatedApp } from "uWebSockets.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dispatcher } from "../../src/api/dispatch.js";
import { buildOpenApi, openApiPath } from "../../src/api/openapi.js";
import { ops } from "../../src/api/ops/index.js";
import { registerHttpRoutes } from "../../src/http/routes.js";
import { registerWebRoutes } from "../../src/http/web.js";
import { registerWebSocket } from "../../src/ws/routes.js";
import { http } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const METHODS: Record<string, string> = {
  get: "get",
  post: "post",
  del: "delete",
  put: "put",
  patch: "patch",
  ws: "get",
};

/** A stand-in uWS app that records what the server's registration code registers. */
function recordRoutes(register: (app: TemplatedApp) => void): Set<string> {
  const routes = new Set<string>();
  const app = new Proxy({} as TemplatedApp, {
    get: (_target, name: string) => (path: string) => {
      if (name === "any" && path === "/*") return app; // the catch-all 404
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
      if (path === "/v1/ws") continue; // an upgrade, tested by the WebSocket suites
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
      expect(success.type).toBe("object");
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
    expect(
      seats.responses["200"].content["application/json"].schema.properties.seats.items.properties.status.enum,
    ).toEqual(["available", "held", "sold"]);
  });
});
