// The WebSocket session's recovery: a gap in seat-map versions triggers a re-subscribe, and after a
// dropped connection it reconnects with back-off, re-checks its queue token in each waiting room and
// re-subscribes.
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import { type SessionEvent, WsSession } from "../../src/client/index.js";
import { adminHeaders, createConcert, http } from "../helpers/client.js";
import { startServer, type TestServer, userJwt } from "../helpers/server.js";

function waitForEvent(session: WsSession, match: (event: SessionEvent) => boolean, timeoutMs = 5000) {
  return new Promise<SessionEvent>((done, fail) => {
    const timer = setTimeout(() => fail(new Error("event not seen in time")), timeoutMs);
    const stop = session.on((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      stop();
      done(event);
    });
  });
}

const seats = (scheduleId: number, version: number, held: number[] = []) => ({
  scheduleId,
  version,
  seats: [1, 2, 3, 4].map((no) => ({ no, price: 100, status: held.includes(no) ? "held" : "available" })),
});

describe("seat-map gap detection (scripted server)", () => {
  let wss: WebSocketServer;
  let url: string;
  const received: { op: string; args: any }[] = [];
  let script: (socket: WebSocket, request: { id: number; op: string; args: any }) => void;

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await once(wss, "listening");
    url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/v1/ws`;
    wss.on("connection", (socket) =>
      socket.on("message", (data) => {
        const request = JSON.parse(data.toString());
        received.push(request);
        script(socket, request);
      }),
    );
  });
  afterAll(() => wss.close());
  afterEach(() => {
    received.length = 0;
  });

  it("applies in-order pushes, ignores stale ones, and re-subscribes on a version gap", async () => {
    let subscribes = 0;
    script = (socket, { id, op }) => {
      if (op !== "seats.subscribe") return;
      subscribes++;
      if (subscribes === 1) {
        socket.send(JSON.stringify({ id, ok: true, data: seats(7, 5) }));
        socket.send(JSON.stringify({ ev: "seats", scheduleId: 7, version: 6, changes: [{ no: 1, status: "held" }] }));
        socket.send(JSON.stringify({ ev: "seats", scheduleId: 7, version: 6, changes: [{ no: 4, status: "sold" }] }));
        // Version 7 never arrives: 8 is a gap.
        socket.send(JSON.stringify({ ev: "seats", scheduleId: 7, version: 8, changes: [{ no: 2, status: "held" }] }));
      } else {
        socket.send(JSON.stringify({ id, ok: true, data: seats(7, 8, [1, 2, 3]) }));
        socket.send(JSON.stringify({ ev: "seats", scheduleId: 7, version: 9, changes: [{ no: 4, status: "held" }] }));
      }
    };
    const session = new WsSession({ url, token: "t", reconnect: false });
    try {
      const gap = waitForEvent(session, (e) => e.type === "gap");
      const map = await session.subscribeSeats(7);
      expect(await gap).toEqual({ type: "gap", scheduleId: 7, expected: 7, got: 8 });
      await expect.poll(() => map.version).toBe(9);
      expect(map.status).toEqual(["held", "held", "held", "held"]);
      expect(subscribes).toBe(2);
      expect(session.stats).toMatchObject({ gaps: 1, resubscribes: 1 });
    } finally {
      session.close();
    }
  });

  it("reconnects with back-off after a drop, re-checks the queue token, re-subscribes, then sends queued requests", async () => {
    let connections = 0;
    wss.on("connection", () => connections++);
    script = (socket, { id, op, args }) => {
      if (op === "queue.check") {
        const token = args.token ?? "qt-1";
        socket.send(JSON.stringify({ id, ok: true, data: { token, status: "active", position: 0 } }));
      } else if (op === "seats.subscribe") {
        socket.send(
          JSON.stringify({ id, ok: true, data: seats(3, connections === 1 ? 2 : 40, connections === 1 ? [] : [2]) }),
        );
      } else if (op === "balance.get") {
        socket.send(JSON.stringify({ id, ok: true, data: { userId: "u", balance: 1 } }));
      }
    };
    const session = new WsSession({ url, token: "t", reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    try {
      await session.request("queue.check", {});
      const map = await session.subscribeSeats(3);
      received.length = 0;
      const restored = waitForEvent(session, (e) => e.type === "restored");
      const closed = waitForEvent(session, (e) => e.type === "close");
      for (const client of wss.clients) client.terminate();
      await closed;
      // Asked while disconnected: it waits for the restore, then goes out on the new connection.
      const balance = session.request("balance.get", {});
      await restored;
      expect(await balance).toEqual({ userId: "u", balance: 1 });
      expect(received.map((r) => r.op)).toEqual(["queue.check", "seats.subscribe", "balance.get"]);
      expect(received[0]!.args).toEqual({ token: "qt-1" });
      expect(map.version).toBe(40);
      expect(map.status[1]).toBe("held");
      expect(session.stats).toMatchObject({ connects: 2, reconnects: 1 });
    } finally {
      session.close();
    }
  });

  it("fails requests in flight when the connection drops (outcome unknown)", async () => {
    script = () => {}; // never answers
    const session = new WsSession({ url, token: "t", reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
    try {
      await session.opened();
      const pending = session.request("balance.get", {});
      await expect.poll(() => received.length).toBe(1);
      for (const client of wss.clients) client.terminate();
      const error = await pending.catch((e) => e);
      expect(error).toMatchObject({ code: "CONNECTION_LOST", outcomeUnknown: true });
    } finally {
      session.close();
    }
  });
});

/** A TCP proxy in front of the real server that can cut every connection and refuse new ones. */
async function startProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let refusing = false;
  const proxy: Server = createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = connect(targetPort, "127.0.0.1");
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  return {
    port: (proxy.address() as { port: number }).port,
    cut() {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    resume() {
      refusing = false;
    },
    close: () => proxy.close(),
  };
}

describe("reconnect against the real server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  it("after a cut connection the session keeps its queue place and its seat map catches up on what it missed", async () => {
    const concert = await createConcert(server, [{ startsAt: "2027-05-01T19:00:00Z", seatCount: 30, price: 10 }]);
    const scheduleId = concert.schedules[0]!.id;
    const proxy = await startProxy(server.port);
    const session = new WsSession({
      url: `ws://127.0.0.1:${proxy.port}/v1/ws`,
      token: userJwt("reconnecting"),
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    try {
      const { token } = await session.request("queue.check", {});
      const map = await session.subscribeSeats(scheduleId);
      const before = map.version;
      proxy.cut();
      await waitForEvent(session, (e) => e.type === "close");
      // While it is away, someone else holds seats 4 and 5.
      const other = await http(server, "POST", "/v1/queue/check", { user: "other" });
      for (const seatNo of [4, 5]) {
        const hold = await http(server, "POST", "/v1/reservations", {
          user: "other",
          queueToken: other.body.token,
          body: { scheduleId, seatNo },
        });
        expect(hold.status).toBe(201);
      }
      await expect
        .poll(
          async () =>
            (
              await http(server, "GET", `/v1/schedules/${scheduleId}/seats`, {
                user: "other",
                queueToken: other.body.token,
              })
            ).body.version,
        )
        .toBeGreaterThan(before);
      const restored = waitForEvent(session, (e) => e.type === "restored", 10_000);
      proxy.resume();
      await restored;
      expect(session.queueToken).toBe(token);
      expect(map.status[3]).toBe("held");
      expect(map.status[4]).toBe("held");
      // Gated ops work again on the new connection (its queue token was re-checked).
      const hold = await session.request("reservations.create", { scheduleId, seatNo: 6 });
      expect(hold.status).toBe("held");
      await expect.poll(() => map.status[5]).toBe("held");
      expect(session.stats.reconnects).toBe(1);
    } finally {
      session.close();
      proxy.close();
    }
  });

  it("after a cut connection the session checks its token in again in each room, an on-sale's with its concert id, so gated ops of both rooms pass", async () => {
    const site = await createConcert(server, [{ startsAt: "2027-05-02T19:00:00Z", seatCount: 5, price: 10 }]);
    const created = await http(server, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(server),
      body: {
        title: "On-sale",
        schedules: [{ startsAt: "2027-05-03T19:00:00Z", seatCount: 5, price: 10 }],
        onSale: {},
      },
    });
    expect(created.status, created.text).toBe(201);
    const onSaleId: number = created.body.id;
    const proxy = await startProxy(server.port);
    const session = new WsSession({
      url: `ws://127.0.0.1:${proxy.port}/v1/ws`,
      token: userJwt("two-rooms"),
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    try {
      const siteToken = (await session.request("queue.check", {})).token;
      const onSaleToken = (await session.request("queue.check", { concertId: onSaleId })).token;
      expect(siteToken).not.toBe(onSaleToken);
      expect([...session.queueTokens]).toEqual([
        [null, siteToken],
        [onSaleId, onSaleToken],
      ]);
      expect(session.queueToken).toBe(onSaleToken);

      proxy.cut();
      await waitForEvent(session, (e) => e.type === "close");
      const restored = waitForEvent(session, (e) => e.type === "restored", 10_000);
      proxy.resume();
      await restored;
      expect([...session.queueTokens]).toEqual([
        [null, siteToken],
        [onSaleId, onSaleToken],
      ]);
      expect(session.queueToken).toBe(onSaleToken);
      // The new connection follows both tokens again: each concert's room lets it through.
      for (const concertId of [site.id, onSaleId]) {
        const { schedules } = await session.request("schedules.list", { concertId });
        expect(schedules).toHaveLength(1);
      }
      // A forgotten room is not checked in again after the next cut.
      session.forgetQueueToken(null);
      proxy.cut();
      await waitForEvent(session, (e) => e.type === "close");
      const again = waitForEvent(session, (e) => e.type === "restored", 10_000);
      proxy.resume();
      await again;
      expect([...session.queueTokens]).toEqual([[onSaleId, onSaleToken]]);
      const siteGate = await session.request("schedules.list", { concertId: site.id }).catch((error) => error);
      expect(siteGate.code).toBe("TOKEN_INVALID");
    } finally {
      session.close();
      proxy.close();
    }
  });
});
