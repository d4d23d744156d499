// Three real nodes on one PostgreSQL and one nats-server (issue 15): node1 and node2 own rooms,
// node3 is a gateway only. The same contract answers from any node, a seat is sold once however
// many nodes its buyers come through, pushes reach sockets on every node, and queue positions are
// one line per room.
import { afterAll, beforeAll, expect } from "vitest";
import { adminHeaders, http, WsClient } from "../helpers/client.js";
import { nodeServer, startCluster, type TestCluster } from "../helpers/cluster.js";
import { onlyOn } from "../helpers/onlyOn.js";
import type { TestServer } from "../helpers/server.js";

const pg = onlyOn("postgres", "a cluster keeps its state in PostgreSQL");

pg.describe("a cluster of three nodes (node3 owns nothing)", () => {
  let cluster: TestCluster;
  let n1: TestServer;
  let n2: TestServer;
  let n3: TestServer;
  const all = () => [n1, n2, n3];
  let users = 0;
  const user = (name: string) => `c${process.pid}-${++users}-${name}`;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateways: [3], env: { CLUSTER_LEASE_MS: "3000" } });
    [n1, n2, n3] = cluster.nodes.map((node) => nodeServer(node, cluster)) as [TestServer, TestServer, TestServer];
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  /** An active site token for `who`, asked on `through`. */
  async function siteToken(through: TestServer, who: string): Promise<string> {
    const reply = await http(through, "POST", "/v1/queue/check", { user: who });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.status).toBe("active");
    return reply.body.token;
  }

  async function concert(through: TestServer, body: object): Promise<any> {
    const reply = await http(through, "POST", "/v1/admin/concerts", { headers: adminHeaders(through), body });
    expect(reply.status, reply.text).toBe(201);
    return reply.body;
  }

  const schedules = (seatCount: number, price = 1000) => [{ startsAt: "2027-03-01T19:00:00.000Z", seatCount, price }];

  pg.test("a gateway-only node holds no lease; the owners hold every room", async () => {
    const postgres = (await import("postgres")).default;
    const sql = postgres(cluster.databaseUrl, { max: 1 });
    try {
      await expect
        .poll(async () => (await sql`SELECT node_id FROM leases WHERE expires_at > 0`).map((r) => r.node_id), {
          timeout: 10_000,
        })
        .toContain("node1");
      const holders = (await sql`SELECT DISTINCT node_id FROM leases WHERE expires_at > 0`).map((r) => r.node_id);
      expect(holders).not.toContain("node3");
    } finally {
      await sql.end();
    }
  });

  pg.test("the whole booking flow, each step on another node, answers as one server", async () => {
    const created = await concert(n3, { title: "Cluster flow", schedules: schedules(10, 700) });
    const scheduleId = created.schedules[0].id;
    const buyer = user("flow");
    const token = await siteToken(n1, buyer);
    const list = await http(n2, "GET", "/v1/concerts", { user: buyer, queueToken: token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.concerts).toContainEqual({ id: created.id, title: "Cluster flow" });
    const held = await http(n3, "POST", "/v1/reservations", {
      user: buyer,
      queueToken: token,
      body: { scheduleId, seatNo: 3 },
    });
    expect(held.status, held.text).toBe(201);
    expect((await http(n1, "POST", "/v1/balance/charge", { user: buyer, body: { amount: 1000 } })).body).toEqual({
      userId: buyer,
      balance: 1000,
    });
    const pay = (through: TestServer) =>
      http(through, "POST", "/v1/payments", {
        user: buyer,
        idempotencyKey: "pay-1",
        body: { reservationIds: [held.body.reservationId] },
      });
    const paid = await pay(n2);
    expect(paid.status, paid.text).toBe(201);
    expect(paid.body).toMatchObject({ amount: 700, balance: 300, status: "paid" });
    // A retry through any node replays the same answer; the seat is sold everywhere.
    expect((await pay(n3)).body).toEqual(paid.body);
    const mine = await http(n1, "GET", "/v1/reservations", { user: buyer });
    expect(mine.body.reservations).toEqual([
      expect.objectContaining({ reservationId: held.body.reservationId, status: "paid", concertId: created.id }),
    ]);
    const other = user("other");
    const otherToken = await siteToken(n2, other);
    for (const through of all()) {
      const seats = await http(through, "GET", `/v1/schedules/${scheduleId}/seats`, {
        user: other,
        queueToken: otherToken,
      });
      expect(seats.body.seats.find((s: { no: number }) => s.no === 3).status).toBe("sold");
    }
    expect((await http(n3, "GET", "/v1/balance", { user: buyer })).body.balance).toBe(300);
  });

  pg.test("100 fans through three nodes race for one seat: exactly one holds it", async () => {
    const created = await concert(n1, { title: "One seat", schedules: schedules(5) });
    const scheduleId = created.schedules[0].id;
    const fans = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const who = user(`fan${i}`);
        return { who, token: await siteToken(all()[i % 3]!, who), through: all()[(i + 1) % 3]! };
      }),
    );
    const replies = await Promise.all(
      fans.map(({ who, token, through }) =>
        http(through, "POST", "/v1/reservations", { user: who, queueToken: token, body: { scheduleId, seatNo: 1 } }),
      ),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(99);
    expect(new Set(replies.filter((r) => r.status === 409).map((r) => r.body.error.code))).toEqual(
      new Set(["SEAT_UNAVAILABLE"]),
    );
  });

  pg.test("a hold made on node1 reaches a WebSocket subscriber on node3, versions continuing", async () => {
    const created = await concert(n2, { title: "Pushes", schedules: schedules(8) });
    const scheduleId = created.schedules[0].id;
    const watcher = user("watcher");
    const socket = await WsClient.connect(n3, watcher);
    try {
      const checked = await socket.request("queue.check", {});
      expect(checked.ok, JSON.stringify(checked)).toBe(true);
      const subscribed = await socket.request("seats.subscribe", { scheduleId });
      expect(subscribed.ok, JSON.stringify(subscribed)).toBe(true);
      const base = subscribed.data.version;
      const pushed = socket.nextPush("seats", (push) => push.scheduleId === scheduleId, 5000);
      const buyer = user("buyer");
      const held = await http(n1, "POST", "/v1/reservations", {
        user: buyer,
        queueToken: await siteToken(n1, buyer),
        body: { scheduleId, seatNo: 4 },
      });
      expect(held.status, held.text).toBe(201);
      const push = await pushed;
      expect(push.version).toBe(base + 1);
      expect(push.changes).toEqual([{ no: 4, status: "held" }]);
    } finally {
      socket.close();
    }
  });

  pg.test("queue positions are one line per room, whichever node each fan joins through", async () => {
    const created = await concert(n3, { title: "Line", schedules: schedules(50), onSale: { activeMax: 2 } });
    const statuses = [];
    for (let i = 0; i < 9; i++) {
      const reply = await http(all()[i % 3]!, "POST", "/v1/queue/check", {
        user: user(`line${i}`),
        body: { concertId: created.id },
      });
      expect(reply.status, reply.text).toBe(200);
      statuses.push(reply.body);
    }
    expect(statuses.filter((s) => s.status === "active")).toHaveLength(2);
    const positions = statuses.filter((s) => s.status === "waiting").map((s) => s.position);
    expect(positions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const through of all()) {
      const onSale = await http(through, "GET", `/v1/concerts/${created.id}/onsale`, { user: user("look") });
      expect(onSale.body).toMatchObject({ waiting: 7, active: 2 });
    }
  });

  pg.test("a payment whose seats have two owners commits both or neither", async () => {
    const postgres = (await import("postgres")).default;
    const sql = postgres(cluster.databaseUrl, { max: 1 });
    const holderOf = async (room: number) =>
      (await sql`SELECT node_id FROM leases WHERE concert_id = ${room} AND expires_at > 0`)[0]?.node_id;
    try {
      const plain = await concert(n3, { title: "Plain", schedules: schedules(5, 300) });
      // An on-sale is a room of its own: make them until rendezvous gives one to the other owner.
      let onSale: any;
      for (let attempt = 0; attempt < 12 && onSale === undefined; attempt++) {
        const made = await concert(n3, { title: `Own room ${attempt}`, schedules: schedules(5, 400), onSale: {} });
        if ((await holderOf(made.id)) !== (await holderOf(0))) onSale = made;
      }
      expect(onSale, "an on-sale owned by the other node").toBeDefined();
      const buyer = user("two-owners");
      const siteTok = await siteToken(n3, buyer);
      const roomTok = (await http(n3, "POST", "/v1/queue/check", { user: buyer, body: { concertId: onSale.id } })).body
        .token;
      const holdOn = async (scheduleId: number, queueToken: string) => {
        const reply = await http(n3, "POST", "/v1/reservations", {
          user: buyer,
          queueToken,
          body: { scheduleId, seatNo: 1 },
        });
        expect(reply.status, reply.text).toBe(201);
        return reply.body.reservationId as number;
      };
      const ids = [await holdOn(plain.schedules[0].id, siteTok), await holdOn(onSale.schedules[0].id, roomTok)];
      const pay = (idempotencyKey: string) =>
        http(n3, "POST", "/v1/payments", { user: buyer, idempotencyKey, body: { reservationIds: ids } });
      await http(n1, "POST", "/v1/balance/charge", { user: buyer, body: { amount: 500 } });
      const short = await pay("two-1");
      expect(short.status, short.text).toBe(402);
      const rows = async () =>
        (await sql`SELECT status FROM reservations WHERE id IN ${sql(ids)} ORDER BY id`).map((r) => r.status);
      expect(await rows()).toEqual(["held", "held"]);
      await http(n2, "POST", "/v1/balance/charge", { user: buyer, body: { amount: 200 } });
      const paid = await pay("two-2");
      expect(paid.status, paid.text).toBe(201);
      expect(paid.body).toMatchObject({ reservationIds: ids, amount: 700, balance: 0, status: "paid" });
      expect(await rows()).toEqual(["paid", "paid"]);
      // Both owners sold the seats in memory too.
      const look = user("two-owners-look");
      const lookSite = await siteToken(n1, look);
      const lookRoom = (await http(n1, "POST", "/v1/queue/check", { user: look, body: { concertId: onSale.id } })).body
        .token;
      for (const [scheduleId, queueToken] of [
        [plain.schedules[0].id, lookSite],
        [onSale.schedules[0].id, lookRoom],
      ] as const) {
        const seats = await http(n2, "GET", `/v1/schedules/${scheduleId}/seats`, { user: look, queueToken });
        expect(seats.body.seats[0].status).toBe("sold");
      }
    } finally {
      await sql.end();
    }
  });

  pg.test("MAX_HOLDS_PER_USER counts the user's holds in every room, whichever node owns each", async () => {
    const plain = await concert(n3, { title: "Limit plain", schedules: schedules(8) });
    const onSale = await concert(n3, { title: "Limit room", schedules: schedules(8), onSale: {} });
    const buyer = user("limit");
    const siteTok = await siteToken(n3, buyer);
    const roomTok = (await http(n3, "POST", "/v1/queue/check", { user: buyer, body: { concertId: onSale.id } })).body
      .token;
    const hold = (c: any, queueToken: string, seatNo: number) =>
      http(all()[seatNo % 3]!, "POST", "/v1/reservations", {
        user: buyer,
        queueToken,
        body: { scheduleId: c.schedules[0].id, seatNo },
      });
    // The default limit is 4: two in the site room, two in the on-sale's.
    for (const seatNo of [1, 2]) expect((await hold(plain, siteTok, seatNo)).status).toBe(201);
    for (const seatNo of [1, 2]) expect((await hold(onSale, roomTok, seatNo)).status).toBe(201);
    const fifth = [await hold(plain, siteTok, 3), await hold(onSale, roomTok, 3)];
    expect(fifth.map((reply) => reply.body.error?.code)).toEqual(["HOLD_LIMIT", "HOLD_LIMIT"]);
  });

  pg.test(
    "an owner fenced out of one room answers 503 for it, gives it up and goes on serving its other rooms",
    async () => {
      const postgres = (await import("postgres")).default;
      const sql = postgres(cluster.databaseUrl, { max: 1 });
      const leaseOf = async (room: number) =>
        (await sql`SELECT node_id, epoch FROM leases WHERE concert_id = ${room} AND expires_at > 0`)[0];
      try {
        // Two on-sale rooms with the same owner.
        const made: any[] = [];
        let pair: [any, any] | undefined;
        for (let attempt = 0; attempt < 12 && pair === undefined; attempt++) {
          const next = await concert(n3, { title: `Fence ${attempt}`, schedules: schedules(5), onSale: {} });
          const holder = (await leaseOf(next.id))!.node_id;
          const twin = made.find((m) => m.holder === holder);
          if (twin) pair = [twin.concert, next];
          made.push({ concert: next, holder });
        }
        expect(pair, "two rooms on one owner").toBeDefined();
        const [fenced, other] = pair!;
        const buyer = user("fenced");
        const tokenFor = async (concertId: number) =>
          (await http(n3, "POST", "/v1/queue/check", { user: buyer, body: { concertId } })).body.token;
        const fencedToken = await tokenFor(fenced.id);
        const otherToken = await tokenFor(other.id);
        const hold = (c: any, queueToken: string, seatNo: number) =>
          http(n3, "POST", "/v1/reservations", {
            user: buyer,
            queueToken,
            body: { scheduleId: c.schedules[0].id, seatNo },
          });
        const before = (await leaseOf(fenced.id))!;
        // Another node took the lease over (as after a pause longer than the TTL): one epoch up.
        await sql`UPDATE leases SET node_id = 'intruder', epoch = epoch + 1, expires_at = ${Date.now() + 60_000}
        WHERE concert_id = ${fenced.id}`;
        const refused = await hold(fenced, fencedToken, 1);
        expect(refused.status, refused.text).toBe(503);
        expect(refused.headers.get("retry-after")).toBe("1");
        expect((await hold(other, otherToken, 1)).status).toBe(201);
        // The intruder goes away: the room comes back, one epoch up, without the refused hold.
        await sql`UPDATE leases SET expires_at = 0 WHERE concert_id = ${fenced.id}`;
        await cluster.serving();
        expect(Number((await leaseOf(fenced.id))!.epoch)).toBeGreaterThan(Number(before.epoch) + 1);
        expect(
          (await sql`SELECT count(*)::int AS n FROM reservations WHERE schedule_id = ${fenced.schedules[0].id}`)[0]!.n,
        ).toBe(0);
        const again = await hold(fenced, await tokenFor(fenced.id), 1);
        expect(again.status, again.text).toBe(201);
      } finally {
        await sql.end();
      }
    },
  );

  // Last: it moves the site room (its owner stops and comes back).
  pg.test("when a room moves, its subscribers' seat versions keep going up, and its holds stay", async () => {
    const created = await concert(n1, { title: "Moving", schedules: schedules(8) });
    const scheduleId = created.schedules[0].id;
    const watcher = user("mover-watch");
    const socket = await WsClient.connect(n3, watcher);
    try {
      expect((await socket.request("queue.check", {})).ok).toBe(true);
      const subscribed = await socket.request("seats.subscribe", { scheduleId });
      const versions: number[] = [subscribed.data.version];
      const holdThrough = async (through: TestServer, seatNo: number) => {
        const buyer = user(`mover${seatNo}`);
        const pushed = socket.nextPush("seats", (push) => push.scheduleId === scheduleId, 10_000);
        const held = await http(through, "POST", "/v1/reservations", {
          user: buyer,
          queueToken: await siteToken(through, buyer),
          body: { scheduleId, seatNo },
        });
        expect(held.status, held.text).toBe(201);
        versions.push((await pushed).version);
        return { ...held.body, buyer };
      };
      const first = await holdThrough(n3, 1);
      const postgres = (await import("postgres")).default;
      const sql = postgres(cluster.databaseUrl, { max: 1 });
      let ownerIndex: number;
      try {
        const [lease] = await sql`SELECT node_id FROM leases WHERE concert_id = 0 AND expires_at > 0`;
        ownerIndex = cluster.nodes.findIndex((node) => node.id === lease!.node_id);
      } finally {
        await sql.end();
      }
      const owner = cluster.nodes[ownerIndex]!;
      await owner.stop();
      await cluster.serving();
      // The new owner says at once that its versions jumped: an empty push far above the last one.
      await expect
        .poll(() => socket.pushes.find((p) => p.scheduleId === scheduleId && p.changes.length === 0)?.version)
        .toBeGreaterThan(versions[1]!);
      await holdThrough(n3, 2);
      // The hold made before the move is still held, with its expiry, on the new owner.
      const kept = await http(n3, "GET", `/v1/reservations/${first.reservationId}`, { user: first.buyer });
      expect(kept.body).toMatchObject({ status: "held", expiresAt: first.expiresAt });
      expect(versions[1]).toBe(versions[0]! + 1);
      expect(versions[2]).toBeGreaterThan(versions[1]!);
      await owner.restart();
      await cluster.serving();
      await holdThrough(n3, 3);
      expect(versions[3]).toBeGreaterThan(versions[2]!);
      const seats = await http(n2, "GET", `/v1/schedules/${scheduleId}/seats`, {
        user: watcher,
        queueToken: await siteToken(n2, watcher),
      });
      expect(seats.body.seats.slice(0, 3).map((seat: { status: string }) => seat.status)).toEqual([
        "held",
        "held",
        "held",
      ]);
    } finally {
      socket.close();
    }
  });
});
