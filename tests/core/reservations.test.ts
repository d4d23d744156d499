// Reservations in process: holds, the hold limit, release, expiry at the original time, restore.
import { afterEach, describe, expect, it } from "vitest";
import { type InProcess, startCore } from "../helpers/core.js";

async function withSchedule(env: Record<string, string> = {}, seatCount = 5): Promise<InProcess> {
  const s = await startCore(env);
  await s.core.actors.catalog.create(
    { title: "C", schedules: [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount, price: 700 }] },
    Date.now(),
  );
  return s;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("Reservations", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("hold() takes a free seat for the TTL; the seat is then held on the map and to others", async () => {
    s = await withSchedule();
    const { reservations, catalog } = s.core.actors;
    const now = Date.now();
    const held = await reservations.hold("ann", 1, 3, 60_000, now);
    expect(held).toEqual({
      reservationId: 1,
      scheduleId: 1,
      seatNo: 3,
      price: 700,
      status: "held",
      expiresAt: new Date(now + 60_000).toISOString(),
    });
    expect(catalog.schedule(1).isAvailable(3)).toBe(false);
    await expect(reservations.hold("bo", 1, 3, 60_000, now)).rejects.toMatchObject({ code: "SEAT_UNAVAILABLE" });
    await expect(reservations.hold("bo", 1, 6, 60_000, now)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await reservations.get("ann", 1, now)).status).toBe("held");
    await expect(reservations.get("bo", 1, now)).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("the hold limit is checked before the seat (MAX_HOLDS_PER_USER)", async () => {
    s = await withSchedule({ MAX_HOLDS_PER_USER: "2" });
    const { reservations } = s.core.actors;
    const now = Date.now();
    await reservations.hold("ann", 1, 1, 60_000, now);
    await reservations.hold("ann", 1, 2, 60_000, now);
    await expect(reservations.hold("ann", 1, 1, 60_000, now)).rejects.toMatchObject({ code: "HOLD_LIMIT" });
    expect(reservations.holdsOf("ann")).toBe(2);
  });

  it("release() frees the seat once; releasing again is HOLD_EXPIRED (the contract's code for a released hold)", async () => {
    s = await withSchedule();
    const { reservations, catalog } = s.core.actors;
    const now = Date.now();
    await reservations.hold("ann", 1, 1, 60_000, now);
    expect(await reservations.release("ann", 1, now)).toEqual({ reservationId: 1, status: "released" });
    expect(catalog.schedule(1).isAvailable(1)).toBe(true);
    expect(reservations.liveHold("ann", 1, now)).toBeUndefined();
    await expect(reservations.refuse("ann", 1, now)).rejects.toMatchObject({ code: "HOLD_EXPIRED" });
    expect((await reservations.get("ann", 1, now)).status).toBe("released");
  });

  it("a hold expires by itself at its expiresAt, freeing the seat, with no request", async () => {
    s = await withSchedule();
    const { reservations, catalog } = s.core.actors;
    await reservations.hold("ann", 1, 2, 150, Date.now());
    await sleep(400);
    expect(catalog.schedule(1).isAvailable(2)).toBe(true);
    expect((await reservations.get("ann", 1, Date.now())).status).toBe("expired");
    expect(reservations.liveCount).toBe(0);
  });

  it("a live hold comes back after a restart with its original expiresAt", async () => {
    s = await withSchedule();
    const now = Date.now();
    await s.core.actors.reservations.hold("ann", 1, 4, 60_000, now);
    s = await s.restart();
    const { reservations, catalog } = s.core.actors;
    expect(await reservations.get("ann", 1, now)).toMatchObject({
      status: "held",
      expiresAt: new Date(now + 60_000).toISOString(),
    });
    expect(catalog.schedule(1).isAvailable(4)).toBe(false);
    expect(reservations.holdsOf("ann")).toBe(1);
  });
});

describe("Reservations.list", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("lists the caller's reservations newest first with their concert and current status, filtered by status", async () => {
    s = await withSchedule({}, 10);
    const { reservations, wallets, payments } = s.core.actors;
    const now = Date.now();
    for (const seat of [1, 2, 3, 4]) await reservations.hold("ann", 1, seat, 60_000, now);
    await reservations.hold("bo", 1, 9, 60_000, now);
    await reservations.release("ann", 2, now);
    await wallets.charge("ann", 700, now);
    await payments.pay("ann", [3], now);
    const statuses = async (filter: "held" | "paid" | "all") =>
      (await reservations.list("ann", filter, Date.now())).map((r) => [r.reservationId, r.status]);
    expect(await statuses("all")).toEqual([
      [4, "held"],
      [3, "paid"],
      [2, "released"],
      [1, "held"],
    ]);
    expect(await statuses("held")).toEqual([
      [4, "held"],
      [1, "held"],
    ]);
    expect(await statuses("paid")).toEqual([[3, "paid"]]);
    expect((await reservations.list("ann", "all", now))[0]).toEqual({
      reservationId: 4,
      scheduleId: 1,
      concertId: 1,
      seatNo: 4,
      price: 700,
      status: "held",
      expiresAt: new Date(now + 60_000).toISOString(),
    });
  });

  it("a hold past its expiresAt is listed expired, not held; at most 200 are listed", async () => {
    s = await withSchedule({ MAX_HOLDS_PER_USER: "1000" }, 300);
    const { reservations } = s.core.actors;
    const now = Date.now();
    await reservations.hold("ann", 1, 1, 100, now);
    expect(await reservations.list("ann", "held", now + 100)).toEqual([]);
    expect((await reservations.list("ann", "all", now + 100))[0]?.status).toBe("expired");
    for (let seat = 2; seat <= 250; seat++) await reservations.hold("ann", 1, seat, 60_000, now);
    const listed = await reservations.list("ann", "all", now);
    expect(listed).toHaveLength(200);
    expect(listed[0]?.reservationId).toBe(250);
  });
});
