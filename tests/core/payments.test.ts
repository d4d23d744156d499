// Payments in process: all or nothing over several holds, the balance checked first, the queue
// token ended, the outcome durable.
import { afterEach, describe, expect, it } from "vitest";
import { type InProcess, startCore } from "../helpers/core.js";

async function booked(seats: number[]): Promise<{ s: InProcess; ids: number[] }> {
  const s = await startCore();
  const { catalog, reservations } = s.core.actors;
  await catalog.create(
    { title: "C", schedules: [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 10, price: 100 }] },
    Date.now(),
  );
  const ids: number[] = [];
  for (const seat of seats) ids.push((await reservations.hold("ann", 1, seat, 60_000, Date.now())).reservationId);
  return { s, ids };
}

describe("Payments", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("pay() debits the sum, sells every seat, ends the payer's queue token, and it all survives a restart", async () => {
    ({ s } = await booked([1, 2]));
    await s.activeToken("ann");
    await s.core.actors.wallets.charge("ann", 500, Date.now());
    const paid = await s.core.actors.payments.pay("ann", [1, 2], Date.now());
    expect(paid).toEqual({ paymentId: 1, reservationIds: [1, 2], amount: 200, balance: 300, status: "paid" });
    expect(s.core.actors.rooms.active).toBe(0);
    s = await s.restart();
    const { reservations, catalog, wallets } = s.core.actors;
    expect((await reservations.get("ann", 1, Date.now())).status).toBe("paid");
    expect(catalog.schedule(1).soldSeats).toBe(2);
    expect(wallets.balanceOf("ann")).toBe(300);
  });

  it("a short balance is INSUFFICIENT_BALANCE and nothing changes", async () => {
    ({ s } = await booked([1, 2]));
    await s.core.actors.wallets.charge("ann", 150, Date.now());
    await expect(s.core.actors.payments.pay("ann", [1, 2], Date.now())).rejects.toMatchObject({
      code: "INSUFFICIENT_BALANCE",
    });
    expect(s.core.actors.wallets.balanceOf("ann")).toBe(150);
    expect((await s.core.actors.reservations.get("ann", 2, Date.now())).status).toBe("held");
  });

  it("one bad id fails the whole payment: someone else's, an unknown one, a paid one", async () => {
    ({ s } = await booked([1]));
    const { reservations, payments, wallets } = s.core.actors;
    await reservations.hold("bo", 1, 5, 60_000, Date.now());
    await wallets.charge("ann", 1000, Date.now());
    await expect(payments.pay("ann", [1, 2], Date.now())).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(payments.pay("ann", [1, 99], Date.now())).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(wallets.balanceOf("ann")).toBe(1000);
    await payments.pay("ann", [1], Date.now());
    await expect(payments.pay("ann", [1], Date.now())).rejects.toMatchObject({ code: "ALREADY_PAID" });
    expect(wallets.balanceOf("ann")).toBe(900);
  });

  it("through the op with an Idempotency-Key: a replay gets the first response and pays once", async () => {
    ({ s } = await booked([1]));
    await s.core.actors.wallets.charge("ann", 500, Date.now());
    const first = await s.call("payments.create", { reservationIds: [1], idempotencyKey: "k" }, { user: "ann" });
    const again = await s.call("payments.create", { reservationIds: [1], idempotencyKey: "k" }, { user: "ann" });
    expect(first.status).toBe(201);
    expect(again).toEqual(first);
    expect(s.core.actors.wallets.balanceOf("ann")).toBe(400);
  });
});
