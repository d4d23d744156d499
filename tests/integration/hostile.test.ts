// Slow and hostile clients: readers that never read, floods of connections, half-open and
// slowloris bodies, and the rate limits (per user, per WebSocket connection, connections per user).
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { serverRss } from "../fuzz/fuzzTools.js";
import { activeToken, createConcert, http, tryUpgrade, WsClient } from "../helpers/client.js";
import { startServer, type TestServer, userJwt } from "../helpers/server.js";

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const MiB = 2 ** 20;

describe("slow consumers and connection floods", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({
      env: {
        WS_MAX_BACKPRESSURE_BYTES: String(256 * 1024),
        RATE_LIMIT_PER_SECOND: "0",
        RATE_LIMIT_PER_IP: "0",
        QUEUE_ACTIVE_MAX: "100000",
      },
    });
    await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 5000, price: 1000 }]);
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("a subscriber that never reads is disconnected once its unread output passes WS_MAX_BACKPRESSURE_BYTES; memory stays bounded", async () => {
    const rssBefore = serverRss(s);
    const slow = await WsClient.connect(s, "hostile-slow");
    expect((await slow.request("queue.check")).ok).toBe(true);
    expect((await slow.request("seats.subscribe", { scheduleId: 1 })).ok).toBe(true);
    // Stop reading; keep asking for 5,000-seat maps (~150 KB each): 60 MB the client never takes.
    const tcp = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    for (let i = 0; i < 400; i++) slow.sendRaw({ id: `big-${i}`, op: "seats.list", args: { scheduleId: 1 } });
    // Meanwhile a reader makes seat changes, so pushes are published to the slow subscriber too.
    const user = "hostile-writer";
    const token = await activeToken(s, user);
    for (let seat = 1; seat <= 20; seat++) {
      await http(s, "POST", "/v1/reservations", { user, queueToken: token, body: { scheduleId: 1, seatNo: seat } });
    }
    await sleep(1000);
    const rssWhileStuck = serverRss(s);
    tcp.resume();
    const closed = await Promise.race([slow.closed, sleep(15_000).then(() => null)]);
    expect(closed, "the slow subscriber was not disconnected").not.toBeNull();
    // It was cut off well before it got all 400 maps.
    const bigReplies = slow.messages.filter((m) => typeof m.id === "string" && m.id.startsWith("big-")).length;
    expect(bigReplies).toBeLessThan(400);
    expect(rssWhileStuck - rssBefore).toBeLessThan(48 * MiB);
    console.log(
      `slow consumer: cut off after ${bigReplies}/400 replies; RSS ${(rssBefore / MiB).toFixed(0)} -> ${(rssWhileStuck / MiB).toFixed(0)} MiB`,
    );
    expect((await http(s, "GET", "/healthz")).status).toBe(200);
  });

  test("3,000 WebSocket connections (1,000 held at once, each answering a request) opened and dropped leave the server healthy", async () => {
    const rssBefore = serverRss(s);
    let answered = 0;
    for (let round = 0; round < 3; round++) {
      const sockets = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => WsClient.connect(s, `flood-${round}-${i}`)),
      );
      const replies = await Promise.all(sockets.map((c) => c.request("balance.get")));
      answered += replies.filter((r) => r.ok === true).length;
      // Half leave politely, half vanish without a close frame.
      for (const [i, c] of sockets.entries()) {
        if (i % 2 === 0) c.close();
        else c.socket.terminate();
      }
    }
    // And 1,000 raw TCP connections that send half a request line and reset.
    await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<void>((done) => {
            const socket = connect(s.port, "127.0.0.1", () => {
              socket.write("GET /v1/bal");
              socket.resetAndDestroy();
              done();
            });
            socket.on("error", () => done());
          }),
      ),
    );
    await sleep(500);
    expect(answered).toBe(3000);
    expect((await http(s, "GET", "/healthz")).status).toBe(200);
    const metrics = await http(s, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    const rssAfter = serverRss(s);
    console.log(
      `connection flood: 3000 WS + 1000 TCP; RSS ${(rssBefore / MiB).toFixed(0)} -> ${(rssAfter / MiB).toFixed(0)} MiB`,
    );
    expect(rssAfter - rssBefore).toBeLessThan(64 * MiB);
  });
});

