// The AsyncAPI 3.0 document of the WebSocket protocol at /v1/ws, generated from the same zod
// schemas as /openapi.json: each op's request and replies, the pushes, both encodings, the errors.
import { z } from "zod";
import type { ErrorCode } from "../errors.js";
import { ERROR_MEANING } from "./errorMeanings.js";
import { type JsonSchema, jsonSchemaOf } from "./jsonSchema.js";
import type { Op } from "./op.js";
import { errorCodesOf } from "./opErrors.js";
import { errorBodyOf, queuePush, seatsPush } from "./pushSchemas.js";

/** A text frame is JSON, a binary frame MessagePack: every message comes in both. */
const ENCODINGS = [
  { suffix: "", contentType: "application/json", frame: "a text frame (JSON)" },
  { suffix: ".msgpack", contentType: "application/vnd.msgpack", frame: "a binary frame (MessagePack)" },
] as const;

const CHANNEL = { $ref: "#/channels/ws" };

const requestId = z.union([z.number(), z.string()]).describe("chosen by the client; echoed in the reply");

const schemaOf = (schema: z.ZodType, io: "input" | "output"): JsonSchema => jsonSchemaOf(schema, io, "draft-07");

/** The ops a WebSocket is for (the admin token travels only in HTTP headers, so admin ops are HTTP only). */
function overWebSocket(op: Op): boolean {
  return op.gate !== "admin";
}

function gateText(op: Op): string {
  switch (op.gate) {
    case "none":
      return "needs no session";
    case "user":
      return "the connection's user";
    case "active":
      return "needs an active queue token: the connection's last queue.check, or args.token";
    case "admin":
      return "admin";
  }
}

function codesText(codes: readonly ErrorCode[]): string {
  return codes.map((code) => `- \`${code}\`: ${ERROR_MEANING[code]}`).join("\n");
}

interface Catalog {
  schemas: Record<string, JsonSchema>;
  messages: Record<string, object>;
  /** The channel's messages: references to the components. */
  channelMessages: Record<string, object>;
}

/** Adds `name` (its payload schema once, a message per encoding) and returns the operation's references to it. */
function addMessage(
  catalog: Catalog,
  name: string,
  payload: JsonSchema,
  text: { title: string; summary: string; correlated: boolean },
): object[] {
  catalog.schemas[name] = payload;
  return ENCODINGS.map(({ suffix, contentType, frame }) => {
    const key = `${name}${suffix}`;
    catalog.messages[key] = {
      name: key,
      title: `${text.title}${suffix ? " (MessagePack)" : ""}`,
      summary: `${text.summary}, as ${frame}`,
      contentType,
      payload: { $ref: `#/components/schemas/${name}` },
      ...(text.correlated ? { correlationId: { $ref: "#/components/correlationIds/requestId" } } : {}),
    };
    catalog.channelMessages[key] = { $ref: `#/components/messages/${key}` };
    return { $ref: `#/channels/ws/messages/${key}` };
  });
}

function opOperation(catalog: Catalog, op: Op): object {
  const codes = errorCodesOf(op, "ws");
  const request = addMessage(
    catalog,
    `${op.name}.request`,
    schemaOf(
      z.object({
        id: requestId,
        op: z.literal(op.name),
        args: op.args.optional().describe("omitted means {}"),
      }),
      "input",
    ),
    { title: `${op.name} request`, summary: op.summary, correlated: true },
  );
  const result = addMessage(
    catalog,
    `${op.name}.result`,
    schemaOf(z.object({ id: requestId, ok: z.literal(true), data: op.result }), "output"),
    { title: `${op.name} result`, summary: `${op.name} succeeded: data is its result`, correlated: true },
  );
  const error = addMessage(
    catalog,
    `${op.name}.error`,
    schemaOf(
      z.object({ id: requestId, ok: z.literal(false) }).extend(errorBodyOf(codes as [ErrorCode, ...ErrorCode[]]).shape),
      "output",
    ),
    { title: `${op.name} error`, summary: `${op.name} failed: one of its error codes`, correlated: true },
  );
  const twin = op.http
    ? `HTTP twin: \`${op.http.method} ${op.http.path}\` (same arguments, \`data\` is its body).`
    : "WebSocket only.";
  return {
    action: "receive",
    channel: CHANNEL,
    title: op.name,
    summary: op.summary,
    description: `${twin} Gate: ${gateText(op)}. The reply uses the encoding of the request. Error codes:\n\n${codesText(codes)}`,
    messages: request,
    reply: { channel: CHANNEL, messages: [...result, ...error] },
  };
}

const FRAME_ERROR_CODES: [ErrorCode, ...ErrorCode[]] = ["INVALID_ARGUMENT", "PAYLOAD_TOO_LARGE", "RATE_LIMITED"];

