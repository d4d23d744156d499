// Small HTTP and WebSocket clients for tests: typed just enough to read replies and pushes.
import { Packr } from "msgpackr";
import { expect } from "vitest";
import WebSocket from "ws";
import { CONTRACT_ERRORS } from "./contract.js";
import { type TestServer, userJwt } from "./server.js";

export interface HttpReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface HttpOptions {
  /** A user id (a JWT is minted for it) or an explicit `Authorization` value via headers. */
  user?: string;
  queueToken?: string;
  idempotencyKey?: string;
  body?: unknown;
  /** Sent as is, instead of JSON.stringify(body). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export async function http<T = any>(
  server: TestServer,
  method: string,
  path: string,
  options: HttpOptions = {},
): Promise<HttpReply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.user !== undefined) headers.authorization ??= `Bearer ${userJwt(options.user)}`;
  if (options.queueToken !== undefined) headers["queue-token"] = options.queueToken;
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  let body: string | Buffer | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const response = await fetch(server.url + path, { method, headers, body });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed, text };
}

export function adminHeaders(server: TestServer): Record<string, string> {
  return { authorization: `Bearer ${server.adminToken}` };
}

/** Creates a concert through the admin API and returns its 201 body. */
export async function createConcert(
  server: TestServer,
  schedules: { startsAt: string; seatCount: number; price: number }[] = [
    { startsAt: "2027-01-01T19:00:00.000Z", seatCount: 10, price: 1000 },
  ],
  title = "Test concert",
): Promise<{ id: number; title: string; schedules: { id: number; startsAt: string; totalSeats: number }[] }> {
  const reply = await http(server, "POST", "/v1/admin/concerts", {
    headers: adminHeaders(server),
    body: { title, schedules },
  });
  if (reply.status !== 201) throw new Error(`createConcert: ${reply.status} ${reply.text}`);
  return reply.body;
}

/** Checks `user` into the waiting room and returns the token (expects immediate admission). */
export async function activeToken(server: TestServer, user: string): Promise<string> {
  const reply = await http(server, "POST", "/v1/queue/check", { user });
  if (reply.status !== 200 || reply.body.status !== "active") {
    throw new Error(`activeToken: ${reply.status} ${reply.text}`);
  }
  return reply.body.token;
}

const packr = new Packr({ useRecords: false });
export const encodeMsgpack = (value: unknown): Buffer => packr.pack(value);
export const decodeMsgpack = (buffer: Buffer): any => packr.unpack(buffer);

export interface WsMessage {
  id?: unknown;
  ev?: string;
  ok?: boolean;
  data?: any;
  error?: { code: string; message: string };
  [key: string]: any;
}

/** A WebSocket session: `request` sends {id, op, args} and resolves with the matching reply. */
export class WsClient {
  readonly messages: WsMessage[] = [];
  /** Pushes (frames with `ev`), with the encoding they arrived in. */
  readonly pushes: (WsMessage & { binary: boolean })[] = [];
  private nextId = 1;
  private waiters: { match: (m: WsMessage) => boolean; done: (m: WsMessage) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      const message: WsMessage = isBinary ? decodeMsgpack(data) : JSON.parse(data.toString("utf8"));
      this.messages.push(message);
      if (message.ev !== undefined) this.pushes.push({ ...message, binary: isBinary });
      for (const waiter of [...this.waiters]) {
        if (waiter.match(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.done(message);
        }
      }
    });
    this.closed = new Promise((done) =>
      socket.once("close", (code, reason) => done({ code, reason: reason.toString() })),
    );
  }

  static async connect(
    server: TestServer,
    user?: string,
    options: { query?: boolean; headers?: Record<string, string>; path?: string } = {},
  ): Promise<WsClient> {
    const headers: Record<string, string> = { ...options.headers };
    let url = options.path ? `ws://127.0.0.1:${server.port}${options.path}` : server.wsUrl;
    if (user !== undefined) {
      if (options.query) url += `?access_token=${encodeURIComponent(userJwt(user))}`;
      else headers.authorization ??= `Bearer ${userJwt(user)}`;
    }
    const socket = new WebSocket(url, { headers });
    await new Promise<void>((done, fail) => {
      socket.once("open", () => done());
      socket.once("error", fail);
      socket.once("unexpected-response", (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return new WsClient(socket);
  }

  /** Sends a request and waits for the reply with the same id. */
  request(op: string, args: unknown = {}, options: { binary?: boolean; id?: unknown } = {}): Promise<WsMessage> {
    const id = options.id ?? this.nextId++;
    const reply = this.waitFor((m) => m.ev === undefined && m.id === id);
    this.sendRaw({ id, op, args }, options.binary ?? false);
    return reply;
  }

  sendRaw(value: unknown, binary = false): void {
    this.socket.send(binary ? encodeMsgpack(value) : JSON.stringify(value), { binary });
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitFor(match: (m: WsMessage) => boolean, timeoutMs = 5000): Promise<WsMessage> {
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error("WsClient.waitFor timed out")), timeoutMs);
      this.waiters.push({
        match,
        done: (m) => {
          clearTimeout(timer);
          done(m);
        },
      });
    });
  }

  /** Waits for a future push of event `ev` that matches. */
  nextPush(ev: string, match: (m: WsMessage) => boolean = () => true, timeoutMs = 5000): Promise<WsMessage> {
    return this.waitFor((m) => m.ev === ev && match(m), timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}

/** A reply reduced to what both transports share: ok + data, or the error code. */
export interface Result {
  ok: boolean;
  /** Error code; for an HTTP reply whose status does not match its code, a descriptive string. */
  code?: string;
  data: any;
}

export function fromHttp(reply: HttpReply, okStatus: number): Result {
  if (reply.status === okStatus) return { ok: true, data: reply.body };
  const code = reply.body?.error?.code;
  if (typeof code === "string" && CONTRACT_ERRORS[code] === reply.status) return { ok: false, code, data: reply.body };
  return { ok: false, code: `HTTP ${reply.status} ${reply.text.slice(0, 200)}`, data: reply.body };
}

export function fromWs(message: WsMessage): Result {
  if (message.ok === true) return { ok: true, data: message.data };
  return { ok: false, code: message.error?.code ?? `bad frame ${JSON.stringify(message)}`, data: message.error };
}

/** Asserts that `reply` is the contract error `code` with `status` and a message for people. */
export function expectError(reply: HttpReply, status: number, code: string): void {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.body?.error?.code, reply.text).toBe(code);
  expect(typeof reply.body.error.message, reply.text).toBe("string");
  expect(reply.body.error.message.length, reply.text).toBeGreaterThan(0);
}

/** A maker of user ids unique within a test file: `uid("alice")` → `<prefix>-alice-1`, `-2`, ... */
export function uniqueIds(prefix: string): (name: string) => string {
  let counter = 0;
  return (name) => `${prefix}-${name}-${++counter}`;
}

/** A WebSocket upgrade with `token`: the status (101 when it opened, then closed) and a refusal's body. */
export function tryUpgrade(
  server: TestServer,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((done) => {
    const ws = new WebSocket(server.wsUrl, { headers: { authorization: `Bearer ${token}`, ...headers } });
    ws.once("open", () => {
      ws.close();
      done({ status: 101, body: "" });
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", () => {});
  });
}
