// Cluster chaos (issue 15): three real nodes on one PostgreSQL and one nats-server, node3 a
// gateway only (NODE_OWNS=0, so it is never killed and its WebSocket watches every schedule).
// Virtual users book through every running node (clusterLoad.ts) while
// 1. the owner of a busy room is killed with SIGKILL, CHAOS_CYCLES times (10 here by default):
//    in odd cycles its supervisor starts it again at once (a new life of the node takes its rooms
//    back one epoch up), in even cycles it stays down until its leases have run out and the other
//    owner has rebuilt its rooms from PostgreSQL, then it comes back and takes its share back;
// 2. the nats-server is killed and restarted on the same port.
// Then: nothing acknowledged is lost and nothing is sold twice (audit.ts, the crash loop's audit,
// plus paymentProblems), every answer is one the contract allows (clusterLoad.ts, ACCEPTED),
// seat versions never go backwards, holds still expire on time, and every node serves again.
import { afterAll, beforeAll, expect } from "vitest";
import { adminHeaders, http } from "../helpers/client.js";
import { nodeServer, startCluster, type TestCluster } from "../helpers/cluster.js";
import { type DatabaseReader, openReader } from "../helpers/databaseReader.js";
import { onlyOn } from "../helpers/onlyOn.js";
import type { TestServer } from "../helpers/server.js";
import { auditDatabase } from "./audit.js";
import {
  expectHoldsExpireInTime,
  firstSuccess,
  liveLeases,
  paymentProblems,
  SeatWatcher,
  saveLogs,
  waitForLease,
} from "./clusterChecks.js";
import { ClusterLoad, type Target } from "./clusterLoad.js";

const pg = onlyOn("postgres", "a cluster keeps its state in PostgreSQL");

const CYCLES = Number(process.env.CHAOS_CYCLES ?? 10);
const LEASE_MS = 1200;
const ENV = {
  CLUSTER_LEASE_MS: String(LEASE_MS),
  HOLD_TTL_MS: "4000",
  MAX_HOLDS_PER_USER: "4",
  QUEUE_ACTIVE_MAX: "100000",
  // The subject is what survives a crash, not the per-user or per-address budgets (all users come from 127.0.0.1).
  MONEY_RATE_PER_SECOND: "0",
  RATE_LIMIT_PER_IP: "0",
};
const USERS = 12;
const SEATS = 2000;
/** The last seats of each schedule are kept for the checks: the users book the others. */
const KEPT_SEATS = 150;
/** How late past max(expiresAt, load stop) a hold may leave `held`: the lease (a dead owner's rooms wait for it) and a margin. */
const EXPIRY_MARGIN_MS = 1000;
/**
 * A payment's coordinator that is killed (or cut off) leaves its holds locked on their owner for
 * LOCK_MS (src/cluster/payments.ts: no expiry meanwhile, by design) and the lapse is settled within
 * a second: the load runs that long past the last disruption before the expiry check.
 */
const ORPHAN_LOCKS_LAPSE_MS = 10_000 + 1000 + 500;
/** How soon after NATS is back every node must route again. */
const NATS_RECOVERY_MS = 5000;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