export function buildAsyncApi(ops: readonly Op[], version: string): Record<string, unknown> {
  const catalog: Catalog = { schemas: {}, messages: {}, channelMessages: {} };
  const operations: Record<string, object> = {};
  for (const op of ops) if (overWebSocket(op)) operations[op.name] = opOperation(catalog, op);
  operations["seats.push"] = {
    action: "send",
    channel: CHANNEL,
    title: "seats push",
    summary: "seat changes of a subscribed schedule, coalesced over SEAT_DIFF_INTERVAL_MS",
    description:
      "Sent to the subscribers of a schedule (seats.subscribe), in the encoding of that subscribe. `version` " +
      "grows by one per push; the subscribe reply's version is the base. A client that sees a larger jump " +
      "missed a push and subscribes again (a fresh snapshot); a push at or below its version is stale.",
    messages: addMessage(catalog, "seats.push", schemaOf(seatsPush, "output"), {
      title: "seats push",
      summary: "seats changed state (hold, expiry, release, sale)",
      correlated: false,
    }),
  };
  operations["queue.push"] = {
    action: "send",
    channel: CHANNEL,
    title: "queue push",
    summary:
      "a token the connection follows (one per room) moved in line, was drawn or admitted, expired, or its on-sale sold out",
    description:
      "Sent to a connection that checked a token in (queue.check), in the encoding of that check. A connection " +
      "that checked a waiting token in keeps it present in the line while it is open.",
    messages: addMessage(catalog, "queue.push", schemaOf(queuePush, "output"), {
      title: "queue push",
      summary: "the queue token's status, position and estimate",
      correlated: false,
    }),
  };
  operations["frame.error"] = {
    action: "send",
    channel: CHANNEL,
    title: "frame error",
    summary: "a frame that is not a request: undecodable, too large, or over the connection's budget",
    description: `\`id\` is null when the frame could not be read. Error codes:\n\n${codesText(FRAME_ERROR_CODES)}`,
    messages: addMessage(
      catalog,
      "frame.error",
      schemaOf(
        z.object({ id: requestId.nullable(), ok: z.literal(false) }).extend(errorBodyOf(FRAME_ERROR_CODES).shape),
        "output",
      ),
      { title: "frame error", summary: "a frame that is not a request", correlated: true },
    ),
  };

  const server = (protocol: "ws" | "wss", description: string) => ({
    host: "{host}",
    protocol,
    description,
    variables: { host: { default: "localhost:8080", description: "host and port" } },
    security: [{ $ref: "#/components/securitySchemes/user" }, { $ref: "#/components/securitySchemes/userQuery" }],
  });

  return {
    asyncapi: "3.0.0",
    info: {
      title: "Ticketing server WebSocket protocol",
      version,
      description: [
        "`GET /v1/ws` upgrades to a WebSocket that carries every op of the HTTP API (`/openapi.json`) and two pushes.",
        "This document describes the server: it *receives* requests and *sends* replies and pushes.",
        "",
        "- **Frames**: a text frame is JSON, a binary frame MessagePack (maps as objects); each reply uses the",
        "  encoding of its request. Every message below therefore exists in both content types.",
        "- **Requests** `{id, op, args}`; replies `{id, ok: true, data}` or `{id, ok: false, error: {code, message}}`",
        "  (no HTTP status). Replies may come out of order. `data` is the HTTP twin's success body.",
        "- **Errors**: every 429 and 503 error carries `error.retryAfter` (seconds).",
        "- **Authentication**: the user JWT in `Authorization: Bearer` or, from browsers, `?access_token=`. Without a",
        "  valid one the upgrade is refused with 401; too many upgrades or connections get 429; with CORS_ORIGINS",
        "  set, a page's Origin that is neither listed nor the server's own host gets 403. A plain GET without an",
        "  upgrade gets 426.",
        "- **Queue token**: the connection remembers the token of its last queue.check; `args.token` overrides it.",
      ].join("\n"),
    },
    defaultContentType: "application/json",
    servers: {
      direct: server("ws", "the server as it listens (plain WebSocket)"),
      tls: server("wss", "behind the TLS-terminating proxy a deployment puts in front (docs/security.md)"),
    },
    channels: {
      ws: {
        address: "/v1/ws",
        title: "the WebSocket connection",
        description: "One connection per session; ping/pong is automatic (idle timeout 120 s).",
        messages: catalog.channelMessages,
        bindings: {
          ws: {
            method: "GET",
            query: {
              type: "object",
              properties: { access_token: { type: "string", description: "the user JWT (browsers)" } },
            },
            headers: {
              type: "object",
              properties: { Authorization: { type: "string", description: "Bearer <user JWT>" } },
            },
            bindingVersion: "0.1.0",
          },
        },
      },
    },
    operations,
    components: {
      schemas: catalog.schemas,
      messages: catalog.messages,
      correlationIds: {
        requestId: { description: "a request's id, echoed in its reply", location: "$message.payload#/id" },
      },
      securitySchemes: {
        user: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "HS256 user JWT (sub, exp)" },
        userQuery: {
          type: "httpApiKey",
          name: "access_token",
          in: "query",
          description: "the user JWT as ?access_token= (browsers cannot set headers on a WebSocket)",
        },
      },
    },
  };
}
