// WebSocket protocol: upgrade authentication, frame parsing and error frames, frame size limit,
// id echoing and pipelining.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { decodeMsgpack, encodeMsgpack, WsClient, type WsMessage } from "../helpers/client.js";
import { signJwt, startServer, TEST_AUTH_SECRET, type TestServer, userJwt } from "../helpers/server.js";

const MAX_FRAME_BYTES = 2048;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ env: { MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) } });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

interface Frame {
  message: WsMessage;
  binary: boolean;
}

const framesOf = new WeakMap<WsClient, Frame[]>();
let open: WsClient[] = [];

afterEach(() => {
  for (const client of open) client.close();
  open = [];
});

async function connect(user: string, options: { query?: boolean; headers?: Record<string, string> } = {}) {
  const client = await WsClient.connect(server, user, options);
  const frames: Frame[] = [];
  client.socket.on("message", (data: Buffer, isBinary: boolean) => {
    frames.push({ message: isBinary ? decodeMsgpack(data) : JSON.parse(data.toString("utf8")), binary: isBinary });
  });
  framesOf.set(client, frames);
  open.push(client);
  return client;
}

/** Tries an upgrade; resolves with "open" or the HTTP status of the refusal. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<number | "open"> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(url, { headers });
    socket.once("open", () => {
      socket.close();
      done("open");
    });
    socket.once("unexpected-response", (_req, res) => {
      done(res.statusCode ?? -1);
      res.resume();
      socket.terminate();
    });
    socket.once("error", (error) => fail(error));
  });
}

/** The next frame (reply or push) received after `count` frames had arrived. */
async function frameAfter(client: WsClient, count: number, timeoutMs = 3000): Promise<Frame> {
  const frames = framesOf.get(client)!;
  const deadline = Date.now() + timeoutMs;
  while (frames.length <= count) {
    if (Date.now() > deadline) throw new Error("no frame arrived");
    await sleep(10);
  }
  return frames[count]!;
}

/** Sends raw bytes/text and returns the single frame that answers it. */
async function sendAndReceive(client: WsClient, data: string | Buffer, binary: boolean): Promise<Frame> {
  const count = framesOf.get(client)!.length;
  client.socket.send(data, { binary });
  return frameAfter(client, count);
}

function expectError(frame: Frame, id: unknown, code: string, binary: boolean): void {
  expect(frame.message).toEqual({ id, ok: false, error: { code, message: expect.any(String) } });
  expect(frame.binary, "error frame encoding follows the request frame").toBe(binary);
}

async function expectUsable(client: WsClient, user: string, binary = false): Promise<void> {
  const reply = await client.request("balance.get", {}, { binary });
  expect(reply).toEqual({ id: reply.id, ok: true, data: { userId: user, balance: 0 } });
}

// ---------------------------------------------------------------------------------------------

describe("upgrade authentication", () => {
  it("an upgrade without a JWT is refused with HTTP 401", async () => {
    expect(await upgrade(server.wsUrl)).toBe(401);
  });

  it("an upgrade with a badly signed, malformed, expired or sub-less JWT is refused with HTTP 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      userJwt("u-proto-bad", 3600, "wrong-secret-wrong-secret-wrong-secret"),
      "not-a-jwt",
      userJwt("u-proto-bad", -60),
      signJwt({ iat: now, exp: now + 3600 }),
      signJwt({ sub: "u-proto-bad", iat: now }), // no exp
      signJwt({ sub: "u-proto-bad", iat: now, exp: now + 3600 }, TEST_AUTH_SECRET, { alg: "none", typ: "JWT" }),
    ];
    for (const jwt of bad) {
      expect(await upgrade(server.wsUrl, { authorization: `Bearer ${jwt}` }), jwt).toBe(401);
    }
    expect(await upgrade(`${server.wsUrl}?access_token=${encodeURIComponent(bad[0]!)}`)).toBe(401);
    expect(await upgrade(`${server.wsUrl}?access_token=`)).toBe(401);
  });

  it("an upgrade with ?access_token=<JWT> is accepted and authenticates as the JWT's sub", async () => {
    const user = "u-proto-query";
    const ws = await connect(user, { query: true });
    await expectUsable(ws, user);
  });

  it("an upgrade with the Authorization header is accepted and authenticates as the JWT's sub", async () => {
    const user = "u-proto-header";
    expect(await upgrade(server.wsUrl, { authorization: `Bearer ${userJwt(user)}` })).toBe("open");
    const ws = await connect(user);
    await expectUsable(ws, user);
  });

  it("a JWT that expires while the socket is open makes later requests UNAUTHENTICATED", async () => {
    const user = "u-proto-expiring";
    const ws = await connect(user, { headers: { authorization: `Bearer ${userJwt(user, 2)}` } });
    await expectUsable(ws, user);
    await sleep(3100);
    const reply = await ws.request("balance.get", {});
    expect(reply).toEqual({ id: reply.id, ok: false, error: { code: "UNAUTHENTICATED", message: expect.any(String) } });
  });
});

