// On-sales in process: a waiting room per concert, the pre-queue and its verifiable draw at the
// opening, admission that knows the inventory, sold-out, the admin's changes, the gate per room,
// and all of it across restarts. The clock is driven by hand: each room is ticked at a chosen time.
import { createHash, createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { codeOf, type InProcess, startCore } from "../helpers/core.js";

const HOUR = 3_600_000;

/** Recomputes a draw from published values only (an oracle apart from src/draw.ts). */
function recompute(seed: string, entries: string[]): string[] {
  const key = (entryId: string) =>
    createHmac("sha256", Buffer.from(seed, "ascii")).update(entryId, "ascii").digest("hex");
  return [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const entryOf = (concertId: number, userId: string) =>
  createHash("sha256").update(`${concertId}:${userId}`).digest("hex");

async function onSaleConcert(
  s: InProcess,
  onSale: Record<string, unknown>,
  seatCount = 10,
): Promise<{ id: number; onSale: any }> {
  return s.ok(
    "admin.concerts.create",
    {
      title: "On sale",
      schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount, price: 100 }],
      onSale,
    },
    { admin: true },
  );
}

/** Each fan checks in again at `at` (the clock the test drives). */
async function seenAt(s: InProcess, concertId: number, fans: string[], at: number): Promise<void> {
  const room = s.core.actors.rooms.gateOf(concertId);
  for (const fan of fans) await room.check(fan, undefined, at, () => "192.0.2.1");
}

/** Ticks every room at `at` and waits for what the tick decided to be committed. */
async function tickAt(s: InProcess, at: number): Promise<void> {
  for (const room of s.core.actors.rooms.all()) room.tick(at);
  await s.core.commits.afterPending();
  await new Promise((done) => setImmediate(done));
}

describe("on-sales", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("before the opening: a pre-queue with a published commitment; at the opening a draw anyone can recompute", async () => {
    s = await startCore({ QUEUE_ACTIVE_MAX: "2" });
    const opensAt = Date.now() + HOUR;
    const concert = await onSaleConcert(s, { opensAt: new Date(opensAt).toISOString() });
    expect(concert.onSale).toMatchObject({ state: "scheduled", seed: null, activeMax: 2, waiting: 0 });
    expect(concert.onSale.commitment).toMatch(/^[0-9a-f]{64}$/);

    const fans = ["ana", "ben", "cai", "dee", "eli"];
    for (const fan of fans) {
      const status = await s.ok("queue.check", { concertId: concert.id }, { user: fan });
      expect(status).toMatchObject({ concertId: concert.id, status: "pre", position: null, etaSeconds: null });
      expect(status.opensAt).toBe(new Date(opensAt).toISOString());
    }
    // Checking in again keeps the one token per room.
    const again = await s.ok("queue.check", { concertId: concert.id }, { user: "ana" });
    expect(again.status).toBe("pre");
    expect((await s.ok("onsale.get", { concertId: concert.id }, { user: "ana" })).waiting).toBe(5);
    expect(await s.ok("draw.get", { concertId: concert.id }, { user: "ana" })).toMatchObject({
      seed: null,
      entries: [],
    });

    // They are still there a moment before the opening (the draw counts those seen within the idle allowance).
    await seenAt(s, concert.id, fans, opensAt - 1000);
    await tickAt(s, opensAt);
    const draw = await s.ok("draw.get", { concertId: concert.id }, { user: "ana" });
    expect(createHash("sha256").update(draw.seed, "ascii").digest("hex")).toBe(concert.onSale.commitment);
    expect(new Set(draw.entries)).toEqual(new Set(fans.map((fan) => entryOf(concert.id, fan))));
    expect(draw.entries).toEqual(recompute(draw.seed, draw.entries));

    // The first two in drawn order are admitted; the others wait in that order.
    const byEntry = new Map(fans.map((fan) => [entryOf(concert.id, fan), fan]));
    const order = draw.entries.map((entry: string) => byEntry.get(entry)!);
    const statuses = await Promise.all(
      order.map((fan: string) => s.ok("queue.check", { concertId: concert.id }, { user: fan })),
    );
    expect(statuses.map((x) => [x.status, x.position])).toEqual([
      ["active", 0],
      ["active", 0],
      ["waiting", 1],
      ["waiting", 2],
      ["waiting", 3],
    ]);
    const status = await s.ok("onsale.get", { concertId: concert.id }, { user: "ana" });
    expect(status).toMatchObject({
      state: "open",
      seed: draw.seed,
      active: 2,
      waiting: 3,
      title: "On sale",
      timeZone: "UTC",
    });
    // The list of on-sales shows the same, before a fan holds any token.
    expect((await s.ok("onsales.list", {}, { user: "newcomer" })).onSales).toEqual([status]);
  });

  it("a fan who went idle before the opening is not drawn; later arrivals queue behind the drawn order, FIFO", async () => {
    s = await startCore({ QUEUE_ACTIVE_MAX: "1", QUEUE_WAITING_IDLE_MS: "60000" });
    const opensAt = Date.now() + HOUR;
    const concert = await onSaleConcert(s, { opensAt: new Date(opensAt).toISOString() });
    for (const fan of ["a", "b", "c"]) await s.ok("queue.check", { concertId: concert.id }, { user: fan });
    // Only b and c are seen again shortly before the opening.
    await seenAt(s, concert.id, ["b", "c"], opensAt - 1000);
    const room = s.core.actors.rooms.gateOf(concert.id);
    await tickAt(s, opensAt + 1);
    const draw = await s.ok("draw.get", { concertId: concert.id }, { user: "a" });
    expect(draw.entries.sort()).toEqual([entryOf(concert.id, "b"), entryOf(concert.id, "c")].sort());
    const late = await room.check("z", undefined, opensAt + 2, () => "192.0.2.1");
    expect(late).toMatchObject({ status: "waiting", position: 2 });
  });

  it("an on-sale without a future opensAt opens at once, with no draw", async () => {
    s = await startCore();
    const concert = await onSaleConcert(s, { activeMax: 5 });
    expect(concert.onSale).toMatchObject({ state: "open", opensAt: null, commitment: null, seed: null, activeMax: 5 });
    const status = await s.ok("queue.check", { concertId: concert.id }, { user: "fan" });
    expect(status).toMatchObject({ concertId: concert.id, status: "active", opensAt: null });
    // A concert without an on-sale is behind the site room; its on-sale endpoints are 404.
    const plain = await s.ok(
      "admin.concerts.create",
      { title: "Plain", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 1, price: 1 }] },
      { admin: true },
    );
    expect((await s.ok("queue.check", { concertId: plain.id }, { user: "fan" })).concertId).toBeNull();
    expect(codeOf(await s.call("onsale.get", { concertId: plain.id }, { user: "fan" }))).toBe("NOT_FOUND");
    expect(codeOf(await s.call("queue.check", { concertId: 999 }, { user: "fan" }))).toBe("NOT_FOUND");
    // A venue's time zone is kept (and shown with the on-sale); an unknown zone is 400.
    const seoul = await s.ok(
      "admin.concerts.create",
      {
        title: "Seoul",
        timeZone: "Asia/Seoul",
        schedules: [{ startsAt: "2027-06-01T19:00:00+09:00", seatCount: 1, price: 1 }],
        onSale: {},
      },
      { admin: true },
    );
    expect(seoul.onSale.timeZone).toBe("Asia/Seoul");
    const unknown = await s.call(
      "admin.concerts.create",
      {
        title: "x",
        timeZone: "Mars/Olympus",
        schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 1, price: 1 }],
      },
      { admin: true },
    );
    expect(codeOf(unknown)).toBe("INVALID_ARGUMENT");
  });

  it("each room gates its own concert: a site token for an on-sale concert is 403, and the other way round", async () => {
    s = await startCore();
    const onSale = await onSaleConcert(s, {});
    const plain = await s.ok(
      "admin.concerts.create",
      { title: "Plain", schedules: [{ startsAt: "2027-06-01T19:00:00Z", seatCount: 5, price: 1 }] },
      { admin: true },
    );
    const site = await s.activeToken("fan");
    const room = (await s.ok("queue.check", { concertId: onSale.id }, { user: "fan" })).token;
    const schedules = (concertId: number, queueToken: string) =>
      s.call("schedules.list", { concertId }, { user: "fan", queueToken });
    expect(codeOf(await schedules(onSale.id, site))).toBe("FORBIDDEN");
    expect((await schedules(onSale.id, room)).status).toBe(200);
    expect(codeOf(await schedules(plain.id, room))).toBe("FORBIDDEN");
    expect((await schedules(plain.id, site)).status).toBe(200);
    // The concert list takes an active token of any room.
    expect((await s.call("concerts.list", {}, { user: "fan", queueToken: room })).status).toBe(200);
    // A payment ends the payer's token of the room its seats belong to, not the other.
    const scheduleId = ((await schedules(onSale.id, room)).body as any).schedules[0].id;
    const hold = await s.ok("reservations.create", { scheduleId, seatNo: 1 }, { user: "fan", queueToken: room });
    await s.core.actors.wallets.charge("fan", 100, Date.now());
    await s.ok("payments.create", { reservationIds: [hold.reservationId] }, { user: "fan" });
    expect(codeOf(await schedules(onSale.id, room))).toBe("TOKEN_INVALID");
    expect((await schedules(plain.id, site)).status).toBe(200);
  });

  it("admission knows the inventory: nobody is let in while no seat is free, a released hold reopens it, and a sold-out on-sale ends its line", async () => {
    s = await startCore({ QUEUE_ACTIVE_MAX: "1" });
    const concert = await onSaleConcert(s, {}, 1);
    const scheduleId = 1;
    const first = await s.ok("queue.check", { concertId: concert.id }, { user: "one" });
    expect(first.status).toBe("active");
    const hold = await s.ok("reservations.create", { scheduleId, seatNo: 1 }, { user: "one", queueToken: first.token });
    const waiting = await s.ok("queue.check", { concertId: concert.id }, { user: "two" });
    expect(waiting.status).toBe("waiting");
    // The active token expires; with the only seat held, nobody takes its place.
    await s.ok("reservations.release", { reservationId: hold.reservationId }, { user: "one" });
    const again = await s.ok(
      "reservations.create",
      { scheduleId, seatNo: 1 },
      { user: "one", queueToken: first.token },
    );
    const room = s.core.actors.rooms.gateOf(concert.id);
    room.endFor("one", Date.now());
    await tickAt(s, Date.now());
    expect((await s.ok("queue.check", { concertId: concert.id }, { user: "two" })).status).toBe("waiting");
    // Released: the seat is free again, so the next tick admits.
    await s.ok("reservations.release", { reservationId: again.reservationId }, { user: "one" });
    await tickAt(s, Date.now());
    const admitted = await s.ok("queue.check", { concertId: concert.id }, { user: "two" });
    expect(admitted.status).toBe("active");
    const three = await s.ok("queue.check", { concertId: concert.id }, { user: "three" });
    expect(three.status).toBe("waiting");
    // "two" buys the last seat: sold out, the line ends, and a new fan is told 410.
    const last = await s.ok(
      "reservations.create",
      { scheduleId, seatNo: 1 },
      { user: "two", queueToken: admitted.token },
    );
    await s.core.actors.wallets.charge("two", 100, Date.now());
    await s.ok("payments.create", { reservationIds: [last.reservationId] }, { user: "two" });
    await tickAt(s, Date.now());
    expect((await s.ok("onsale.get", { concertId: concert.id }, { user: "two" })).state).toBe("soldout");
    expect(codeOf(await s.call("queue.check", { concertId: concert.id }, { user: "three" }))).toBe("SOLD_OUT");
    expect(codeOf(await s.call("queue.check", { concertId: concert.id }, { user: "four" }))).toBe("SOLD_OUT");
  });

  it("the admin moves the opening only before it, resizes the active set and pauses admission", async () => {
    s = await startCore({ QUEUE_ACTIVE_MAX: "1" });
    const opensAt = Date.now() + HOUR;
    const concert = await onSaleConcert(s, { opensAt: new Date(opensAt).toISOString() });
    const later = new Date(opensAt + HOUR).toISOString();
    const moved = await s.ok(
      "admin.onsale.update",
      { concertId: concert.id, opensAt: later, activeMax: 2 },
      { admin: true },
    );
    expect(moved).toMatchObject({
      opensAt: later,
      activeMax: 2,
      state: "scheduled",
      commitment: concert.onSale.commitment,
    });
    const update = (args: Record<string, unknown>) =>
      s.call("admin.onsale.update", { concertId: concert.id, ...args }, { admin: true });
    expect(codeOf(await update({ opensAt: null }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(await update({ opensAt: new Date(Date.now() - 1000).toISOString() }))).toBe("INVALID_ARGUMENT");
    for (const fan of ["a", "b", "c"]) await s.ok("queue.check", { concertId: concert.id }, { user: fan });
    await seenAt(s, concert.id, ["a", "b", "c"], opensAt + HOUR - 1000);
    expect(((await update({ paused: true })).body as any).state).toBe("paused");
    await tickAt(s, opensAt + 2 * HOUR);
    expect((await s.ok("onsale.get", { concertId: concert.id }, { user: "a" })).active).toBe(0);
    expect(codeOf(await update({ opensAt: new Date(Date.now() + 3 * HOUR).toISOString() }))).toBe("INVALID_ARGUMENT");
    await update({ paused: false });
    await tickAt(s, opensAt + 2 * HOUR + 1);
    expect((await s.ok("onsale.get", { concertId: concert.id }, { user: "a" })).active).toBe(2);
  });

  it("a restart before the opening keeps the seed and the pre-queue; after it, the drawn order", async () => {
    s = await startCore({ QUEUE_ACTIVE_MAX: "1" });
    const opensAt = Date.now() + HOUR;
    const concert = await onSaleConcert(s, { opensAt: new Date(opensAt).toISOString() });
    const fans = ["p", "q", "r", "s", "t"];
    for (const fan of fans) await s.ok("queue.check", { concertId: concert.id }, { user: fan });
    s = await s.restart();
    expect((await s.ok("onsale.get", { concertId: concert.id }, { user: "p" })).commitment).toBe(
      concert.onSale.commitment,
    );
    // The pre-queue was seen just before the opening (a restart gives no fresh idle allowance to the draw).
    await seenAt(s, concert.id, fans, opensAt - 1);
    await tickAt(s, opensAt);
    const draw = await s.ok("draw.get", { concertId: concert.id }, { user: "p" });
    expect(draw.entries).toEqual(recompute(draw.seed, draw.entries));
    expect(createHash("sha256").update(draw.seed, "ascii").digest("hex")).toBe(concert.onSale.commitment);
    const byEntry = new Map(fans.map((fan) => [entryOf(concert.id, fan), fan]));
    const order = draw.entries.map((entry: string) => byEntry.get(entry)!);
    s = await s.restart();
    const after = s.core.actors.rooms.gateOf(concert.id);
    const positions = await Promise.all(order.map((fan: string) => after.check(fan, undefined, Date.now(), () => "x")));
    expect(positions.map((p) => p.position)).toEqual([0, 1, 2, 3, 4]);
    expect((await s.ok("draw.get", { concertId: concert.id }, { user: "p" })).entries).toEqual(draw.entries);
  });
});

describe("on-sales nobody visited before the opening", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("a first check-in after opensAt joins the line at once (an empty draw ran), not a closed pre-queue", async () => {
    s = await startCore();
    const opensAt = Date.now() + 300;
    const concert = await onSaleConcert(s, { opensAt: new Date(opensAt).toISOString() });
    await new Promise((done) => setTimeout(done, 400));
    const status = await s.ok("queue.check", { concertId: concert.id }, { user: "late" });
    expect(status).toMatchObject({ status: "active", position: 0 });
    const draw = await s.ok("draw.get", { concertId: concert.id }, { user: "late" });
    expect(draw.entries).toEqual([]);
    expect(createHash("sha256").update(draw.seed, "ascii").digest("hex")).toBe(concert.onSale.commitment);
  });
});
