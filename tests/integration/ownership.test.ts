// The per-node ownership loop (src/cluster/ownership.ts) on a real PostgreSQL, each test on its own
// fresh migrated database: three nodes share 30 concerts as rendezvous hashing says; a node that
// stops hands its concerts over at once, one that joins takes only its own, one that crashes loses
// them only once its leases expire (and its late tick gives them up); a gateway node holds nothing.
// Ticks are called by hand with numeric clocks, and the local monotonic clock follows them.

import { afterEach, beforeEach, expect } from "vitest";
import { Leases } from "../../src/cluster/leases.js";
import { type LostReason, Ownership } from "../../src/cluster/ownership.js";
import { ownerOf } from "../../src/cluster/placement.js";
import { createLogger } from "../../src/log.js";
import { migrations } from "../../src/store/migrations/index.js";
import { connect, type Sql } from "../../src/store/postgres/connect.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { onlyOn } from "../helpers/onlyOn.js";
import { createDatabase, databaseUrl, dropDatabase } from "../helpers/postgres.js";
import { postgresAdminUrl } from "../helpers/testStore.js";

const pg = onlyOn("postgres", "leases live in PostgreSQL");
const TTL = 9_000;
const TICK = 3_000;
const T0 = 1_000_000;
const CONCERTS = Array.from({ length: 30 }, (_, i) => i); // 0: the site room

interface Node {
  id: string;
  own: Ownership;
  gained: [number, number][];
  lost: [number, number, LostReason][];
}

/** Callback records by concert id (steps for different concerts run concurrently). */
const sorted = <T extends readonly [number, ...unknown[]]>(list: T[]) => [...list].sort((x, y) => x[0] - y[0]);

interface Row {
  concert: number;
  node: string;
  epoch: number;
  expiresAt: number;
}