describe("half-open and slowloris HTTP bodies (BODY_TIMEOUT_MS=500)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { BODY_TIMEOUT_MS: "500" } });
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  /** Sends the head of a charge with Content-Length 20, then `drip` (bytes, spaced `everyMs`); resolves with what came back and when the socket closed. */
  function slowCharge(user: string, drip: string, everyMs: number): Promise<{ reply: string; ms: number }> {
    const body = '{"amount":100}      ';
    return new Promise((done) => {
      const started = Date.now();
      const socket = connect(s.port, "127.0.0.1", async () => {
        socket.write(
          `POST /v1/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${userJwt(user)}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        for (const ch of drip) {
          if (socket.destroyed) return;
          socket.write(ch);
          await sleep(everyMs);
        }
      });
      let reply = "";
      socket.on("data", (chunk) => {
        reply += chunk.toString();
        socket.end(); // one reply is all we wait for; keep-alive would hold the socket open
      });
      socket.on("error", () => {});
      socket.on("close", () => done({ reply, ms: Date.now() - started }));
    });
  }

  test("a body that stops half way is closed after the body timeout, with no reply and no charge", async () => {
    const result = await slowCharge("slow-half", '{"amount":', 1);
    expect(result.reply).toBe("");
    expect(result.ms).toBeGreaterThanOrEqual(400);
    expect(result.ms).toBeLessThan(5000);
    expect((await http(s, "GET", "/v1/balance", { user: "slow-half" })).body.balance).toBe(0);
  });

  test("a slowloris body (one byte every 100 ms) is cut off by the body timeout even though bytes keep coming", async () => {
    const result = await slowCharge("slow-loris", '{"amount":100}      ', 100);
    expect(result.reply).toBe("");
    expect(result.ms).toBeLessThan(1800);
    expect((await http(s, "GET", "/v1/balance", { user: "slow-loris" })).body.balance).toBe(0);
  });

  test("a client that disconnects mid-body leaves nothing behind and the server answers the next request", async () => {
    await new Promise<void>((done) => {
      const socket = connect(s.port, "127.0.0.1", () => {
        socket.write(
          `POST /v1/balance/charge HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${userJwt("slow-abort")}\r\nContent-Length: 50\r\n\r\n{"amo`,
        );
        setTimeout(() => {
          socket.resetAndDestroy();
          done();
        }, 50);
      });
    });
    await sleep(700);
    expect((await http(s, "GET", "/v1/balance", { user: "slow-abort" })).body.balance).toBe(0);
  });

  test("a body that completes in time is answered normally", async () => {
    const result = await slowCharge("slow-ok", '{"amount":100}      ', 10);
    expect(result.reply).toMatch(/^HTTP\/1\.1 200/);
    expect((await http(s, "GET", "/v1/balance", { user: "slow-ok" })).body.balance).toBe(100);
  }, 10_000);
});

describe("rate limits (RATE_LIMIT_PER_SECOND=10, RATE_LIMIT_BURST=20, WS_MAX_CONNECTIONS_PER_USER=3)", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({
      env: { RATE_LIMIT_PER_SECOND: "10", RATE_LIMIT_BURST: "20", WS_MAX_CONNECTIONS_PER_USER: "3" },
    });
  });
  afterAll(async () => {
    await s?.stop();
    s?.cleanup();
  });

  test("a user over its budget gets 429 RATE_LIMITED, rate-limited charges change nothing, other users are unaffected", async () => {
    const user = "rl-http";
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: `k${i}`, body: { amount: 10 } }),
      ),
    );
    const ok = replies.filter((r) => r.status === 200).length;
    const limited = replies.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThanOrEqual(20);
    expect(ok).toBeLessThan(30);
    expect(ok + limited.length).toBe(60);
    for (const r of limited) expect(r.body.error.code).toBe("RATE_LIMITED");
    // The bucket refills slowly, so compare with the acknowledged count right away.
    const balance = await http(s, "GET", "/v1/balance", { user: "rl-other" });
    expect(balance.status).toBe(200);
    await sleep(1200);
    const own = await http(s, "GET", "/v1/balance", { user });
    expect(own.status, own.text).toBe(200);
    expect(own.body.balance).toBe(ok * 10);
  });

  test("a WebSocket connection over its frame budget gets RATE_LIMITED error frames carrying the request ids", async () => {
    const c = await WsClient.connect(s, "rl-ws");
    const replies = await Promise.all(Array.from({ length: 40 }, () => c.request("balance.get")));
    const limited = replies.filter((r) => r.ok === false);
    expect(limited.length).toBeGreaterThanOrEqual(15);
    for (const r of limited) {
      expect(r.error?.code).toBe("RATE_LIMITED");
      expect(typeof r.id).toBe("number");
    }
    c.close();
  });

  test("a fourth WebSocket of one user is refused with 429 RATE_LIMITED; closing one makes room", async () => {
    const user = "rl-conns";
    const open = await Promise.all([1, 2, 3].map(() => WsClient.connect(s, user)));
    const refused = await tryUpgrade(s, userJwt(user));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).error.code).toBe("RATE_LIMITED");
    // Another user is not affected by this user's connections.
    (await WsClient.connect(s, "rl-conns-other")).close();
    open[0]!.close();
    await open[0]!.closed;
    await sleep(50);
    const again = await WsClient.connect(s, user);
    expect((await again.request("balance.get")).ok).toBe(true);
    again.close();
    for (const c of open.slice(1)) c.close();
  });
});

describe("default limits", () => {
  test("the defaults let one user fire 300 requests at once without a 429", async () => {
    const s = await startServer();
    try {
      await activeToken(s, "burst-user");
      const replies = await Promise.all(
        Array.from({ length: 300 }, () => http(s, "GET", "/v1/balance", { user: "burst-user" })),
      );
      expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    } finally {
      await s.stop();
      s.cleanup();
    }
  });
});
