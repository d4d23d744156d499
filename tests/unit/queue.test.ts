import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import {
  etaSeconds,
  positionOf,
  type QueueEmitted,
  type QueueEntry,
  type QueueEvent,
  type QueueInput,
  queueMachine,
  waitingCount,
} from "../../machines/queue.js";

const T0 = 1_900_000_000_000;
const CONFIG: QueueInput = { activeMax: 2, activeTtlMs: 600_000, waitingIdleMs: 60_000 };

function startQueue(config: Partial<QueueInput> = {}) {
  const actor = createActor(queueMachine, { input: { ...CONFIG, ...config } });
  const events: QueueEmitted[] = [];
  actor.on("*", (event) => events.push(event));
  actor.start();
  const send = (event: QueueEvent) => actor.send(event);
  const join = (n: number, now = T0) => send({ type: "JOIN", token: `t${n}`, userId: `u${n}`, now });
  const ctx = () => actor.getSnapshot().context;
  const status = (token: string) => ctx().byToken.get(token)?.status;
  const positions = (...tokens: string[]) => tokens.map((token) => positionOf(ctx(), token));
  return { actor, events, send, join, ctx, status, positions };
}

describe("queue machine", () => {
  it("admits a joiner at once when there is room and nobody waits", () => {
    const q = startQueue();
    q.join(1);
    expect(q.status("t1")).toBe("active");
    expect(q.events).toEqual([
      // joined: its row is inserted already active, not updated after.
      {
        type: "admitted",
        token: "t1",
        userId: "u1",
        activatedAt: T0,
        expiresAt: T0 + CONFIG.activeTtlMs,
        joined: true,
      },
    ]);
    expect(q.ctx().byToken.get("t1")).toMatchObject({ activatedAt: T0, expiresAt: T0 + 600_000, seq: 1 });
    expect(q.ctx().activeCount).toBe(1);
    expect(q.positions("t1")).toEqual([0]);
  });

  it("lines joiners up FIFO once the active set is full, with 1-based positions", () => {
    const q = startQueue();
    for (let n = 1; n <= 5; n++) q.join(n);
    expect(["t1", "t2", "t3", "t4", "t5"].map(q.status)).toEqual(["active", "active", "waiting", "waiting", "waiting"]);
    expect(q.positions("t1", "t2", "t3", "t4", "t5")).toEqual([0, 0, 1, 2, 3]);
    expect(waitingCount(q.ctx())).toBe(3);
    expect(q.events.filter((e) => e.type === "admitted")).toHaveLength(2);
  });

  it("does not let a newcomer overtake the line even when a slot is free", () => {
    const q = startQueue();
    for (let n = 1; n <= 3; n++) q.join(n); // t3 waits
    q.send({ type: "END", token: "t1", now: T0 + 1 }); // a slot is free until the next TICK
    q.join(4, T0 + 2);
    expect(q.status("t4")).toBe("waiting");
    expect(q.positions("t3", "t4")).toEqual([1, 2]);
    q.send({ type: "TICK", now: T0 + 3 });
    expect(q.status("t3")).toBe("active");
    expect(q.status("t4")).toBe("waiting");
  });

  it("keeps one token per user: a second JOIN of the same user changes nothing", () => {
    const q = startQueue({ activeMax: 1 });
    q.join(1);
    q.join(2);
    const again: QueueEvent = { type: "JOIN", token: "other", userId: "u2", now: T0 + 5 };
    expect(q.actor.getSnapshot().can(again)).toBe(false);
    q.send(again);
    expect(q.ctx().byUser.get("u2")).toBe("t2");
    expect(q.ctx().byToken.has("other")).toBe(false);
    expect(waitingCount(q.ctx())).toBe(1);
    // A token string already in use is refused as well.
    expect(q.actor.getSnapshot().can({ type: "JOIN", token: "t1", userId: "u9", now: T0 })).toBe(false);
  });

  it("gives exact positions after removals in the middle of the line", () => {
    const q = startQueue({ activeMax: 1 });
    for (let n = 0; n <= 10; n++) q.join(n); // t0 active, t1..t10 waiting
    q.send({ type: "END", token: "t3", now: T0 + 1 });
    q.send({ type: "END", token: "t7", now: T0 + 1 });
    expect(q.positions("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10")).toEqual([
      1, 2, 0, 3, 4, 5, 0, 6, 7, 8,
    ]);
    expect(waitingCount(q.ctx())).toBe(8);
    expect(q.events.filter((e) => e.type === "left")).toEqual([
      { type: "left", token: "t3", userId: "u3", reason: "ended" },
      { type: "left", token: "t7", userId: "u7", reason: "ended" },
    ]);
    expect(q.ctx().byToken.has("t3")).toBe(false);
    expect(q.ctx().byUser.has("u3")).toBe(false);
  });

  it("drops waiting tokens idle for more than waitingIdleMs, and SEEN keeps a token in line", () => {
    const q = startQueue({ activeMax: 1 });
    q.join(0); // active
    q.join(1, T0);
    q.join(2, T0);
    q.join(3, T0 + 10_000);
    q.send({ type: "SEEN", token: "t1", now: T0 + 50_000 });
    // Exactly waitingIdleMs of silence is still allowed; one ms more is not.
    q.send({ type: "TICK", now: T0 + 60_000 });
    expect(waitingCount(q.ctx())).toBe(3);
    q.send({ type: "TICK", now: T0 + 60_001 });
    expect(q.ctx().byToken.has("t2")).toBe(false);
    expect(q.ctx().byUser.has("u2")).toBe(false);
    expect(q.positions("t1", "t3")).toEqual([1, 2]);
    q.send({ type: "TICK", now: T0 + 70_001 });
    expect(q.positions("t1", "t3")).toEqual([1, 0]);
    expect(q.events.filter((e) => e.type === "left")).toEqual([
      { type: "left", token: "t2", userId: "u2", reason: "idle" },
      { type: "left", token: "t3", userId: "u3", reason: "idle" },
    ]);
    expect(q.ctx().byToken.get("t1")?.lastSeenAt).toBe(T0 + 50_000);
  });

  it("PRESENT refreshes every waiting token it lists in one event, and skips the others", () => {
    const q = startQueue({ activeMax: 1 });
    q.join(0, T0); // active
    q.join(1, T0);
    q.join(2, T0);
    q.join(3, T0);
    q.send({ type: "PRESENT", tokens: new Set(["t0", "t1", "t3", "nope"]).keys(), now: T0 + 50_000 });
    q.send({ type: "TICK", now: T0 + 60_001 });
    expect(q.positions("t1", "t2", "t3")).toEqual([1, 0, 2]);
    expect(q.ctx().byToken.get("t0")).toMatchObject({ status: "active", lastSeenAt: T0 });
    expect(q.events.filter((e) => e.type === "left")).toEqual([
      { type: "left", token: "t2", userId: "u2", reason: "idle" },
    ]);
  });

  it("SEEN is accepted for waiting tokens only", () => {
    const q = startQueue({ activeMax: 1 });
    q.join(1);
    q.join(2);
    const snapshot = q.actor.getSnapshot();
    expect(snapshot.can({ type: "SEEN", token: "t2", now: T0 + 1 })).toBe(true);
    expect(snapshot.can({ type: "SEEN", token: "t1", now: T0 + 1 })).toBe(false);
    expect(snapshot.can({ type: "SEEN", token: "nope", now: T0 + 1 })).toBe(false);
  });

  it("ends active tokens whose expiresAt <= now and refills their slots in the same TICK", () => {
    const q = startQueue();
    q.join(1, T0);
    q.join(2, T0 + 1_000);
    q.join(3, T0 + 2_000); // waits
    q.send({ type: "SEEN", token: "t3", now: T0 + 599_999 });
    q.send({ type: "TICK", now: T0 + 599_999 });
    expect(q.status("t1")).toBe("active");
    q.events.length = 0;
    q.send({ type: "TICK", now: T0 + 600_000 });
    expect(q.status("t1")).toBeUndefined();
    expect(q.status("t2")).toBe("active");
    expect(q.status("t3")).toBe("active");
    expect(q.events).toEqual([
      { type: "left", token: "t1", userId: "u1", reason: "expired" },
      {
        type: "admitted",
        token: "t3",
        userId: "u3",
        activatedAt: T0 + 600_000,
        expiresAt: T0 + 1_200_000,
        joined: false,
      },
    ]);
    expect(q.ctx().activeCount).toBe(2);
  });

  it("LAPSE ends an active token past its expiry before the tick does, and only such a token", () => {
    const q = startQueue();
    q.join(1, T0);
    q.join(2, T0);
    q.join(3, T0); // waits
    q.events.length = 0;
    // Not yet due, or not active: refused, nothing changes.
    q.send({ type: "LAPSE", token: "t1", now: T0 + 599_999 });
    q.send({ type: "LAPSE", token: "t3", now: T0 + 600_000 });
    expect(q.events).toEqual([]);
    q.send({ type: "LAPSE", token: "t1", now: T0 + 600_000 });
    expect(q.events).toEqual([{ type: "left", token: "t1", userId: "u1", reason: "expired" }]);
    expect(q.status("t1")).toBeUndefined();
    // Only that token: t2 (due too) and the line wait for the tick.
    expect(q.status("t2")).toBe("active");
    expect(q.status("t3")).toBe("waiting");
    expect(q.ctx().activeCount).toBe(1);
  });

  it("END frees an active slot, which is refilled FIFO at the next TICK", () => {
    const q = startQueue();
    for (let n = 1; n <= 4; n++) q.join(n);
    q.send({ type: "END", token: "t2", now: T0 + 5 });
    expect(q.ctx().activeCount).toBe(1);
    expect(q.status("t3")).toBe("waiting");
    expect(q.events.at(-1)).toEqual({ type: "left", token: "t2", userId: "u2", reason: "ended" });
    q.send({ type: "TICK", now: T0 + 10 });
    expect(q.status("t3")).toBe("active");
    expect(q.status("t4")).toBe("waiting");
    expect(q.positions("t4")).toEqual([1]);
    expect(q.ctx().activeCount).toBe(2);
    expect(q.actor.getSnapshot().can({ type: "END", token: "t2", now: T0 + 11 })).toBe(false);
  });

  it("a user whose token ended can join again, at the back", () => {
    const q = startQueue({ activeMax: 1 });
    q.join(1);
    q.join(2);
    q.send({ type: "END", token: "t2", now: T0 + 1 });
    q.join(3);
    q.send({ type: "JOIN", token: "t2-again", userId: "u2", now: T0 + 2 });
    expect(q.ctx().byUser.get("u2")).toBe("t2-again");
    expect(q.positions("t3", "t2-again")).toEqual([1, 2]);
  });

  it("admits the oldest waiting tokens first when several slots free up", () => {
    const q = startQueue({ activeMax: 3 });
    for (let n = 1; n <= 8; n++) q.join(n);
    for (const token of ["t1", "t2", "t3"]) q.send({ type: "END", token, now: T0 + 1 });
    q.send({ type: "END", token: "t5", now: T0 + 1 }); // leaves from the middle of the line
    q.events.length = 0;
    q.send({ type: "TICK", now: T0 + 2 });
    expect(q.events.map((e) => (e.type === "admitted" ? e.token : e.type))).toEqual(["t4", "t6", "t7"]);
    expect(q.positions("t8")).toEqual([1]);
  });

  it("RESTORE puts tokens back in seq order without emitting, and new joiners go behind them", () => {
    const q = startQueue({ activeMax: 1 });
    const entries: QueueEntry[] = [
      {
        token: "w9",
        userId: "u9",
        seq: 9,
        status: "waiting",
        drawKey: null,
        joinedAt: T0,
        lastSeenAt: T0,
        activatedAt: null,
        expiresAt: null,
      },
      {
        token: "a2",
        userId: "u2",
        seq: 2,
        status: "active",
        drawKey: null,
        joinedAt: T0,
        lastSeenAt: T0,
        activatedAt: T0 - 299_990,
        expiresAt: T0 + 300_010,
      },
      {
        token: "w4",
        userId: "u4",
        seq: 4,
        status: "waiting",
        drawKey: null,
        joinedAt: T0,
        lastSeenAt: T0,
        activatedAt: null,
        expiresAt: null,
      },
      {
        token: "w7",
        userId: "u7",
        seq: 7,
        status: "waiting",
        drawKey: null,
        joinedAt: T0,
        lastSeenAt: T0,
        activatedAt: null,
        expiresAt: null,
      },
    ];
    const restartAt = T0 + 300_000;
    q.send({ type: "RESTORE", entries, now: restartAt });
    expect(q.events).toEqual([]);
    expect(q.ctx().activeCount).toBe(1);
    expect(q.ctx().nextSeq).toBe(10);
    expect(q.positions("a2", "w4", "w7", "w9")).toEqual([0, 1, 2, 3]);
    // Waiting tokens get a fresh idle clock: nobody could check in while the server was down.
    expect(q.ctx().byToken.get("w4")?.lastSeenAt).toBe(restartAt);
    q.join(20, restartAt + 1);
    expect(q.ctx().byToken.get("t20")?.seq).toBe(10);
    expect(q.positions("t20")).toEqual([4]);
    // The restored active keeps its original expiry, then w4 takes its slot.
    q.send({ type: "TICK", now: T0 + 300_009 });
    expect(q.status("a2")).toBe("active");
    q.send({ type: "TICK", now: T0 + 300_010 });
    expect(q.status("a2")).toBeUndefined();
    expect(q.status("w4")).toBe("active");
    expect(q.positions("w7", "w9", "t20")).toEqual([1, 2, 3]);
    // A second RESTORE on a live queue is refused.
    expect(q.actor.getSnapshot().can({ type: "RESTORE", entries: [], now: T0 })).toBe(false);
  });

  it("etaSeconds is 0 at position 0", () => {
    const q = startQueue();
    expect(etaSeconds(q.ctx(), 0, T0)).toBe(0);
  });

  it("etaSeconds falls back to TTL / activeMax per place when nothing was admitted in the last 60 s", () => {
    const q = startQueue({ activeMax: 4, activeTtlMs: 600_000 });
    // 600 s / 4 slots = 150 s per place.
    expect(etaSeconds(q.ctx(), 1, T0)).toBe(150);
    expect(etaSeconds(q.ctx(), 3, T0)).toBe(450);
    // Admissions older than 60 s no longer count.
    q.join(1, T0);
    expect(etaSeconds(q.ctx(), 1, T0 + 60_000)).toBe(150);
  });

  it("etaSeconds uses the observed admission rate over the last 60 s", () => {
    const q = startQueue({ activeMax: 3 });
    q.join(1, T0);
    q.join(2, T0 + 1_000);
    q.join(3, T0 + 2_000);
    // 3 admissions in 60 s = 0.05/s: place 1 -> 20 s, place 4 -> 80 s, place 5 -> 100 s.
    expect(etaSeconds(q.ctx(), 1, T0 + 10_000)).toBe(20);
    expect(etaSeconds(q.ctx(), 4, T0 + 10_000)).toBe(80);
    expect(etaSeconds(q.ctx(), 5, T0 + 10_000)).toBe(100);
    // 60 s after the first admission only two are in the window: 0.0333/s -> 30 s per place.
    expect(etaSeconds(q.ctx(), 1, T0 + 60_000)).toBe(30);
  });

  it("TICK forgets admission times older than 60 s", () => {
    const q = startQueue({ activeMax: 3 });
    q.join(1, T0);
    q.join(2, T0 + 30_000);
    q.send({ type: "TICK", now: T0 + 61_000 });
    expect(q.ctx().admissions).toEqual([T0 + 30_000]);
  });

  it("positionOf stays exact with 100,000 waiting tokens after every 7th leaves", () => {
    const total = 100_000;
    const q = startQueue({ activeMax: 1 });
    // Seeded through RESTORE (one event) so the test measures the line, not 100k event dispatches.
    const entries: QueueEntry[] = [];
    for (let n = 0; n <= total; n++) {
      entries.push({
        token: `t${n}`,
        userId: `u${n}`,
        seq: n + 1,
        status: n === 0 ? "active" : "waiting",
        drawKey: null,
        joinedAt: T0,
        lastSeenAt: T0,
        activatedAt: n === 0 ? T0 : null,
        expiresAt: n === 0 ? T0 + CONFIG.activeTtlMs : null,
      });
    }
    q.send({ type: "RESTORE", entries, now: T0 });
    expect(waitingCount(q.ctx())).toBe(total);
    for (let n = 7; n <= total; n += 7) q.send({ type: "END", token: `t${n}`, now: T0 + 1 });
    const removed = Math.floor(total / 7);
    expect(waitingCount(q.ctx())).toBe(total - removed);
    // Token n keeps n - floor(n / 7) places.
    for (const n of [1, 6, 8, 13, 15, 49_999, 50_002, 99_998, 99_999, 100_000]) {
      expect(positionOf(q.ctx(), `t${n}`), `t${n}`).toBe(n - Math.floor(n / 7));
    }
    expect(positionOf(q.ctx(), "t14")).toBe(0);
    // Every remaining token, checked without expect() per call: ~86k lookups, which would
    // run for minutes (and hit the test timeout) if positionOf scanned the line.
    let wrong = 0;
    for (let n = 1; n <= total; n++) {
      const expected = n % 7 === 0 ? 0 : n - Math.floor(n / 7);
      if (positionOf(q.ctx(), `t${n}`) !== expected) wrong++;
    }
    expect(wrong).toBe(0);
    // And the front moves correctly: free the slot, admit one, everyone moves up by one.
    q.send({ type: "END", token: "t0", now: T0 + 2 });
    q.send({ type: "TICK", now: T0 + 3 });
    expect(q.status("t1")).toBe("active");
    expect(positionOf(q.ctx(), "t100000")).toBe(total - removed - 1);
  });
});

