// The owner's side of a payment coordinated by another cluster node (src/cluster/payments.ts), in
// process: Reservations.lockForPayment checks holds as a payment would and locks them (no release,
// no expiry, no second payment meanwhile); settlePayment applies the outcome in memory; a lock
// that lapses without an outcome asks the database whether the hold was sold.
import { afterEach, describe, expect, it } from "vitest";
import { type InProcess, startCore } from "../helpers/core.js";

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function withSchedule(): Promise<InProcess> {
  const s = await startCore();
  await s.core.actors.catalog.create(
    { title: "C", schedules: [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 5, price: 700 }] },
    Date.now(),
  );
  return s;
}

describe("payment locks (the owner's side of a payment across owners)", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("locks live holds with their prices; refuses as a payment would: another's 403, unknown 404, locked 503", async () => {
    s = await withSchedule();
    const { reservations } = s.core.actors;
    const now = Date.now();
    const a = await reservations.hold("ann", 1, 1, 60_000, now);
    const b = await reservations.hold("ann", 1, 2, 60_000, now);
    const locked = await reservations.lockForPayment("ann", [a.reservationId, b.reservationId], now, 5000);
    expect(locked).toEqual({
      holds: [
        { reservationId: a.reservationId, price: 700 },
        { reservationId: b.reservationId, price: 700 },
      ],
      heldAt: now,
    });
    await expect(reservations.lockForPayment("bo", [a.reservationId], now, 5000)).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(reservations.lockForPayment("ann", [999], now, 5000)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const again = reservations.lockForPayment("ann", [a.reservationId], now, 5000);
    await expect(again).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(((await again.catch((error) => error)) as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(1);
    await expect(reservations.release("ann", b.reservationId, now)).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("a lock that does not all succeed locks nothing", async () => {
    s = await withSchedule();
    const { reservations } = s.core.actors;
    const now = Date.now();
    const a = await reservations.hold("ann", 1, 1, 60_000, now);
    const other = await reservations.hold("bo", 1, 2, 60_000, now);
    await expect(
      reservations.lockForPayment("ann", [a.reservationId, other.reservationId], now, 5000),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    await reservations.release("ann", a.reservationId, now);
  });

  it("paid: the seats are sold in memory and the holds end; not paid: the holds are live again", async () => {
    s = await withSchedule();
    const { reservations, catalog } = s.core.actors;
    const now = Date.now();
    const a = await reservations.hold("ann", 1, 1, 60_000, now);
    const b = await reservations.hold("ann", 1, 2, 60_000, now);
    await reservations.lockForPayment("ann", [a.reservationId], now, 5000);
    await reservations.lockForPayment("ann", [b.reservationId], now, 5000);
    expect(reservations.settlePayment([a.reservationId], true, now)).toEqual(new Set([1]));
    expect(catalog.schedule(1).view().seats[0]!.status).toBe("sold");
    expect(reservations.holdsOf("ann")).toBe(1);
    expect(reservations.settlePayment([b.reservationId], false, now)).toEqual(new Set());
    expect(catalog.schedule(1).view().seats[1]!.status).toBe("held");
    await reservations.release("ann", b.reservationId, now);
    expect(catalog.schedule(1).view().seats[1]!.status).toBe("available");
  });

  it("a hold does not expire while locked; unpaid after its expiresAt, it expires as the lock ends", async () => {
    s = await withSchedule();
    const { reservations, catalog } = s.core.actors;
    const now = Date.now();
    const a = await reservations.hold("ann", 1, 1, 100, now);
    await reservations.lockForPayment("ann", [a.reservationId], now, 5000);
    await sleep(250);
    expect(catalog.schedule(1).view().seats[0]!.status).toBe("held");
    reservations.settlePayment([a.reservationId], false, Date.now());
    expect(catalog.schedule(1).view().seats[0]!.status).toBe("available");
    expect((await reservations.get("ann", a.reservationId, Date.now())).status).toBe("expired");
  });

  it("a lapsed lock without an outcome: the database says the hold is still held, so it is live again", async () => {
    s = await withSchedule();
    const { reservations, catalog } = s.core.actors;
    const now = Date.now();
    const a = await reservations.hold("ann", 1, 1, 60_000, now);
    await reservations.lockForPayment("ann", [a.reservationId], now, 10);
    expect(await reservations.settleLapsed(now + 5)).toEqual(new Map());
    await expect(reservations.release("ann", a.reservationId, now)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(await reservations.settleLapsed(now + 20)).toEqual(new Map());
    await reservations.release("ann", a.reservationId, now);
    expect(catalog.schedule(1).view().seats[0]!.status).toBe("available");
  });

  it("a lapsed lock without an outcome: the database says the hold was paid, so its seat is sold", async () => {
    s = await withSchedule();
    const { reservations, catalog } = s.core.actors;
    const { store } = s.core.storage;
    const now = Date.now();
    const a = await reservations.hold("ann", 1, 1, 60_000, now);
    await reservations.lockForPayment("ann", [a.reservationId], now, 10);
    // The coordinator's transaction committed; its message to this owner was lost.
    await store.writeNow(() => {
      store.insertPayment(77, "ann", 700, now);
      store.payReservation(a.reservationId, 77);
    });
    expect(await reservations.settleLapsed(now + 20)).toEqual(
      new Map([["ann", { concerts: new Set([1]), lockedAt: now }]]),
    );
    expect(catalog.schedule(1).view().seats[0]!.status).toBe("sold");
    expect((await reservations.get("ann", a.reservationId, Date.now())).status).toBe("paid");
  });

  it("a payment's late outcome ends the token it was made under, not one its payer took since", async () => {
    s = await withSchedule();
    const { rooms } = s.core.actors;
    const before = await s.activeToken("ann");
    const lockedAt = Date.now();
    rooms.endFor("ann", [1], Date.now(), lockedAt + 1);
    expect((await s.call("queue.check", {}, { user: "ann", queueToken: before })).body).toMatchObject({
      status: "active",
    });
    const after = (await s.ok("queue.check", {}, { user: "ann" })).token;
    expect(after).not.toBe(before);
    await new Promise((done) => setTimeout(done, 5));
    rooms.endFor("ann", [1], Date.now(), lockedAt);
    expect((await s.ok("queue.check", {}, { user: "ann", queueToken: after })).token).toBe(after);
  });
});
