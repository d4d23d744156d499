import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createActor } from "xstate";
import { type SeatEmitted, type SeatInput, seatMachine } from "../../machines/seat.js";

const HOLD_MS = 300_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

function holdInput(overrides: Partial<SeatInput> = {}): SeatInput {
  return {
    scheduleId: 7,
    seatNo: 42,
    reservationId: 1001,
    holder: "alice",
    expiresAt: Date.now() + HOLD_MS,
    // Reads the faked clock, as the host passes its own clock.
    now: () => Date.now(),
    ...overrides,
  };
}

function startSeat(overrides: Partial<SeatInput> = {}) {
  const actor = createActor(seatMachine, { input: holdInput(overrides) });
  const emitted: SeatEmitted[] = [];
  actor.on("expired", (event) => emitted.push(event));
  actor.start();
  return { actor, emitted };
}

describe("seat machine", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("starts held, with the input as its context", () => {
    const { actor } = startSeat();
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe("held");
    expect(snapshot.context).toMatchObject({ scheduleId: 7, seatNo: 42, reservationId: 1001, holder: "alice" });
    expect(snapshot.context.expiresAt).toBe(T0 + HOLD_MS);
  });

  it("a hold expires exactly at expiresAt, not a millisecond before", () => {
    const { actor, emitted } = startSeat();
    vi.advanceTimersByTime(HOLD_MS - 1);
    expect(actor.getSnapshot().value).toBe("held");
    expect(emitted).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(Date.now()).toBe(T0 + HOLD_MS);
    expect(actor.getSnapshot().value).toBe("expired");
    expect(actor.getSnapshot().status).toBe("done");
  });

  it("emits `expired` once, with the reservation, schedule, seat and holder", () => {
    const { emitted } = startSeat();
    vi.advanceTimersByTime(HOLD_MS + 10_000);
    expect(emitted).toEqual([{ type: "expired", reservationId: 1001, scheduleId: 7, seatNo: 42, holder: "alice" }]);
  });

  it("a hold restored after a restart expires at its original expiresAt, not a full TTL later", () => {
    // Held at T0 - 100 s; the process restarts now (T0) and restores it with the original expiry.
    const { actor } = startSeat({ expiresAt: T0 - 100_000 + HOLD_MS });
    vi.advanceTimersByTime(HOLD_MS - 100_000 - 1);
    expect(actor.getSnapshot().value).toBe("held");
    vi.advanceTimersByTime(1);
    expect(actor.getSnapshot().value).toBe("expired");
  });

  it("a restored hold whose expiresAt is already past expires at once (delay 0)", () => {
    const { actor, emitted } = startSeat({ expiresAt: T0 - 5_000 });
    // Already unpayable before the zero-delay timer fires.
    expect(actor.getSnapshot().can({ type: "PAY", userId: "alice" })).toBe(false);
    vi.advanceTimersByTime(0);
    expect(actor.getSnapshot().value).toBe("expired");
    expect(emitted).toHaveLength(1);
  });

  it("the holder can release: released is final and no expiry follows", () => {
    const { actor, emitted } = startSeat();
    const release = { type: "RELEASE", userId: "alice" } as const;
    expect(actor.getSnapshot().can(release)).toBe(true);
    actor.send(release);
    expect(actor.getSnapshot().value).toBe("released");
    expect(actor.getSnapshot().status).toBe("done");
    vi.advanceTimersByTime(HOLD_MS * 2);
    expect(actor.getSnapshot().value).toBe("released");
    expect(emitted).toEqual([]);
  });

  it("the holder can pay before expiry: paid is final and no expiry follows", () => {
    const { actor, emitted } = startSeat();
    vi.advanceTimersByTime(HOLD_MS - 1);
    const pay = { type: "PAY", userId: "alice" } as const;
    expect(actor.getSnapshot().can(pay)).toBe(true);
    actor.send(pay);
    expect(actor.getSnapshot().value).toBe("paid");
    vi.advanceTimersByTime(HOLD_MS * 2);
    expect(actor.getSnapshot().value).toBe("paid");
    expect(emitted).toEqual([]);
  });

  it("RELEASE by another user is refused: can is false and the hold stays", () => {
    const { actor } = startSeat();
    const release = { type: "RELEASE", userId: "mallory" } as const;
    expect(actor.getSnapshot().can(release)).toBe(false);
    actor.send(release);
    expect(actor.getSnapshot().value).toBe("held");
  });

  it("PAY by another user is refused: can is false and the hold stays", () => {
    const { actor } = startSeat();
    const pay = { type: "PAY", userId: "mallory" } as const;
    expect(actor.getSnapshot().can(pay)).toBe(false);
    actor.send(pay);
    expect(actor.getSnapshot().value).toBe("held");
  });

  it("PAY at or after expiresAt is refused even when the expiry timer has not fired yet", () => {
    const { actor } = startSeat();
    const pay = { type: "PAY", userId: "alice" } as const;
    // Move the clock without running timers: a busy event loop has delayed the expiry timer.
    vi.setSystemTime(T0 + HOLD_MS);
    expect(actor.getSnapshot().value).toBe("held");
    expect(actor.getSnapshot().can(pay)).toBe(false);
    actor.send(pay);
    expect(actor.getSnapshot().value).toBe("held");
    // The holder may still let go of a hold whose timer is late.
    expect(actor.getSnapshot().can({ type: "RELEASE", userId: "alice" })).toBe(true);
    // setSystemTime shifts pending fake timers along with the clock, so the late timer is
    // still a full TTL away; when it does fire, the hold ends as usual.
    vi.advanceTimersByTime(HOLD_MS);
    expect(actor.getSnapshot().value).toBe("expired");
  });

  it("nothing is accepted once the hold has expired", () => {
    const { actor } = startSeat();
    vi.advanceTimersByTime(HOLD_MS);
    expect(actor.getSnapshot().can({ type: "PAY", userId: "alice" })).toBe(false);
    expect(actor.getSnapshot().can({ type: "RELEASE", userId: "alice" })).toBe(false);
  });
});
