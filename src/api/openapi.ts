// The OpenAPI 3.1 document, generated from the ops' own request and result schemas and from the
// error codes each op can answer (opErrors.ts).
import { z } from "zod";
import type { ErrorCode } from "../errors.js";
import { ERROR_MEANING } from "./errorMeanings.js";
import { type JsonSchema, jsonSchemaOf } from "./jsonSchema.js";
import type { Op } from "./op.js";
import { byStatus, errorCodesOf } from "./opErrors.js";
import { errorBodySchema } from "./pushSchemas.js";

const ERROR_REF = { $ref: "#/components/schemas/Error" };
const REQUEST_ID = { $ref: "#/components/headers/X-Request-Id" };
const RETRY_AFTER = { $ref: "#/components/headers/Retry-After" };
/** The headers of a reply cached by its ETag (HttpRoute.cache). */
const CACHED_HEADERS = {
  ETag: { description: "the version of this body, for If-None-Match", schema: { type: "string" } },
  "Cache-Control": {
    description: "only the caller's own cache may keep it, asking again each time",
    schema: { type: "string", const: "private, no-cache" },
  },
};

const TAGS = [
  { name: "queue", description: "the waiting room: a queue token, admitted into the active set in turn" },
  { name: "concerts", description: "the catalog (needs an active queue token)" },
  { name: "schedules", description: "a concert's dates (needs an active queue token)" },
  { name: "seats", description: "seat maps; live over the WebSocket (needs an active queue token)" },
  { name: "reservations", description: "seat holds: create, read, release" },
  { name: "payments", description: "paying holds from the balance (Idempotency-Key)" },
  { name: "balance", description: "the caller's balance (charges take an Idempotency-Key)" },
  { name: "admin", description: "ADMIN_TOKEN only" },
  { name: "dev", description: "demo sign-in (DEV_LOGIN; never in production)" },
  { name: "websocket", description: "GET /v1/ws: the WebSocket protocol, described in /asyncapi.json" },
  { name: "operations", description: "health, metrics and these documents" },
  { name: "web page", description: "the live seat-map page and its files" },
];

function json(schema: z.ZodType | JsonSchema): object {
  return { "application/json": { schema: schema instanceof z.ZodType ? jsonSchemaOf(schema, "output") : schema } };
}

/** One response per status; its codes narrow the Error schema and are named in its description. */
function errorResponses(codes: readonly ErrorCode[], withRequestId: boolean): Record<string, object> {
  const responses: Record<string, object> = {};
  for (const [status, group] of byStatus(codes)) {
    const headers: Record<string, object> = {};
    if (withRequestId) headers["X-Request-Id"] = REQUEST_ID;
    if (status === 429 || status === 503) headers["Retry-After"] = RETRY_AFTER;
    const schema = { allOf: [ERROR_REF], properties: { error: { properties: { code: { enum: group } } } } };
    responses[String(status)] = {
      description: group.map((code) => `${code}: ${ERROR_MEANING[code]}`).join("; "),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: json(schema),
    };
  }
  return responses;
}

/** Routes served outside the op table (src/http/routes.ts, src/http/web.ts, src/ws/routes.ts). */
const OTHER_ROUTES: Record<string, Record<string, object>> = {
  "/healthz": {
    get: {
      operationId: "healthz",
      summary: "liveness: 200 while serving, 503 while shutting down or once the database file was deleted or replaced",
      tags: ["operations"],
      security: [],
      responses: {
        "200": { description: "serving", content: json(z.object({ ok: z.literal(true) })) },
        ...errorResponses(["UNAVAILABLE"], false),
      },
    },
  },
  "/metrics": {
    get: {
      operationId: "metrics",
      summary: "Prometheus metrics (needs METRICS_TOKEN when one is set)",
      tags: ["operations"],
      security: [{}, { metrics: [] }],
      responses: {
        "200": { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } },
        ...errorResponses(["UNAUTHENTICATED", "INTERNAL"], false),
      },
    },
  },
  "/openapi.json": {
    get: {
      operationId: "openapi",
      summary: "this document",
      tags: ["operations"],
      security: [],
      responses: {
        "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } },
      },
    },
  },
  "/asyncapi.json": {
    get: {
      operationId: "asyncapi",
      summary: "the WebSocket protocol of /v1/ws: every op, its replies and errors, the pushes, both encodings",
      tags: ["operations"],
      security: [],
      responses: {
        "200": { description: "AsyncAPI 3.0", content: { "application/json": { schema: { type: "object" } } } },
      },
    },
  },
  "/v1/ws": {
    get: {
      operationId: "websocket",
      summary: "WebSocket upgrade: every op as {id, op, args} frames, plus seats and queue pushes (/asyncapi.json)",
      tags: ["websocket"],
      security: [{ user: [] }, { userQuery: [] }],
      responses: {
        "101": { description: "switching protocols: the protocol of /asyncapi.json follows" },
        "403": {
          description:
            "FORBIDDEN: the page's Origin is not allowed (CORS_ORIGINS is set and lists neither it nor the server's own host)",
          content: json({
            allOf: [ERROR_REF],
            properties: { error: { properties: { code: { enum: ["FORBIDDEN"] } } } },
          }),
        },
        ...errorResponses(["UNAUTHENTICATED", "RATE_LIMITED"], false),
        "426": {
          description: `UPGRADE_REQUIRED: ${ERROR_MEANING.UPGRADE_REQUIRED}`,
          headers: {
            Upgrade: { description: "the protocol to upgrade to", schema: { type: "string", const: "websocket" } },
          },
          content: json({
            allOf: [ERROR_REF],
            properties: { error: { properties: { code: { enum: ["UPGRADE_REQUIRED"] } } } },
          }),
        },
      },
    },
  },
  "/": {
    get: {
      operationId: "page",
      summary: "the live seat-map page",
      tags: ["web page"],
      security: [],
      responses: {
        "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } },
        "404": { description: "NOT_FOUND: the page is not built (npm run build)", content: json(ERROR_REF) },
      },
    },
  },
  "/favicon.ico": {
    get: {
      operationId: "favicon",
      summary: "the page's icon (SVG)",
      tags: ["web page"],
      security: [],
      responses: {
        "200": { description: "SVG", content: { "image/svg+xml": { schema: { type: "string" } } } },
        "404": { description: "NOT_FOUND: the page is not built (npm run build)", content: json(ERROR_REF) },
      },
    },
  },
  "/assets/{file}": {
    get: {
      operationId: "asset",
      summary: "the page's script, style sheet and icon, by content-hashed name (cached as immutable)",
      tags: ["web page"],
      security: [],
      parameters: [{ name: "file", in: "path", required: true, schema: { type: "string" } }],
      responses: {
        "200": { description: "a static file" },
        "404": { description: "NOT_FOUND: no such file", content: json(ERROR_REF) },
      },
    },
  },
};

