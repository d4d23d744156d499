// On-sales over real sockets: the pre-queue and the opening pushed to WebSockets, the draw
// checked by `npm run verify-draw`, sold-out pushed to every waiting socket, and the seed and the
// pre-queue surviving kill -9 before the opening.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { adminHeaders, expectError, http, WsClient } from "../helpers/client.js";
import { MAIN, startServer, type TestServer, userJwt } from "../helpers/server.js";

const VERIFY_DRAW = join(MAIN, "..", "verifyDraw.js");
const servers: TestServer[] = [];
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function start(env: Record<string, string>, dataDir?: string): Promise<TestServer> {
  const server = await startServer({ env: { QUEUE_TICK_MS: "50", ...env }, dataDir });
  servers.push(server);
  return server;
}

afterAll(async () => {
  for (const server of servers) {
    await server.kill();
    server.cleanup();
  }
});

async function createOnSale(s: TestServer, onSale: Record<string, unknown>, seatCount = 10) {
  const reply = await http(s, "POST", "/v1/admin/concerts", {
    headers: adminHeaders(s),
    body: { title: "Live", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount, price: 100 }], onSale },
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as { id: number; schedules: { id: number }[]; onSale: { commitment: string | null } };
}

describe("on-sales", () => {
  test("fans in the pre-queue are pushed their admission or place at the opening; verify-draw checks the draw", async () => {
    const s = await start({ QUEUE_ACTIVE_MAX: "2" });
    const concert = await createOnSale(s, { opensAt: new Date(Date.now() + 1500).toISOString() });
    const fans = ["f1", "f2", "f3", "f4"];
    const sockets = await Promise.all(fans.map((fan) => WsClient.connect(s, fan)));
    for (const socket of sockets) {
      const reply = await socket.request("queue.check", { concertId: concert.id });
      expect(reply.data).toMatchObject({ concertId: concert.id, status: "pre", position: null, etaSeconds: null });
    }
    const told = await Promise.all(
      sockets.map((socket) =>
        socket.nextPush("queue", (push) => push.status === "active" || push.status === "waiting", 8000),
      ),
    );
    expect(told.every((push) => push.concertId === concert.id)).toBe(true);
    expect(told.filter((push) => push.status === "active")).toHaveLength(2);
    expect(
      told
        .filter((push) => push.status === "waiting")
        .map((push) => push.position)
        .sort(),
    ).toEqual([1, 2]);
    // The admitted may book this concert with the token the socket remembers for its room.
    const admitted = sockets[told.findIndex((push) => push.status === "active")]!;
    const schedules = await admitted.request("schedules.list", { concertId: concert.id });
    expect(schedules.ok).toBe(true);

    const fan = fans[told.findIndex((push) => push.status === "waiting" && push.position === 1)]!;
    const run = spawnSync(
      process.execPath,
      [VERIFY_DRAW, String(concert.id), "--server", s.url, "--token", userJwt("checker"), "--user", fan],
      { encoding: "utf8", timeout: 10_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain(`commitment ${concert.onSale.commitment}`);
    expect(run.stdout).toContain(
      `${fan} (entry ${createHash("sha256").update(`${concert.id}:${fan}`).digest("hex")}) drew place 3 of 4`,
    );
    expect(run.stdout).toContain("verified");
    expect(run.status).toBe(0);
    for (const socket of sockets) socket.close();
  });

  test("a WebSocket following a waiting site token and an active on-sale token may list concerts (any room's active token)", async () => {
    const s = await start({ QUEUE_ACTIVE_MAX: "1" });
    const concert = await createOnSale(s, {});
    expect((await http(s, "POST", "/v1/queue/check", { user: "first" })).body.status).toBe("active");
    const ws = await WsClient.connect(s, "both");
    expect((await ws.request("queue.check", {})).data.status).toBe("waiting");
    expect((await ws.request("queue.check", { concertId: concert.id })).data.status).toBe("active");
    const listed = await ws.request("concerts.list", {});
    expect(listed.ok, JSON.stringify(listed)).toBe(true);
    // The site room's concerts still need the site token, which is waiting.
    const plain = await http(s, "POST", "/v1/admin/concerts", {
      headers: adminHeaders(s),
      body: { title: "Plain", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 1, price: 1 }] },
    });
    expect((await ws.request("schedules.list", { concertId: plain.body.id })).error?.code).toBe("TOKEN_NOT_ACTIVE");
    expect((await ws.request("schedules.list", { concertId: concert.id })).ok).toBe(true);
    ws.close();
  });

  test("a sold-out on-sale pushes soldout to every waiting socket, and a new check-in is 410 SOLD_OUT", async () => {
    const s = await start({ QUEUE_ACTIVE_MAX: "1", MONEY_RATE_PER_SECOND: "0" });
    const concert = await createOnSale(s, {}, 1);
    const buyer = await WsClient.connect(s, "buyer");
    const token = (await buyer.request("queue.check", { concertId: concert.id })).data.token;
    const waiters = await Promise.all(["w1", "w2"].map((user) => WsClient.connect(s, user)));
    for (const waiter of waiters) {
      expect((await waiter.request("queue.check", { concertId: concert.id })).data.status).toBe("waiting");
    }
    const hold = await http(s, "POST", "/v1/reservations", {
      user: "buyer",
      queueToken: token,
      body: { scheduleId: concert.schedules[0]!.id, seatNo: 1 },
    });
    expect(hold.status).toBe(201);
    await http(s, "POST", "/v1/balance/charge", { user: "buyer", body: { amount: 100 } });
    expect(
      (await http(s, "POST", "/v1/payments", { user: "buyer", body: { reservationIds: [hold.body.reservationId] } }))
        .status,
    ).toBe(201);
    const pushes = await Promise.all(
      waiters.map((waiter) => waiter.nextPush("queue", (p) => p.status === "soldout", 5000)),
    );
    for (const push of pushes) expect(push).toMatchObject({ ev: "queue", concertId: concert.id, status: "soldout" });
    expectError(
      await http(s, "POST", "/v1/queue/check", { user: "late", body: { concertId: concert.id } }),
      410,
      "SOLD_OUT",
    );
    expect((await http(s, "GET", `/v1/concerts/${concert.id}/onsale`, { user: "late" })).body.state).toBe("soldout");
    for (const socket of [buyer, ...waiters]) socket.close();
  });

  test("kill -9 before the opening keeps the commitment and the pre-queue; the draw then runs over them", async () => {
    const s = await start({});
    const opensAt = Date.now() + 2500;
    const concert = await createOnSale(s, { opensAt: new Date(opensAt).toISOString() });
    for (const fan of ["k1", "k2", "k3"]) {
      const reply = await http(s, "POST", "/v1/queue/check", { user: fan, body: { concertId: concert.id } });
      expect(reply.body.status).toBe("pre");
    }
    await s.kill();
    const again = await start({}, s.dataDir);
    const before = await http(again, "GET", `/v1/concerts/${concert.id}/onsale`, { user: "k1" });
    expect(before.body).toMatchObject({ commitment: concert.onSale.commitment, seed: null, waiting: 3 });
    await sleep(Math.max(0, opensAt - Date.now()) + 400);
    const draw = (await http(again, "GET", `/v1/concerts/${concert.id}/draw`, { user: "k1" })).body;
    expect(createHash("sha256").update(draw.seed).digest("hex")).toBe(concert.onSale.commitment);
    const entries = ["k1", "k2", "k3"].map((fan) => createHash("sha256").update(`${concert.id}:${fan}`).digest("hex"));
    expect([...draw.entries].sort()).toEqual(entries.sort());
    expect(
      (await http(again, "POST", "/v1/queue/check", { user: "k2", body: { concertId: concert.id } })).body.status,
    ).toBe("active");
  });
});
