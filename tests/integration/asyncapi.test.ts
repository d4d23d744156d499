// /asyncapi.json: the WebSocket protocol as AsyncAPI 3.0, generated from the same zod schemas as
// /openapi.json. The AsyncAPI parser accepts it without an error, and it names every op, its replies
// in both encodings, both pushes, the authentication and the error frame with retryAfter.
import { Parser } from "@asyncapi/parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiPath } from "../../src/api/openapi.js";
import { ops } from "../../src/api/ops/index.js";
import { http } from "../helpers/client.js";
import { startServer, type TestServer } from "../helpers/server.js";

const JSON_TYPE = "application/json";
const MSGPACK_TYPE = "application/vnd.msgpack";

let server: TestServer;
let raw: string;
let document: any;

beforeAll(async () => {
  server = await startServer();
  const reply = await http(server, "GET", "/asyncapi.json");
  expect(reply.status).toBe(200);
  raw = reply.text;
  document = reply.body;
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

/** The component a `#/channels/ws/messages/<key>` reference of an operation leads to. */
function message(reference: { $ref: string }): any {
  const key = reference.$ref.split("/").pop()!;
  const channelEntry = document.channels.ws.messages[key];
  return document.components.messages[channelEntry.$ref.split("/").pop()!];
}

function payload(reference: { $ref: string }): any {
  return document.components.schemas[message(reference).payload.$ref.split("/").pop()!];
}

describe("AsyncAPI document", () => {
  it("is served like /openapi.json (type, caching, protective headers) and answers HEAD", async () => {
    const [asyncReply, openReply, head] = await Promise.all([
      http(server, "GET", "/asyncapi.json"),
      http(server, "GET", "/openapi.json"),
      http(server, "HEAD", "/asyncapi.json"),
    ]);
    for (const name of ["content-type", "cache-control", "content-security-policy", "x-content-type-options"]) {
      expect(asyncReply.headers.get(name), name).toBe(openReply.headers.get(name));
    }
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    expect(head.headers.get("content-length")).toBe(String(Buffer.byteLength(raw)));
  });

  it("parses with @asyncapi/parser (AsyncAPI 3.0) without a diagnostic of error severity", async () => {
    expect(document.asyncapi).toBe("3.0.0");
    const { document: parsed, diagnostics } = await new Parser().parse(raw);
    for (const d of diagnostics) console.log(`asyncapi diagnostic (severity ${d.severity}) ${d.code}: ${d.message}`);
    // Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code}: ${d.message} at ${d.path}`)).toEqual([]);
    expect(parsed).toBeDefined();
    const operationIds = parsed!
      .operations()
      .all()
      .map((operation) => operation.id());
    expect(operationIds).toEqual(expect.arrayContaining(["seats.push", "queue.push", "frame.error"]));
  });

  it("has every op of the table (admin ops are HTTP only) with its request and both replies, in JSON and MessagePack", () => {
    const overWs = ops.filter((op) => op.gate !== "admin");
    expect(overWs.length).toBe(ops.length - ops.filter((op) => op.name.startsWith("admin.")).length);
    for (const op of overWs) {
      const operation = document.operations[op.name];
      expect(operation, op.name).toBeDefined();
      expect(operation.action).toBe("receive");
      expect(operation.messages.map((m: any) => message(m).contentType).sort()).toEqual([JSON_TYPE, MSGPACK_TYPE]);
      const request = payload(operation.messages[0]);
      expect(request.properties.op.const).toBe(op.name);
      expect(request.required).toEqual(["id", "op"]);
      const replies = operation.reply.messages.map((m: any) => ({ type: message(m).contentType, body: payload(m) }));
      const ok = replies.filter((r: any) => r.body.properties.ok.const === true);
      const failed = replies.filter((r: any) => r.body.properties.ok.const === false);
      expect(ok.map((r: any) => r.type).sort()).toEqual([JSON_TYPE, MSGPACK_TYPE]);
      expect(failed.map((r: any) => r.type).sort()).toEqual([JSON_TYPE, MSGPACK_TYPE]);
      const error = failed[0].body.properties.error;
      expect(error.properties.code.enum).toContain("INVALID_ARGUMENT");
      expect(error.properties.retryAfter.type).toBe("integer");
      expect(message(operation.messages[0]).correlationId).toEqual({ $ref: "#/components/correlationIds/requestId" });
    }
    expect(document.operations["admin.concerts.create"]).toBeUndefined();
  });

  it("takes replies from the same schemas as /openapi.json", async () => {
    const openapi = (await http(server, "GET", "/openapi.json")).body;
    for (const op of ops) {
      if (!op.http || !document.operations[op.name]) continue;
      const success = openapi.paths[openApiPath(op.http.path)][op.http.method.toLowerCase()].responses[op.http.status];
      const data = document.components.schemas[`${op.name}.result`].properties.data;
      expect(data, op.name).toEqual(success.content["application/json"].schema);
    }
  });

  it("has both pushes in both encodings, and the error frame for unreadable frames", () => {
    for (const [name, ev] of [
      ["seats.push", "seats"],
      ["queue.push", "queue"],
    ] as const) {
      const operation = document.operations[name];
      expect(operation.action).toBe("send");
      expect(operation.messages.map((m: any) => message(m).contentType).sort()).toEqual([JSON_TYPE, MSGPACK_TYPE]);
      expect(payload(operation.messages[0]).properties.ev.const).toBe(ev);
    }
    expect(payload(document.operations["seats.push"].messages[0]).required).toEqual(
      expect.arrayContaining(["scheduleId", "version", "changes"]),
    );
    const frameError = payload(document.operations["frame.error"].messages[0]);
    expect(frameError.properties.id.anyOf ?? frameError.properties.id.type).toBeDefined();
    expect(frameError.properties.error.properties.code.enum).toEqual([
      "INVALID_ARGUMENT",
      "PAYLOAD_TOO_LARGE",
      "RATE_LIMITED",
    ]);
    expect(frameError.properties.error.properties.retryAfter).toBeDefined();
  });

  it("names the authentication: a bearer JWT header or ?access_token=", () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.user).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(schemes.userQuery).toMatchObject({ type: "httpApiKey", in: "query", name: "access_token" });
    for (const server of Object.values(document.servers) as any[]) {
      expect(server.security).toEqual([
        { $ref: "#/components/securitySchemes/user" },
        { $ref: "#/components/securitySchemes/userQuery" },
      ]);
    }
    expect(document.channels.ws.address).toBe("/v1/ws");
    expect(document.channels.ws.bindings.ws.query.properties.access_token.type).toBe("string");
  });
});