pg.describe("ownership loop", () => {
  let dbCount = 0;
  let name: string;
  let sql: Sql;
  let leases: Leases;
  /** The numeric clock every tick passes to PostgreSQL; the local monotonic clock is t − T0. */
  let t: number;

  const node = (id: string, options: { owns?: boolean; liveMs?: number } = {}): Node => {
    const gained: Node["gained"] = [];
    const lost: Node["lost"] = [];
    const own = new Ownership({
      leases,
      nodeId: id,
      owns: options.owns ?? true,
      concerts: () => CONCERTS,
      ttlMs: TTL,
      tickMs: TICK,
      liveMs: options.liveMs,
      clock: T0,
      monotonic: () => t - T0,
      log: createLogger("silent"),
      onGained: (c, e) => void gained.push([c, e]),
      onLost: (c, e, reason) => void lost.push([c, e, reason]),
    });
    return { id, own, gained, lost };
  };
  /** Nodes started together: each says it is alive before anyone acquires (what start() does). */
  const join = async (nodes: Node[]) => {
    for (const n of nodes) await leases.heartbeat(n.id, true, t);
  };
  const round = async (nodes: Node[]) => {
    for (const n of nodes) await n.own.tick(t);
  };
  const rows = async (): Promise<Map<number, Row>> => {
    const all = await sql<Row[]>`
      SELECT concert_id::int AS concert, node_id AS node, epoch::int AS epoch, expires_at::float8 AS "expiresAt"
      FROM leases ORDER BY concert_id`;
    return new Map(all.map((row) => [row.concert, row]));
  };
  const ownersAt = async (now: number) =>
    new Map([...(await rows())].filter(([, r]) => r.expiresAt > now).map(([c, r]) => [c, r.node]));
  const expected = (ids: string[]) => new Map(CONCERTS.map((c) => [c, ownerOf(c, ids)!]));
  const count = (owners: Map<number, string>, id: string) => [...owners.values()].filter((n) => n === id).length;

  beforeEach(async () => {
    name = `ownership_${process.pid}_${++dbCount}`;
    await createDatabase(postgresAdminUrl(), name);
    sql = connect(databaseUrl(postgresAdminUrl(), name), { max: 4 });
    expect(await migrate(sql)).toBe(migrations.length);
    leases = new Leases(sql);
    t = T0;
  });
  afterEach(async () => {
    await sql.end({ timeout: 5 });
    await dropDatabase(postgresAdminUrl(), name).catch(() => {});
  });

  /** Three nodes after one round at T0: every concert owned as rendezvous says. */
  const threeNodes = async (options: { liveMs?: number } = {}) => {
    const nodes = ["a", "b", "c"].map((id) => node(id, options));
    await join(nodes);
    await round(nodes);
    return nodes;
  };

  pg.test("three nodes share 30 concerts: one unexpired lease each, as rendezvous places them", async () => {
    const nodes = await threeNodes();
    t += TICK;
    await round(nodes);
    const owners = await ownersAt(t);
    expect(owners).toEqual(expected(["a", "b", "c"]));
    for (const n of nodes) {
      expect(count(owners, n.id)).toBeGreaterThanOrEqual(5);
      expect(new Set(n.own.held().keys())).toEqual(new Set(CONCERTS.filter((c) => owners.get(c) === n.id)));
      expect(n.gained.map(([c]) => c).sort((x, y) => x - y)).toEqual([...n.own.held().keys()].sort((x, y) => x - y));
      expect(n.gained.every(([, e]) => e === 1)).toBe(true);
      expect(n.lost).toEqual([]);
    }
    // onGained once per concert, over all nodes.
    expect(nodes.flatMap((n) => n.gained.map(([c]) => c)).sort((x, y) => x - y)).toEqual(CONCERTS);
    const [a] = nodes;
    const mine = [...a!.own.held().keys()][0]!;
    expect(a!.own.isOwner(mine)).toBe(true);
    expect(a!.own.isOwner(mine, 1)).toBe(true);
    expect(a!.own.isOwner(mine, 2)).toBe(false);
    expect(nodes[1]!.own.isOwner(mine)).toBe(false);
  });

  pg.test("a node that stops releases its concerts: the others take them on their next tick, epoch + 1", async () => {
    const [a, b, c] = await threeNodes();
    const before = await rows();
    const aHad = [...a!.own.held().keys()];
    await a!.own.stop();
    expect(sorted(a!.lost)).toEqual(sorted(aHad.map((concert) => [concert, 1, "stopped"])));
    expect(a!.own.held().size).toBe(0);
    t += TICK;
    await round([b!, c!]);
    const after = await rows();
    expect(await ownersAt(t)).toEqual(expected(["b", "c"]));
    for (const concert of CONCERTS) {
      if (aHad.includes(concert)) expect(after.get(concert)!.epoch).toBe(before.get(concert)!.epoch + 1);
      else expect(after.get(concert)).toMatchObject({ node: before.get(concert)!.node, epoch: 1 });
    }
    // Nobody else's lease moved: b and c only gained a's concerts and lost nothing.
    expect(
      [...b!.gained, ...c!.gained]
        .filter(([, e]) => e === 2)
        .map(([concert]) => concert)
        .sort((x, y) => x - y),
    ).toEqual([...aHad].sort((x, y) => x - y));
    expect([...b!.lost, ...c!.lost]).toEqual([]);
  });

  pg.test(
    "a node that joins takes the concerts rendezvous now gives it, released by their old owner, epoch + 1",
    async () => {
      const [a, b] = ["a", "b"].map((id) => node(id));
      await join([a!, b!]);
      await round([a!, b!]);
      const before = await rows();
      const c = node("c");
      t += TICK;
      await join([c]);
      // c's own first tick: what it wants is still held by a or b.
      await round([c, a!, b!, c]);
      const after = await rows();
      const now = expected(["a", "b", "c"]);
      expect(await ownersAt(t)).toEqual(now);
      const movedToC = CONCERTS.filter((concert) => now.get(concert) === "c");
      expect(movedToC.length).toBeGreaterThan(0);
      expect(sorted(c.gained)).toEqual(movedToC.map((concert) => [concert, 2]));
      for (const old of [a!, b!]) {
        const moved = movedToC.filter((concert) => before.get(concert)!.node === old.id);
        expect(sorted(old.lost)).toEqual(moved.map((concert) => [concert, 1, "moved"]));
      }
      for (const concert of CONCERTS)
        if (!movedToC.includes(concert))
          expect(after.get(concert)).toMatchObject({ node: before.get(concert)!.node, epoch: 1 });
    },
  );

  pg.test(
    "a crashed node loses its concerts only once its leases expire, and its late tick gives them up",
    async () => {
      // Live = seen within 2 ticks: the others want a's concerts before its leases expire, and must wait.
      const [a, b, c] = await threeNodes({ liveMs: 2 * TICK });
      const aHad = [...a!.own.held().keys()];
      const before = await rows();
      // a stops ticking (no stop(), no release); b and c go on.
      for (const at of [T0 + TICK, T0 + 2 * TICK, T0 + TTL - 1]) {
        t = at;
        await round([b!, c!]);
        const owners = await ownersAt(t);
        for (const concert of aHad) expect(owners.get(concert)).toBe("a");
      }
      expect(await ownersAt(T0 + TTL - 1)).toEqual(expected(["a", "b", "c"]));
      t = T0 + TTL;
      await round([b!, c!]);
      const after = await rows();
      expect(await ownersAt(t)).toEqual(expected(["b", "c"]));
      for (const concert of aHad) expect(after.get(concert)!.epoch).toBe(before.get(concert)!.epoch + 1);
      for (const concert of CONCERTS.filter((x) => !aHad.includes(x))) expect(after.get(concert)!.epoch).toBe(1);
      // a wakes up late: past its local deadline it gives everything up before anything else.
      expect(a!.own.held().size).toBe(0);
      expect(a!.own.isOwner(aHad[0]!)).toBe(false);
      await a!.own.tick(t);
      expect(sorted(a!.lost)).toEqual(sorted(aHad.map((concert) => [concert, 1, "deadline"])));
      expect([...b!.lost, ...c!.lost]).toEqual([]);
    },
  );

  pg.test(
    "a node killed and started again under its id before its leases expire takes each of them one epoch up",
    async () => {
      const [a, b] = await threeNodes();
      const aHad = [...a!.own.held().keys()];
      const before = await rows();
      // a's process dies (no stop(), no release) and its supervisor starts it again at once: a new
      // life, with nothing in memory, while PostgreSQL still says a holds its leases.
      const again = node("a");
      t += 1;
      await again.own.tick(t);
      const after = await rows();
      expect(sorted(again.gained)).toEqual(sorted(aHad.map((concert) => [concert, before.get(concert)!.epoch + 1])));
      for (const concert of aHad) expect(after.get(concert)).toMatchObject({ node: "a", epoch: 2 });
      expect(b!.lost).toEqual([]);
    },
  );

  pg.test(
    "a lease taken over while the node was not past its deadline is reported lost on its next renewal",
    async () => {
      const [a] = ["a"].map((id) => node(id));
      await join([a!]);
      await round([a!]);
      // Someone takes concert 7 after expiry by PostgreSQL's (numeric) clock; a's monotonic clock did not move.
      expect((await leases.acquire(7, "x", T0 + TTL, TTL))?.epoch).toBe(2);
      await a!.own.tick(T0 + 1);
      expect(a!.lost).toEqual([[7, 1, "lease lost"]]);
      expect(a!.own.isOwner(7)).toBe(false);
      expect(a!.own.held().size).toBe(CONCERTS.length - 1);
    },
  );

  pg.test("a node that owns nothing holds nothing, and is not counted live", async () => {
    const gateway = node("g", { owns: false });
    const [a, b] = ["a", "b"].map((id) => node(id));
    await join([a!, b!]);
    await round([gateway, a!, b!, gateway]);
    expect(gateway.own.held().size).toBe(0);
    expect(gateway.gained).toEqual([]);
    expect(await leases.liveNodes(t, TTL)).toEqual(["a", "b"]);
    expect(await ownersAt(t)).toEqual(expected(["a", "b"]));
  });

  pg.test("started nodes tick by themselves on PostgreSQL's clock, and stop() hands over at once", async () => {
    const ttl = 900;
    const started = ["a", "b"].map((id) => {
      const gained: number[] = [];
      const own = new Ownership({
        leases,
        nodeId: id,
        owns: true,
        concerts: () => CONCERTS,
        ttlMs: ttl,
        clock: "database",
        log: createLogger("silent"),
        onGained: (concert) => void gained.push(concert),
        onLost: () => {},
      });
      return { id, own, gained };
    });
    await Promise.all(started.map((n) => n.own.start()));
    const dbNow = async () => (await sql<{ now: number }[]>`SELECT lease_now(NULL)::float8 AS now`)[0]!.now;
    const settled = async (ids: string[]) => {
      for (let i = 0; i < 50; i++) {
        const now = await dbNow();
        const owners = await ownersAt(now);
        if (owners.size === CONCERTS.length && [...owners].every(([c, n]) => ownerOf(c, ids) === n)) return true;
        await new Promise((done) => setTimeout(done, 100));
      }
      return false;
    };
    try {
      expect(await settled(["a", "b"])).toBe(true);
      // Several TTLs later the same leases are still held: the timer renews them.
      await new Promise((done) => setTimeout(done, 2 * ttl));
      expect(await settled(["a", "b"])).toBe(true);
      expect(started.flatMap((n) => n.gained).sort((x, y) => x - y)).toEqual(CONCERTS);
      await started[0]!.own.stop();
      expect(await settled(["b"])).toBe(true);
    } finally {
      await Promise.all(started.map((n) => n.own.stop()));
    }
  });
});