/** `/v1/reservations/:reservationId` → `/v1/reservations/{reservationId}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, "{$1}");
}

const SECURITY = {
  none: [],
  admin: [{ admin: [] }],
  user: [{ user: [] }],
  active: [{ user: [] }],
} as const;

function operation(op: Op): object {
  const route = op.http!;
  const args = jsonSchemaOf(op.args, "input") as { properties?: Record<string, object>; required?: string[] };
  const properties = { ...(args.properties ?? {}) };
  const required = new Set(args.required ?? []);
  const parameters: object[] = [];
  for (const [, name] of route.path.matchAll(/:([A-Za-z]+)/g)) {
    parameters.push({ name, in: "path", required: true, schema: properties[name!] ?? { type: "string" } });
    delete properties[name!];
    required.delete(name!);
  }
  for (const name of route.query ?? []) {
    parameters.push({ name, in: "query", required: false, schema: properties[name] ?? { type: "string" } });
    delete properties[name];
    required.delete(name);
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
  parameters.push({
    name: "X-Request-Id",
    in: "header",
    required: false,
    description: "the request's id in the server's log and in the reply's X-Request-Id (up to 64 characters)",
    schema: { type: "string", maxLength: 64 },
  });
  const cached = route.cache === "etag";
  if (cached) {
    parameters.push({
      name: "If-None-Match",
      in: "header",
      required: false,
      description: "the ETag of the caller's copy: 304 without a body while it is current",
      schema: { type: "string" },
    });
  }
  const successHeaders: Record<string, object> = { "X-Request-Id": REQUEST_ID, ...(cached ? CACHED_HEADERS : {}) };
  const websocketOp = op.gate !== "admin" && op.name !== "dev.login";
  const result: Record<string, unknown> = {
    operationId: op.name,
    summary: op.summary,
    tags: [op.name.split(".")[0]],
    ...(websocketOp ? { "x-websocket-op": op.name } : {}),
    security: SECURITY[op.gate],
    parameters,
    responses: {
      [String(route.status)]: { description: "success", headers: successHeaders, content: json(op.result) },
      ...(cached
        ? {
            "304": {
              description: "not modified: the If-None-Match ETag names the current version",
              headers: successHeaders,
            },
          }
        : {}),
      ...errorResponses(errorCodesOf(op, "http"), true),
    },
  };
  if (route.method === "POST" || route.method === "PATCH") {
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
        "(x-websocket-op; the protocol is /asyncapi.json). Errors are {error: {code, message}}; each " +
        "operation lists the codes it can answer, by status. Every 429 and 503 carries Retry-After.",
    },
    servers: [{ url: "/", description: "the server that serves this document" }],
    tags: TAGS,
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(errorBodySchema, "output") },
      headers: {
        "X-Request-Id": {
          description: "the request's id: the client's X-Request-Id, or one the server made; logged with the request",
          schema: { type: "string" },
        },
        "Retry-After": {
          description: "seconds to wait before trying again",
          schema: { type: "integer", minimum: 1 },
        },
      },
      securitySchemes: {
        user: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "HS256 user JWT (sub, exp)" },
        userQuery: {
          type: "apiKey",
          in: "query",
          name: "access_token",
          description: "the user JWT as ?access_token= (WebSocket upgrades from browsers, which cannot set headers)",
        },
        admin: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN" },
        metrics: { type: "http", scheme: "bearer", description: "METRICS_TOKEN, when the server has one" },
      },
    },
  };
}
