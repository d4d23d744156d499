import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import {
  type ScheduleEmitted,
  type ScheduleEvent,
  SEAT_AVAILABLE,
  SEAT_HELD,
  SEAT_SOLD,
  SEAT_STATUS_NAMES,
  scheduleMachine,
  seatStatus,
} from "../../machines/schedule.js";

function startSchedule(seats: Uint8Array, scheduleId = 3) {
  const actor = createActor(scheduleMachine, { input: { scheduleId, seats } });
  const diffs: ScheduleEmitted[] = [];
  actor.on("diff", (event) => diffs.push(event));
  actor.start();
  return { actor, diffs };
}

/** can() first, then send, as the host does; returns whether it was accepted. */
function apply(actor: ReturnType<typeof startSchedule>["actor"], event: ScheduleEvent): boolean {
  const ok = actor.getSnapshot().can(event);
  if (ok) actor.send(event);
  return ok;
}

describe("schedule machine", () => {
  it("exports the status bytes and their names in byte order", () => {
    expect([SEAT_AVAILABLE, SEAT_HELD, SEAT_SOLD]).toEqual([0, 1, 2]);
    expect(SEAT_STATUS_NAMES[SEAT_AVAILABLE]).toBe("available");
    expect(SEAT_STATUS_NAMES[SEAT_HELD]).toBe("held");
    expect(SEAT_STATUS_NAMES[SEAT_SOLD]).toBe("sold");
  });

  it("computes counts from the input map and starts at version 0 with nothing pending", () => {
    const { actor } = startSchedule(Uint8Array.from([0, 1, 2, 0, 2, 0]));
    const { context, value } = actor.getSnapshot();
    expect(value).toBe("selling");
    expect([context.available, context.held, context.sold]).toEqual([3, 1, 2]);
    expect(context.version).toBe(0);
    expect(context.pending.size).toBe(0);
  });

  it("HOLD takes an available seat and moves one from available to held", () => {
    const { actor } = startSchedule(new Uint8Array(5));
    expect(apply(actor, { type: "HOLD", seatNo: 2 })).toBe(true);
    const { context } = actor.getSnapshot();
    expect(seatStatus(context, 2)).toBe("held");
    expect([context.available, context.held, context.sold]).toEqual([4, 1, 0]);
  });

  it("HOLD of a held or sold seat is refused and changes nothing", () => {
    const { actor } = startSchedule(Uint8Array.from([1, 2, 0]));
    expect(apply(actor, { type: "HOLD", seatNo: 1 })).toBe(false);
    expect(apply(actor, { type: "HOLD", seatNo: 2 })).toBe(false);
    actor.send({ type: "HOLD", seatNo: 1 }); // even sent blindly
    const { context } = actor.getSnapshot();
    expect(Array.from(context.seats)).toEqual([1, 2, 0]);
    expect([context.available, context.held, context.sold]).toEqual([1, 1, 1]);
    expect(context.pending.size).toBe(0);
  });

  it("seat numbers outside 1..seats.length (or not integers) are refused without throwing", () => {
    const { actor } = startSchedule(new Uint8Array(3));
    for (const seatNo of [0, -1, 4, 1.5, Number.NaN]) {
      for (const type of ["HOLD", "FREE", "SELL"] as const) {
        expect(actor.getSnapshot().can({ type, seatNo })).toBe(false);
        expect(() => actor.send({ type, seatNo })).not.toThrow();
      }
    }
    expect(actor.getSnapshot().context.available).toBe(3);
    expect(actor.getSnapshot().status).toBe("active");
  });

  it("FREE returns a held seat to available; FREE of an available or sold seat is refused", () => {
    const { actor } = startSchedule(Uint8Array.from([1, 0, 2]));
    expect(apply(actor, { type: "FREE", seatNo: 2 })).toBe(false);
    expect(apply(actor, { type: "FREE", seatNo: 3 })).toBe(false);
    expect(apply(actor, { type: "FREE", seatNo: 1 })).toBe(true);
    const { context } = actor.getSnapshot();
    expect(Array.from(context.seats)).toEqual([0, 0, 2]);
    expect([context.available, context.held, context.sold]).toEqual([2, 0, 1]);
  });

  it("SELL turns a held seat sold; SELL of an available seat is refused (a hold must come first)", () => {
    const { actor } = startSchedule(Uint8Array.from([1, 0, 0]));
    expect(apply(actor, { type: "SELL", seatNo: 2 })).toBe(false);
    expect(apply(actor, { type: "SELL", seatNo: 1 })).toBe(true);
    expect(apply(actor, { type: "SELL", seatNo: 1 })).toBe(false);
    const { context } = actor.getSnapshot();
    expect(seatStatus(context, 1)).toBe("sold");
    expect([context.available, context.held, context.sold]).toEqual([2, 0, 1]);
  });

  it("mutates the given seat map in place: the same Uint8Array, no copy per change", () => {
    const seats = new Uint8Array(100_000);
    const { actor } = startSchedule(seats);
    apply(actor, { type: "HOLD", seatNo: 100_000 });
    apply(actor, { type: "HOLD", seatNo: 1 });
    apply(actor, { type: "SELL", seatNo: 1 });
    const { context } = actor.getSnapshot();
    expect(context.seats).toBe(seats);
    expect(seats[0]).toBe(SEAT_SOLD);
    expect(seats[99_999]).toBe(SEAT_HELD);
    expect([context.available, context.held, context.sold]).toEqual([99_998, 1, 1]);
  });

  it("seatStatus names a seat's status and is undefined out of range", () => {
    const { actor } = startSchedule(Uint8Array.from([0, 1, 2]));
    const { context } = actor.getSnapshot();
    expect([1, 2, 3].map((no) => seatStatus(context, no))).toEqual(["available", "held", "sold"]);
    expect(seatStatus(context, 0)).toBeUndefined();
    expect(seatStatus(context, 4)).toBeUndefined();
  });

  it("FLUSH with nothing pending neither bumps the version nor emits", () => {
    const { actor, diffs } = startSchedule(new Uint8Array(4));
    expect(actor.getSnapshot().can({ type: "FLUSH" })).toBe(false);
    actor.send({ type: "FLUSH" });
    expect(actor.getSnapshot().context.version).toBe(0);
    expect(diffs).toEqual([]);
  });

  it("FLUSH turns a window's changes into one diff with the next version, then clears pending", () => {
    const { actor, diffs } = startSchedule(new Uint8Array(10));
    apply(actor, { type: "HOLD", seatNo: 3 });
    apply(actor, { type: "HOLD", seatNo: 7 });
    apply(actor, { type: "SELL", seatNo: 7 });
    actor.send({ type: "FLUSH" });
    expect(diffs).toEqual([
      {
        type: "diff",
        scheduleId: 3,
        version: 1,
        changes: [
          { no: 3, status: "held" },
          { no: 7, status: "sold" },
        ],
      },
    ]);
    expect(actor.getSnapshot().context.version).toBe(1);
    expect(actor.getSnapshot().context.pending.size).toBe(0);

    actor.send({ type: "FLUSH" }); // an empty window
    apply(actor, { type: "FREE", seatNo: 3 });
    actor.send({ type: "FLUSH" });
    expect(diffs.map((diff) => diff.version)).toEqual([1, 2]);
    expect(diffs[1]?.changes).toEqual([{ no: 3, status: "available" }]);
  });

  it("a seat changed twice in one window is sent once, with its latest status", () => {
    const { actor, diffs } = startSchedule(new Uint8Array(4));
    apply(actor, { type: "HOLD", seatNo: 2 });
    apply(actor, { type: "SELL", seatNo: 2 });
    actor.send({ type: "FLUSH" });
    expect(diffs[0]?.changes).toEqual([{ no: 2, status: "sold" }]);
  });

  it("a seat held and freed within one window is still sent, as available", () => {
    const { actor, diffs } = startSchedule(new Uint8Array(4));
    apply(actor, { type: "HOLD", seatNo: 4 });
    apply(actor, { type: "FREE", seatNo: 4 });
    actor.send({ type: "FLUSH" });
    expect(diffs).toHaveLength(1);
    expect(diffs[0]?.changes).toEqual([{ no: 4, status: "available" }]);
    expect(diffs[0]?.version).toBe(1);
  });

  it("an emitted diff is not altered by later changes", () => {
    const { actor, diffs } = startSchedule(new Uint8Array(4));
    apply(actor, { type: "HOLD", seatNo: 1 });
    actor.send({ type: "FLUSH" });
    apply(actor, { type: "HOLD", seatNo: 2 });
    apply(actor, { type: "SELL", seatNo: 1 });
    expect(diffs[0]?.changes).toEqual([{ no: 1, status: "held" }]);
  });

  it("selling the last held seat when none is available moves to soldOut, which refuses HOLD/FREE/SELL", () => {
    const { actor, diffs } = startSchedule(Uint8Array.from([2, 0, 1]));
    apply(actor, { type: "HOLD", seatNo: 2 });
    apply(actor, { type: "SELL", seatNo: 2 });
    expect(actor.getSnapshot().value).toBe("selling"); // seat 3 is still held
    apply(actor, { type: "SELL", seatNo: 3 });
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe("soldOut");
    expect([snapshot.context.available, snapshot.context.held, snapshot.context.sold]).toEqual([0, 0, 3]);
    for (const type of ["HOLD", "FREE", "SELL"] as const) {
      for (const seatNo of [1, 2, 3]) expect(snapshot.can({ type, seatNo })).toBe(false);
    }
    // The last sales still go out.
    actor.send({ type: "FLUSH" });
    expect(diffs).toEqual([
      {
        type: "diff",
        scheduleId: 3,
        version: 1,
        changes: [
          { no: 2, status: "sold" },
          { no: 3, status: "sold" },
        ],
      },
    ]);
    expect(actor.getSnapshot().value).toBe("soldOut");
  });

  it("freeing the last held seat does not count as sold out", () => {
    const { actor } = startSchedule(Uint8Array.from([2, 1]));
    apply(actor, { type: "FREE", seatNo: 2 });
    expect(actor.getSnapshot().value).toBe("selling");
  });

  it("a schedule restored with every seat already sold starts in soldOut", () => {
    const { actor } = startSchedule(Uint8Array.from([2, 2, 2]));
    expect(actor.getSnapshot().value).toBe("soldOut");
  });
});