describe("malformed frames get INVALID_ARGUMENT error frames and the connection stays usable", () => {
  it("a text frame that is not valid JSON -> {id:null, ok:false, INVALID_ARGUMENT} as text", async () => {
    const user = "u-proto-badjson";
    const ws = await connect(user);
    expectError(await sendAndReceive(ws, '{"id": 1, "op": "balance.get", ', false), null, "INVALID_ARGUMENT", false);
    expectError(await sendAndReceive(ws, "hello", false), null, "INVALID_ARGUMENT", false);
    await expectUsable(ws, user);
  });

  it("a binary frame that is truncated or invalid MessagePack -> {id:null, INVALID_ARGUMENT} as binary", async () => {
    const user = "u-proto-badpack";
    const ws = await connect(user);
    // 0x83 = map of 3 entries, 0xa2 = str of 2 bytes, then only 'i': cut inside the key "id".
    expectError(await sendAndReceive(ws, Buffer.from([0x83, 0xa2, 0x69]), true), null, "INVALID_ARGUMENT", true);
    // 0x81 = map of 1 entry, key "id", value missing.
    expectError(await sendAndReceive(ws, Buffer.from([0x81, 0xa2, 0x69, 0x64]), true), null, "INVALID_ARGUMENT", true);
    // 0xc1 is never used in MessagePack.
    expectError(await sendAndReceive(ws, Buffer.from([0xc1]), true), null, "INVALID_ARGUMENT", true);
    await expectUsable(ws, user, true);
    await expectUsable(ws, user, false);
  });

  it("frames that are JSON/MessagePack arrays, numbers, strings or null -> {id:null, INVALID_ARGUMENT}", async () => {
    const user = "u-proto-notobject";
    const ws = await connect(user);
    for (const text of ["[1,2,3]", "42", '"balance.get"', "null", '[{"id":1,"op":"balance.get"}]']) {
      expectError(await sendAndReceive(ws, text, false), null, "INVALID_ARGUMENT", false);
    }
    for (const value of [[1, 2, 3], 42, "balance.get", null]) {
      expectError(await sendAndReceive(ws, encodeMsgpack(value), true), null, "INVALID_ARGUMENT", true);
    }
    await expectUsable(ws, user);
  });

  it("a request without an op, or with a non-string op, -> INVALID_ARGUMENT echoing the request id", async () => {
    const user = "u-proto-noop";
    const ws = await connect(user);
    expectError(await sendAndReceive(ws, JSON.stringify({ id: 7, args: {} }), false), 7, "INVALID_ARGUMENT", false);
    expectError(
      await sendAndReceive(ws, JSON.stringify({ id: "seven", op: 5 }), false),
      "seven",
      "INVALID_ARGUMENT",
      false,
    );
    expectError(await sendAndReceive(ws, encodeMsgpack({ id: 8, args: {} }), true), 8, "INVALID_ARGUMENT", true);
    await expectUsable(ws, user);
  });

  it("an unknown op -> INVALID_ARGUMENT echoing the request id, then the connection still works", async () => {
    const user = "u-proto-unknown";
    const ws = await connect(user);
    expectError(
      await sendAndReceive(ws, JSON.stringify({ id: 9, op: "nope", args: {} }), false),
      9,
      "INVALID_ARGUMENT",
      false,
    );
    expectError(
      await sendAndReceive(ws, encodeMsgpack({ id: 10, op: "nope", args: {} }), true),
      10,
      "INVALID_ARGUMENT",
      true,
    );
    await expectUsable(ws, user, true);
  });
});

