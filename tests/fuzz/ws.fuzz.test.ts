// Property tests over a real WebSocket: random and adversarial text and binary frames (bad
// JSON/MessagePack, truncated frames, extension types, deep nesting, huge strings, numbers past
// 2^53, NaN/Infinity, __proto__ keys) each get one reply frame with a contract code; the process
// survives, state changes only through ops that succeeded, and RSS stays flat.
import fc from "fast-check";
import { Packr } from "msgpackr";
import { afterAll, beforeAll, expect, test } from "vitest";
import { http, WsClient, type WsMessage } from "../helpers/client.js";
import type { TestServer } from "../helpers/server.js";
import {
  CONTRACT,
  FUZZ_INPUTS,
  type StateCounts,
  serverHeapUsed,
  serverRss,
  settle,
  startFuzzServer,
  stateCounts,
} from "./fuzzTools.js";

let s: TestServer;
let ws: WsClient;
let victimReservation: number;
const FUZZ_USER = "fuzz-ws";
const VICTIM = "fuzz-ws-victim";
const packr = new Packr({ useRecords: false });

beforeAll(async () => {
  ({ server: s, victimReservation } = await startFuzzServer(VICTIM));
  ws = await connectFuzzClient();
});

afterAll(async () => {
  ws?.close();
  await s?.stop();
  s?.cleanup();
});

const OPS = [
  "queue.check",
  "concerts.list",
  "schedules.list",
  "seats.list",
  "seats.subscribe",
  "seats.unsubscribe",
  "reservations.create",
  "reservations.get",
  "reservations.release",
  "payments.create",
  "balance.get",
  "balance.charge",
];

/** MessagePack for {id, op, args: {amount: <raw bytes>}}, for values msgpackr would not produce. */
function packWithRawAmount(id: number, op: string, rawAmount: Buffer): Buffer {
  const head = packr.pack({ id, op });
  const mapHeader = Buffer.from([(head[0]! & 0xf0) | 3]); // fixmap of 3 instead of 2
  return Buffer.concat([
    mapHeader,
    head.subarray(1),
    packr.pack("args"),
    Buffer.from([0x81]),
    packr.pack("amount"),
    rawAmount,
  ]);
}
const u64max = Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const i64big = Buffer.from([0xd3, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]); // 2^53 + 1
const nan = Buffer.from([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]);
const infinity = Buffer.from([0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]);
const f32nan = Buffer.from([0xca, 0x7f, 0xc0, 0, 0]);