describe("queue machine: an on-sale's room", () => {
  const OPENS = T0 + 60_000;
  const preJoin = (q: ReturnType<typeof startQueue>, n: number, drawKey: string, now = T0) =>
    q.send({ type: "JOIN", token: `t${n}`, userId: `u${n}`, now, drawKey, entryId: `e${n}` });

  it("before opensAt check-ins join the pre-queue (no position, no admission), whatever room there is", () => {
    const q = startQueue({ opensAt: OPENS });
    preJoin(q, 1, "b");
    preJoin(q, 2, "a");
    expect([q.status("t1"), q.status("t2")]).toEqual(["pre", "pre"]);
    expect(q.positions("t1", "t2")).toEqual([0, 0]);
    expect(waitingCount(q.ctx())).toBe(2);
    expect(q.ctx().activeCount).toBe(0);
    expect(q.events).toEqual([]);
    // Not yet due: OPEN is refused.
    q.send({ type: "OPEN", now: OPENS - 1 });
    expect(q.status("t1")).toBe("pre");
  });

  it("OPEN draws the pre-queue by drawKey, admits the first activeMax and lines up the rest in drawn order", () => {
    const q = startQueue({ opensAt: OPENS, activeMax: 1 });
    preJoin(q, 1, "c");
    preJoin(q, 2, "a");
    preJoin(q, 3, "b");
    q.send({ type: "OPEN", now: OPENS });
    expect(q.events[0]).toEqual({
      type: "drawn",
      tokens: ["t2", "t3", "t1"],
      entryIds: ["e2", "e3", "e1"],
      now: OPENS,
    });
    expect(q.status("t2")).toBe("active");
    expect(q.positions("t3", "t1")).toEqual([1, 2]);
    // Later arrivals join behind, FIFO, and OPEN does not run twice.
    q.join(4, OPENS + 1);
    expect(q.positions("t4")).toEqual([3]);
    q.send({ type: "OPEN", now: OPENS + 2 });
    expect(q.events.filter((e) => e.type === "drawn")).toHaveLength(1);
  });

  it("the draw leaves out pre tokens not seen within the idle allowance before opensAt, even when it runs late", () => {
    const q = startQueue({ opensAt: OPENS, waitingIdleMs: 10_000 });
    preJoin(q, 1, "a", OPENS - 20_000);
    preJoin(q, 2, "b", OPENS - 5_000);
    q.send({ type: "OPEN", now: OPENS + 3_600_000 });
    expect(q.events).toContainEqual({ type: "left", token: "t1", userId: "u1", reason: "idle" });
    expect(q.events).toContainEqual({ type: "drawn", tokens: ["t2"], entryIds: ["e2"], now: OPENS + 3_600_000 });
    // The drawn get a fresh idle allowance from the (late) draw.
    q.send({ type: "TICK", now: OPENS + 3_600_000 + 5_000 });
    expect(q.status("t2")).toBe("active");
  });

  it("paused or without a seat to book, nobody is admitted; admission resumes when that changes", () => {
    const q = startQueue({ activeMax: 5 });
    q.send({ type: "CONFIGURE", paused: true });
    q.join(1);
    expect(q.status("t1")).toBe("waiting");
    q.send({ type: "CONFIGURE", paused: false });
    q.send({ type: "INVENTORY", canAdmit: false });
    q.send({ type: "TICK", now: T0 + 1 });
    expect(q.status("t1")).toBe("waiting");
    q.send({ type: "INVENTORY", canAdmit: true });
    q.send({ type: "TICK", now: T0 + 2 });
    expect(q.status("t1")).toBe("active");
  });

  it("SOLD_OUT ends every pre and waiting token (reason soldout), keeps the active ones and takes no new joiner", () => {
    const q = startQueue({ activeMax: 1 });
    q.join(1);
    q.join(2);
    q.join(3);
    q.events.length = 0;
    q.send({ type: "SOLD_OUT", now: T0 + 1 });
    expect(q.events).toEqual([
      { type: "left", token: "t2", userId: "u2", reason: "soldout" },
      { type: "left", token: "t3", userId: "u3", reason: "soldout" },
    ]);
    expect(q.status("t1")).toBe("active");
    q.join(4, T0 + 2);
    expect(q.status("t4")).toBeUndefined();
  });
});
