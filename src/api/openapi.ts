// The OpenAPI 3.1 document, generated from the ops' own request and result schemas.
import { z } from "zod";
import { ERROR_STATUS } from "../errors.js";
import type { Op } from "./op.js";
import { errorBodySchema } from "./pushes.js";

/** Routes served outside the op table (src/http/routes.ts, src/http/web.ts, src/ws/routes.ts). */
const OTHER_ROUTES: Record<string, Record<string, object>> = {
  "/healthz": {
    get: {
      summary: "liveness: 200 while serving, 503 while shutting down or once the database file was deleted or replaced",
      tags: ["operations"],
      responses: {
        "200": { description: "serving", content: json(z.object({ ok: z.literal(true) })) },
        "503": { description: "shutting down, or storage lost (with Retry-After)", content: json(errorBodySchema) },
      },
    },
  },
  "/metrics": {
    get: {
      summary: "Prometheus metrics",
      tags: ["operations"],
      responses: {
        "200": { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } },
      },
    },
  },
  "/openapi.json": {
    get: {
      summary: "this document",
      tags: ["operations"],
      responses: {
        "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } },
      },
    },
  },
  "/v1/ws": {
    get: {
      summary: "WebSocket upgrade: every op as {id, op, args} frames, plus seats and queue pushes (docs/websocket.md)",
      tags: ["websocket"],
      parameters: [
        {
          name: "access_token",
          in: "query",
          required: false,
          description: "the user JWT, for clients that cannot set Authorization (browsers)",
          schema: { type: "string" },
        },
      ],
      security: [{ user: [] }, {}],
      responses: {
        "101": { description: "switching protocols" },
        "401": { description: "no valid JWT", content: json(errorBodySchema) },
      },
    },
  },
  "/": {
    get: {
      summary: "the live seat-map page",
      tags: ["web page"],
      responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } },
    },
  },
  "/favicon.ico": {
    get: {
      summary: "the page's icon (SVG)",
      tags: ["web page"],
      responses: { "200": { description: "SVG", content: { "image/svg+xml": { schema: { type: "string" } } } } },
    },
  },
  "/assets/{file}": {
    get: {
      summary: "the page's script, style sheet and icon, by content-hashed name (cached as immutable)",
      tags: ["web page"],
      parameters: [{ name: "file", in: "path", required: true, schema: { type: "string" } }],
      responses: {
        "200": { description: "a static file" },
        "404": { description: "no such file", content: json(errorBodySchema) },
      },
    },
  },
};

function schemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

function json(schema: z.ZodType): object {
  return { "application/json": { schema: schemaOf(schema, "output") } };
}

/** `/v1/reservations/:reservationId` → `/v1/reservations/{reservationId}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, "{$1}");
}

function operation(op: Op): object {
  const route = op.http!;
  const args = schemaOf(op.args, "input") as { properties?: Record<string, object>; required?: string[] };
  const properties = { ...(args.properties ?? {}) };
  const required = new Set(args.required ?? []);
  const parameters: object[] = [];
  for (const [, name] of route.path.matchAll(/:([A-Za-z]+)/g)) {
    parameters.push({ name, in: "path", required: true, schema: properties[name!] ?? { type: "string" } });
    delete properties[name!];
    required.delete(name!);
  }
  if ("idempotencyKey" in properties) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "the same user, key and body within 24 h returns the first response again",
      schema: properties.idempotencyKey,
    });
    delete properties.idempotencyKey;
    required.delete("idempotencyKey");
  }
  const queueTokenOptional = "token" in properties;
  delete properties.token;
  required.delete("token");
  if (op.gate === "active" || queueTokenOptional) {
    parameters.push({
      name: "Queue-Token",
      in: "header",
      required: op.gate === "active",
      description: op.gate === "active" ? "an active queue token of the caller" : "the caller's current queue token",
      schema: { type: "string" },
    });
  }
  const result: Record<string, unknown> = {
    operationId: op.name,
    summary: op.summary,
    tags: [op.name.split(".")[0]],
    "x-websocket-op": op.gate === "admin" || op.name === "dev.login" ? undefined : op.name,
    security: op.gate === "admin" ? [{ admin: [] }] : op.gate === "none" ? [] : [{ user: [] }],
    parameters,
    responses: {
      [String(route.status)]: { description: "success", content: json(op.result) },
      default: {
        description: `an error of the contract: ${Object.entries(ERROR_STATUS)
          .map(([code, status]) => `${status} ${code}`)
          .join(", ")}`,
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      },
    },
  };
  if (result["x-websocket-op"] === undefined) delete result["x-websocket-op"];
  if (route.method === "POST") {
    const body: Record<string, unknown> = { type: "object", properties };
    if (required.size > 0) body.required = [...required];
    result.requestBody = { required: false, content: { "application/json": { schema: body } } };
  }
  return result;
}

export function buildOpenApi(ops: readonly Op[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of ops) {
    if (!op.http) continue;
    const path = openApiPath(op.http.path);
    paths[path] ??= {};
    paths[path][op.http.method.toLowerCase()] = operation(op);
  }
  for (const [path, methods] of Object.entries(OTHER_ROUTES)) paths[path] = { ...paths[path], ...methods };
  return {
    openapi: "3.1.0",
    info: {
      title: "Ticketing server",
      version,
      description:
        "Waiting room, seat holds, payments and live seat maps. Every op is also a WebSocket op " +
        "(x-websocket-op; protocol in docs/websocket.md). Errors are {error: {code, message}}.",
    },
    paths,
    components: {
      schemas: { Error: schemaOf(errorBodySchema, "output") },
      securitySchemes: {
        user: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "HS256 user JWT (sub, exp)" },
        admin: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN" },
      },
    },
  };
}