const value = fc.oneof(
  fc.integer({ min: -2, max: 60 }),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(1, 2, 3, 2 ** 53 + 2, 2 ** 64, -0, 1e308, null, true, [], {}, [1, 1], "__proto__"),
  fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 4 }),
);
const args = fc.oneof(
  fc.record(
    {
      amount: value,
      scheduleId: value,
      seatNo: value,
      reservationId: value,
      reservationIds: value,
      concertId: value,
      token: value,
      idempotencyKey: value,
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
const shaped = fc.record({
  id: fc.oneof(fc.nat(), fc.string(), fc.constant(null)),
  op: fc.oneof(fc.constantFrom(...OPS), fc.string()),
  args,
});

interface Frame {
  data: string | Buffer;
  binary: boolean;
}
const frame: fc.Arbitrary<Frame> = fc.oneof(
  shaped.map((x) => ({ data: JSON.stringify(x), binary: false })),
  shaped.map((x) => ({ data: packr.pack(x), binary: true })),
  fc.string({ maxLength: 200 }).map((x) => ({ data: x, binary: false })),
  fc.uint8Array({ maxLength: 200 }).map((x) => ({ data: Buffer.from(x), binary: true })),
  // Truncated MessagePack of a well-formed request.
  fc.tuple(shaped, fc.nat()).map(([x, cut]) => {
    const bytes = packr.pack(x);
    return { data: bytes.subarray(0, cut % Math.max(1, bytes.length)), binary: true };
  }),
  // Extension types, fixext 1..16 and ext 8, with random type codes.
  fc
    .tuple(
      fc.constantFrom(0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7),
      fc.integer({ min: -128, max: 127 }),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([kind, type, body]) => ({
      data: Buffer.concat([
        Buffer.from(kind === 0xc7 ? [0xc7, body.length, type & 0xff] : [kind, type & 0xff]),
        Buffer.from(body),
        Buffer.alloc(16),
      ]).subarray(0, kind === 0xc7 ? 3 + body.length : 2 + [1, 2, 4, 8, 16][kind - 0xd4]!),
      binary: true,
    })),
  fc.constantFrom<Frame>(
    { data: packWithRawAmount(1, "balance.charge", u64max), binary: true },
    { data: packWithRawAmount(2, "balance.charge", i64big), binary: true },
    { data: packWithRawAmount(3, "balance.charge", nan), binary: true },
    { data: packWithRawAmount(4, "balance.charge", infinity), binary: true },
    { data: packWithRawAmount(5, "balance.charge", f32nan), binary: true },
    { data: Buffer.concat([Buffer.alloc(200_000, 0x91), Buffer.from([0xc0])]), binary: true },
    { data: `${"[".repeat(100_000)}${"]".repeat(100_000)}`, binary: false },
    { data: '{"id":1,"op":"balance.charge","args":{"__proto__":{"amount":5}}}', binary: false },
    { data: '{"id":1,"op":"balance.charge","args":{"constructor":{"prototype":{"amount":5}}}}', binary: false },
    { data: '{"__proto__":{"op":"balance.charge"},"id":1,"args":{"amount":5}}', binary: false },
    { data: '{"id":1e400,"op":"balance.get","args":{}}', binary: false },
    { data: '{"id":1,"op":"balance.charge","args":{"amount":1e400}}', binary: false },
    { data: `{"id":1,"op":"${"x".repeat(60_000)}"}`, binary: false },
    { data: `{"id":1,"op":"balance.get","pad":"${"x".repeat(200_000)}"}`, binary: false },
    { data: packr.pack({ id: 1, op: "balance.get", pad: "x".repeat(200_000) }), binary: true },
    { data: "", binary: false },
    { data: Buffer.alloc(0), binary: true },
  ),
);

let sent = 0;
let successes = 0;
/** Close codes seen (none expected: every frame in the pool deserves a reply). */
const closes: number[] = [];

async function connectFuzzClient(): Promise<WsClient> {
  const client = await WsClient.connect(s, FUZZ_USER);
  expect((await client.request("queue.check", {})).ok).toBe(true);
  return client;
}

/** Sends frames and waits until each has had its one reply (pushes, with `ev`, are ignored) or the socket closed. */
async function sendAll(frames: Frame[]): Promise<{ replies: WsMessage[]; closedWith?: number }> {
  const client = ws;
  let closedWith: number | undefined;
  void client.closed.then((x) => {
    closedWith = x.code;
  });
  const start = client.messages.length;
  for (const f of frames)
    if (client.socket.readyState === client.socket.OPEN) client.socket.send(f.data, { binary: f.binary });
  sent += frames.length;
  const deadline = Date.now() + 10_000;
  let replies: WsMessage[] = [];
  while (Date.now() < deadline && closedWith === undefined) {
    replies = client.messages.slice(start).filter((m) => m.ev === undefined);
    if (replies.length >= frames.length) break;
    await new Promise((done) => setTimeout(done, 2));
  }
  if (closedWith !== undefined) {
    closes.push(closedWith);
    ws = await connectFuzzClient();
  }
  return { replies, closedWith };
}

test(`${FUZZ_INPUTS} random and adversarial WebSocket frames get one contract-coded reply each; state changes only through successes; RSS stays flat`, {
  timeout: 60_000 + FUZZ_INPUTS * 10,
}, async () => {
  const before: StateCounts = await stateCounts(s);
  const batch = 25;
  const runs = Math.ceil(FUZZ_INPUTS / batch);
  let run = 0;
  let rssAfterWarmup = 0;
  let heapAfterWarmup = 0;
  const samples: string[] = [];
  await fc.assert(
    fc.asyncProperty(fc.array(frame, { minLength: batch, maxLength: batch }), async (frames) => {
      const { replies, closedWith } = await sendAll(frames);
      expect(closedWith).toBeUndefined();
      expect(replies.length).toBe(frames.length);
      for (const reply of replies) {
        if (reply.ok === true) {
          successes++;
          continue;
        }
        expect(reply.ok, JSON.stringify(reply).slice(0, 300)).toBe(false);
        const code = reply.error?.code ?? "";
        expect(code in CONTRACT && code !== "INTERNAL", JSON.stringify(reply).slice(0, 300)).toBe(true);
      }
      if (++run === Math.ceil(runs / 5)) {
        await settle();
        rssAfterWarmup = serverRss(s);
        heapAfterWarmup = await serverHeapUsed(s);
      }
      if (run % Math.ceil(runs / 10) === 0) {
        samples.push(`${(serverRss(s) / 2 ** 20).toFixed(0)}/${((await serverHeapUsed(s)) / 2 ** 20).toFixed(0)}`);
      }
    }),
    { numRuns: runs, endOnFailure: true },
  );
  await settle();
  const rssAtEnd = serverRss(s);
  const heapAtEnd = await serverHeapUsed(s);
  const after = await stateCounts(s);
  console.log(
    `ws fuzz: ${sent} frames, ${successes} ok replies, closes ${JSON.stringify(closes)}, RSS ${(rssAfterWarmup / 2 ** 20).toFixed(1)} MiB after warm-up -> ${(rssAtEnd / 2 ** 20).toFixed(1)} MiB; ` +
      `V8 heap used ${(heapAfterWarmup / 2 ** 20).toFixed(1)} -> ${(heapAtEnd / 2 ** 20).toFixed(1)} MiB; RSS/heap MiB every 10%: ${samples.join(" ")}`,
  );

  expect(s.child.exitCode).toBeNull();
  expect((await http(s, "GET", "/healthz")).status).toBe(200);
  expect(after.concerts).toBe(before.concerts);
  expect(after.reservations - before.reservations).toBeLessThanOrEqual(successes);
  expect(after.payments - before.payments).toBeLessThanOrEqual(successes);
  expect(after.ledger - before.ledger).toBeLessThanOrEqual(successes);
  if (successes === 0) expect(after).toEqual(before);
  const victim = await http(s, "GET", `/v1/reservations/${victimReservation}`, { user: VICTIM });
  expect(victim.body.status).toBe("held");
  expect((await http(s, "GET", "/v1/balance", { user: VICTIM })).body.balance).toBe(5000);
  // No prototype was polluted: an op without its amount is still refused.
  expect((await ws.request("balance.charge", {})).error?.code).toBe("INVALID_ARGUMENT");
  expect((await ws.request("balance.charge", {}, { binary: true })).error?.code).toBe("INVALID_ARGUMENT");
  expect(rssAtEnd - rssAfterWarmup).toBeLessThan(40 * 2 ** 20);
});

test("a frame over the hard 1 MiB limit closes that connection cleanly (1009) and the server lives on", async () => {
  const big = await WsClient.connect(s, "fuzz-ws-big");
  big.socket.send(Buffer.alloc(1024 * 1024 + 10, 0x61), { binary: true });
  // uWS sends 1009 and drops the socket at once; the client may see the TCP close first (1006).
  expect([1006, 1009]).toContain((await big.closed).code);
  expect((await http(s, "GET", "/healthz")).status).toBe(200);
});

test("a text frame that is not UTF-8 closes that connection cleanly and the server lives on", async () => {
  const client = await WsClient.connect(s, "fuzz-ws-utf8");
  client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0xfd, 0x7d]), { binary: false });
  // RFC 6455 asks for close 1007; uWS drops the TCP connection, which the client reports as 1006.
  expect([1006, 1007]).toContain((await client.closed).code);
  expect((await http(s, "GET", "/healthz")).status).toBe(200);
});