describe(`frame size limit (MAX_FRAME_BYTES=${MAX_FRAME_BYTES})`, () => {
  it("a text frame over the limit -> PAYLOAD_TOO_LARGE error frame, and the connection stays open and usable", async () => {
    const user = "u-proto-big-text";
    const ws = await connect(user);
    const big = JSON.stringify({ id: 11, op: "balance.get", args: { pad: "x".repeat(MAX_FRAME_BYTES + 100) } });
    expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_FRAME_BYTES);
    const frame = await sendAndReceive(ws, big, false);
    expect([null, 11]).toContain(frame.message.id);
    expectError(frame, frame.message.id, "PAYLOAD_TOO_LARGE", false);
    await expectUsable(ws, user);
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("a binary frame over the limit -> PAYLOAD_TOO_LARGE error frame, and the connection stays open and usable", async () => {
    const user = "u-proto-big-bin";
    const ws = await connect(user);
    const big = encodeMsgpack({ id: 12, op: "balance.get", args: { pad: "y".repeat(MAX_FRAME_BYTES + 100) } });
    expect(big.length).toBeGreaterThan(MAX_FRAME_BYTES);
    const frame = await sendAndReceive(ws, big, true);
    expect([null, 12]).toContain(frame.message.id);
    expectError(frame, frame.message.id, "PAYLOAD_TOO_LARGE", true);
    await expectUsable(ws, user, true);
    expect(ws.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("a frame just under the limit is processed normally", async () => {
    const user = "u-proto-under";
    const ws = await connect(user);
    const request = { id: 13, op: "balance.get", args: { pad: "z".repeat(MAX_FRAME_BYTES - 200) } };
    expect(Buffer.byteLength(JSON.stringify(request))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    const frame = await sendAndReceive(ws, JSON.stringify(request), false);
    expect(frame.message).toEqual({ id: 13, ok: true, data: { userId: user, balance: 0 } });
  });
});

describe("request ids", () => {
  it.each([
    { encoding: "JSON text", binary: false },
    { encoding: "MessagePack binary", binary: true },
  ])("string and number ids are echoed as sent ($encoding)", async ({ binary }) => {
    const user = `u-proto-ids-${binary ? "bin" : "txt"}`;
    const ws = await connect(user);
    for (const id of ["req-abc", 0, 42, 123456789, "42"]) {
      const reply = await ws.request("balance.get", {}, { binary, id });
      expect(reply).toEqual({ id, ok: true, data: { userId: user, balance: 0 } });
      const error = await ws.request("no.such.op", {}, { binary, id });
      expect(error).toEqual({ id, ok: false, error: { code: "INVALID_ARGUMENT", message: expect.any(String) } });
    }
    // "42" and 42 are different ids: the type is preserved.
    const frames = framesOf.get(ws)!;
    expect(frames.filter((f) => f.message.id === "42")).toHaveLength(2);
    expect(frames.filter((f) => f.message.id === 42)).toHaveLength(2);
  });

  it("many requests pipelined without waiting all get exactly one reply each, with matching ids", async () => {
    const user = "u-proto-pipeline";
    const ws = await connect(user);
    const N = 100;
    for (let i = 0; i < N; i++) {
      const binary = i % 2 === 1;
      const op = i % 5 === 4 ? "no.such.op" : "balance.get";
      ws.sendRaw({ id: `p-${i}`, op, args: {} }, binary);
    }
    const frames = framesOf.get(ws)!;
    const deadline = Date.now() + 10_000;
    while (frames.length < N && Date.now() < deadline) await sleep(20);
    await sleep(100);
    expect(frames).toHaveLength(N);
    const byId = new Map(frames.map((f) => [f.message.id, f]));
    expect(byId.size).toBe(N);
    for (let i = 0; i < N; i++) {
      const frame = byId.get(`p-${i}`);
      expect(frame, `reply to p-${i}`).toBeDefined();
      expect(frame!.binary).toBe(i % 2 === 1);
      if (i % 5 === 4) expect(frame!.message.error?.code).toBe("INVALID_ARGUMENT");
      else expect(frame!.message).toEqual({ id: `p-${i}`, ok: true, data: { userId: user, balance: 0 } });
    }
  });
});