pg.describe("a cluster of three nodes under chaos (node3 owns nothing)", () => {
  let cluster: TestCluster;
  let db: DatabaseReader;
  let load: ClusterLoad;
  let watcher: SeatWatcher;
  const targets: Target[] = [];
  const loadStarted = Date.now();
  const user = (name: string) => `cc${process.pid}-${name}`;
  const gateway = () => nodeServer(cluster.nodes[2]!, cluster);
  let lastKeptSeat = SEATS + 1;
  /** A seat of the kept ones (KEPT_SEATS), never given twice. */
  const keptSeat = () => {
    expect(lastKeptSeat, "kept seats left").toBeGreaterThan(SEATS - KEPT_SEATS + 1);
    return --lastKeptSeat;
  };

  async function concert(body: object): Promise<{ id: number; schedules: { id: number }[] }> {
    const reply = await http(gateway(), "POST", "/v1/admin/concerts", { headers: adminHeaders(gateway()), body });
    expect(reply.status, reply.text).toBe(201);
    return reply.body;
  }
  const schedules = (...prices: number[]) =>
    prices.map((price, i) => ({ startsAt: `2027-0${i + 1}-01T19:00:00.000Z`, seatCount: SEATS, price }));

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateways: [3], env: ENV });
    db = openReader({ dataDir: "", databaseUrl: cluster.databaseUrl });
    // Two plain concerts (the site room, 0) and two on-sale concerts (a room each).
    for (const body of [
      { title: "Plain A", schedules: schedules(1000) },
      { title: "Plain B", schedules: schedules(1200) },
      { title: "On sale A", schedules: schedules(1500, 2000), onSale: {} },
      { title: "On sale B", schedules: schedules(1800), onSale: {} },
    ]) {
      const created = await concert(body);
      const room = "onSale" in body ? created.id : 0;
      for (const { id } of created.schedules) targets.push({ scheduleId: id, room, seats: SEATS - KEPT_SEATS });
    }
    // Each owner needs a room the other owns (the NATS test routes from every node): more on-sales
    // until rendezvous hashing splits the rooms.
    for (let spare = 1; ; spare++) {
      const owners = new Set<string>();
      for (const room of new Set(targets.map((t) => t.room))) {
        owners.add((await waitForLease(db, room, () => true, 10_000, "an owner")).node);
      }
      if (owners.size === 2 || spare > 8) break;
      const created = await concert({ title: `Spare ${spare}`, schedules: schedules(1600), onSale: {} });
      targets.push({ scheduleId: created.schedules[0]!.id, room: created.id, seats: SEATS - KEPT_SEATS });
    }
    load = new ClusterLoad({
      nodes: () => cluster.nodes,
      targets,
      users: Array.from({ length: USERS }, (_, i) => user(`u${i}`)),
    });
    watcher = await SeatWatcher.open(gateway(), user("watcher"), targets);
  }, 60_000);

  afterAll(async () => {
    // CHAOS_LOGS=<dir>: every node's log and the load's findings, for a failure's diagnosis.
    if (process.env.CHAOS_LOGS && cluster) saveLogs(process.env.CHAOS_LOGS, cluster.nodes, load?.findings ?? []);
    await load?.stop();
    watcher?.close();
    await db?.close();
    await cluster?.stop();
  });

  /** Everything the users were told, against the database; and what the watcher saw. */
  async function expectNothingLost(): Promise<void> {
    cluster.assertRunning();
    expect(load.findings.slice(0, 10), "answers outside the contract").toEqual([]);
    const { problems, facts } = await auditDatabase({ dataDir: "", databaseUrl: cluster.databaseUrl }, load.entries, {
      upSince: loadStarted,
      killedAt: Date.now(),
    });
    expect(problems, "audit").toEqual([]);
    expect(paymentProblems(load.entries), "acknowledged payments").toEqual([]);
    expect(watcher.problems, "seat versions seen on node3").toEqual([]);
    console.log(`cluster chaos audit: ${JSON.stringify(facts)}`);
  }

  /** Every node takes a fresh user's hold and payment at once, in both kinds of room. */
  async function expectEveryNodeServes(tag: string): Promise<void> {
    for (const [i, node] of cluster.nodes.entries()) {
      const through = nodeServer(node, cluster);
      const target = targets[i % targets.length]!;
      const who = user(`${tag}-fresh-${node.id}`);
      const check = await http(through, "POST", "/v1/queue/check", {
        user: who,
        body: target.room === 0 ? {} : { concertId: target.room },
      });
      expect(check.status, `${node.id}: ${check.text}`).toBe(200);
      const key = `${who}-charge`;
      load.record({ t: "sent", op: "charge", user: who, key, amount: 5000 });
      const charged = await http(through, "POST", "/v1/balance/charge", {
        user: who,
        idempotencyKey: key,
        body: { amount: 5000 },
      });
      expect(charged.status, `${node.id}: ${charged.text}`).toBe(200);
      load.record({ t: "ack", op: "charge", user: who, key, req: { amount: 5000 }, status: 200, reply: charged.body });
      const held = await http(through, "POST", "/v1/reservations", {
        user: who,
        queueToken: check.body.token,
        body: { scheduleId: target.scheduleId, seatNo: keptSeat() },
      });
      expect(held.status, `${node.id}: ${held.text}`).toBe(201);
      load.record({ t: "ack", op: "hold", user: who, reply: held.body });
      const req = { reservationIds: [held.body.reservationId] };
      const paid = await http(through, "POST", "/v1/payments", { user: who, idempotencyKey: `${who}-pay`, body: req });
      expect(paid.status, `${node.id}: ${paid.text}`).toBe(201);
      expect(paid.body).toMatchObject({ status: "paid", reservationIds: req.reservationIds, amount: held.body.price });
      const entry = { t: "ack", op: "pay", user: who, key: `${who}-pay`, req, status: 201, reply: paid.body } as const;
      load.record({ ...entry, prices: [held.body.price] });
    }
  }

  /** Every node takes a charge (PostgreSQL's alone) at once. */
  async function expectChargesServed(): Promise<void> {
    for (const node of cluster.nodes) {
      const who = user(`outage-${node.id}`);
      const key = `${who}-charge`;
      load.record({ t: "sent", op: "charge", user: who, key, amount: 700 });
      const charged = await http(nodeServer(node, cluster), "POST", "/v1/balance/charge", {
        user: who,
        idempotencyKey: key,
        body: { amount: 700 },
      });
      expect(charged.status, `${node.id} charges with NATS down: ${charged.text}`).toBe(200);
      load.record({ t: "ack", op: "charge", user: who, key, req: { amount: 700 }, status: 200, reply: charged.body });
    }
  }

  /**
   * A fresh user's hold through `through` (its check-in and hold both go to the room's owner):
   * true once 201 (and, with `pushTo`, once that watcher got the hold's push); a 503 with
   * Retry-After is "not yet", anything else goes to `wrong`.
   */
  async function holdThrough(through: TestServer, target: Target, wrong: string[], pushTo?: SeatWatcher) {
    const seatNo = keptSeat();
    const who = user(`nats-${seatNo}`);
    // Waiting before the hold is sent: the push may overtake the reply.
    const pushed = pushTo?.seatPush(target.scheduleId, seatNo, "held", 1500).then(
      () => true,
      () => false,
    );
    const check = await http(through, "POST", "/v1/queue/check", {
      user: who,
      body: target.room === 0 ? {} : { concertId: target.room },
    });
    const held =
      check.status !== 200
        ? check
        : await http(through, "POST", "/v1/reservations", {
            user: who,
            queueToken: check.body.token,
            body: { scheduleId: target.scheduleId, seatNo },
          });
    if (held.status === 201) return pushed === undefined || (await pushed);
    if (held.status !== 503 || held.headers.get("retry-after") === null) wrong.push(`${held.status} ${held.text}`);
    await pushed;
    return false;
  }

  /** Stops the load once every lock a disruption at `lastDisruption` may have orphaned has lapsed, then checks holds expire on time. */
  async function stopLoadAndCheckExpiry(lastDisruption: number) {
    await sleep(Math.max(1500, lastDisruption + ORPHAN_LOCKS_LAPSE_MS - Date.now()));
    await load.stop();
    const stoppedAt = Date.now();
    const expiry = await expectHoldsExpireInTime(db, stoppedAt, LEASE_MS + EXPIRY_MARGIN_MS);
    // And a live node says so too.
    for (const [i, row] of expiry.rows.entries()) {
      const through = nodeServer(cluster.nodes[i % 3]!, cluster);
      const reply = await http(through, "GET", `/v1/reservations/${row.id}`, { user: row.userId });
      expect(reply.body.status, `reservation ${row.id} through node${(i % 3) + 1}`).toBe("expired");
    }
    return expiry;
  }

  pg.test(
    `${CYCLES} kill -9 cycles of a busy room's owner lose nothing acknowledged, sell nothing twice, and holds still expire`,
    { timeout: 40_000 + CYCLES * 8_000 },
    async () => {
      const rooms = [...new Set(targets.map((t) => t.room))];
      load.start("kills");
      await sleep(1000);
      /** From the kill to the room's lease under a new epoch: by the node restarted at once, or the other owner. */
      const restartedMs: number[] = [];
      const takeoverMs: number[] = [];
      let lastKill = 0;
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const room = rooms[cycle % rooms.length]!;
        const owner = await waitForLease(db, room, () => true, 10_000, "an owner before the kill");
        const victim = cluster.nodes.find((node) => node.id === owner.node)!;
        expect(victim.owns, `${owner.node} owns room ${room}`).toBe(true);
        lastKill = Date.now();
        await victim.kill("SIGKILL");
        if (cycle % 2 === 1) {
          // Its supervisor starts it again at once, before its leases expire: a new life takes the room one epoch up.
          await victim.restart();
          const next = await waitForLease(
            db,
            room,
            (lease) => lease.epoch > owner.epoch,
            LEASE_MS * 5,
            "a new holding",
          );
          restartedMs.push(Date.now() - lastKill);
          expect(next.node).not.toBe("node3");
        } else {
          // It stays down: its leases expire and the other owner rebuilds the room from PostgreSQL.
          const takeover = await waitForLease(
            db,
            room,
            (lease) => lease.node !== victim.id && lease.epoch > owner.epoch,
            LEASE_MS * 5,
            `a takeover from ${victim.id}`,
          );
          takeoverMs.push(Date.now() - lastKill);
          expect(takeover.node).not.toBe("node3");
          await victim.restart();
        }
        await sleep(800);
        cluster.assertRunning();
        expect(load.findings.slice(0, 10), `answers outside the contract by cycle ${cycle}`).toEqual([]);
      }
      expect((await liveLeases(db)).map((lease) => lease.node)).not.toContain("node3");
      const expiry = await stopLoadAndCheckExpiry(lastKill);
      await expectNothingLost();
      await expectEveryNodeServes("kills");
      console.log(
        `cluster kill cycles: ${JSON.stringify({
          cycles: CYCLES,
          restartedMs,
          takeoverMs,
          acknowledged: load.acknowledged().length,
          answers: load.counts,
          holdsLeftAtStop: expiry.holds,
          latestExpiryMs: expiry.maxLateMs,
          pushesSeen: Object.fromEntries(watcher.pushes),
        })}`,
      );
      expect(load.acknowledged("pay").length).toBeGreaterThan(CYCLES * 3);
      expect(load.acknowledged("hold").length).toBeGreaterThan(CYCLES * 10);
    },
  );

  pg.test(
    "NATS killed and restarted under load: every node routes and pushes again within seconds, nothing acknowledged lost",
    { timeout: 60_000 },
    async () => {
      load.start("nats");
      await sleep(1000);
      await cluster.nats.kill();
      const killedAt = Date.now();
      // What needs no other node goes on meanwhile: a charge is PostgreSQL's alone, on every node.
      await sleep(300);
      await expectChargesServed();
      await sleep(Math.max(0, killedAt + 2000 - Date.now()));
      await cluster.nats.restart();
      const restartedAt = Date.now();
      const owners = new Map((await liveLeases(db)).map((lease) => [lease.room, lease.node]));
      const deadline = restartedAt + NATS_RECOVERY_MS;
      const wrong: string[] = [];
      // Every node: a hold on a room another node owns (node3 owns none), so the op crosses NATS;
      // and the watcher on node3 gets the push of a hold made through node1 (on a room node2 owns,
      // if any). All at once: an attempt sent before NATS was back waits out its request's time-out.
      const pushTarget = targets.find((t) => owners.get(t.room) === "node2") ?? targets[0]!;
      const [pushedAfterMs, ...routedAgainMs] = await Promise.all([
        firstSuccess(
          () => holdThrough(nodeServer(cluster.nodes[0]!, cluster), pushTarget, wrong, watcher),
          restartedAt,
          deadline,
        ),
        ...cluster.nodes.map((node) => {
          const target = targets.find((t) => owners.has(t.room) && owners.get(t.room) !== node.id);
          expect(target, `a room ${node.id} does not own (owners ${JSON.stringify([...owners])})`).toBeDefined();
          return firstSuccess(() => holdThrough(nodeServer(node, cluster), target!, wrong), restartedAt, deadline);
        }),
      ]);
      expect(wrong.slice(0, 5), "answers while NATS came back").toEqual([]);
      for (const [i, ms] of routedAgainMs.entries()) {
        expect(ms, `node${i + 1} routes a hold again within ${NATS_RECOVERY_MS} ms`).toBeLessThanOrEqual(
          NATS_RECOVERY_MS,
        );
      }
      expect(pushedAfterMs, `a push through NATS within ${NATS_RECOVERY_MS} ms`).toBeLessThanOrEqual(NATS_RECOVERY_MS);

      // A lock request NATS delivered late may leave holds locked until it lapses (see ORPHAN_LOCKS_LAPSE_MS).
      await stopLoadAndCheckExpiry(restartedAt + 1000);
      await expectNothingLost();
      await expectEveryNodeServes("nats");
      console.log(`cluster NATS restart: ${JSON.stringify({ routedAgainMs, pushedAfterMs, answers: load.counts })}`);
    },
  );
});
