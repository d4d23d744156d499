import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createActor, initialTransition, transition } from "xstate";
import { type SeatEvent, type SeatInput, seatMachine } from "../../machines/seat.js";
import { type Hold, seatAccepts, seatOutcome, seatRules } from "../../src/actors/holds.js";

const HOLD_MS = 300_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const EXPIRES_AT = T0 + HOLD_MS;

function holdInput(overrides: Partial<SeatInput> = {}): SeatInput {
  return { scheduleId: 7, seatNo: 42, reservationId: 1001, holder: "alice", expiresAt: EXPIRES_AT, ...overrides };
}

/** The seat's snapshot right after the hold, and the state `event` moves it to. */
function held(overrides: Partial<SeatInput> = {}) {
  const [snapshot, actions] = initialTransition(seatMachine, holdInput(overrides));
  return { snapshot, actions, step: (event: SeatEvent) => transition(seatMachine, snapshot, event)[0] };
}

describe("seat machine", () => {
  it("starts held, with the input as its context and nothing to execute", () => {
    const { snapshot, actions } = held();
    expect(snapshot.value).toBe("held");
    expect(snapshot.status).toBe("active");
    expect(snapshot.context).toEqual(holdInput());
    expect(actions).toEqual([]);
  });

  it("the holder can release: released is final", () => {
    const next = held().step({ type: "RELEASE", userId: "alice" });
    expect(next.value).toBe("released");
    expect(next.status).toBe("done");
  });

  it("RELEASE by another user is refused: the hold stays", () => {
    const { snapshot, step } = held();
    expect(snapshot.can({ type: "RELEASE", userId: "mallory" })).toBe(false);
    expect(step({ type: "RELEASE", userId: "mallory" }).value).toBe("held");
  });

  it("the holder can pay until the millisecond before expiresAt: paid is final", () => {
    const next = held().step({ type: "PAY", userId: "alice", now: EXPIRES_AT - 1 });
    expect(next.value).toBe("paid");
    expect(next.status).toBe("done");
  });

  it("PAY at or after expiresAt is refused even when no EXPIRE has come yet (a late timer)", () => {
    const { step } = held();
    expect(step({ type: "PAY", userId: "alice", now: EXPIRES_AT }).value).toBe("held");
    expect(step({ type: "PAY", userId: "alice", now: EXPIRES_AT + 60_000 }).value).toBe("held");
    // The holder may still let go of a hold whose timer is late.
    expect(step({ type: "RELEASE", userId: "alice" }).value).toBe("released");
  });

  it("PAY by another user is refused even in time", () => {
    expect(held().step({ type: "PAY", userId: "mallory", now: T0 }).value).toBe("held");
  });

  it("EXPIRE before expiresAt is refused (an early timer), at or after it the hold expires", () => {
    const { step } = held();
    expect(step({ type: "EXPIRE", now: EXPIRES_AT - 1 }).value).toBe("held");
    const expired = step({ type: "EXPIRE", now: EXPIRES_AT });
    expect(expired.value).toBe("expired");
    expect(expired.status).toBe("done");
    expect(step({ type: "EXPIRE", now: EXPIRES_AT + 3_600_000 }).value).toBe("expired");
  });

  it("a hold restored after a restart is due at its original expiresAt, not a full TTL later", () => {
    // Held at T0 - 100 s with the original expiry; restored (a fresh snapshot) at T0.
    const expiresAt = T0 - 100_000 + HOLD_MS;
    const { step } = held({ expiresAt });
    expect(step({ type: "EXPIRE", now: expiresAt - 1 }).value).toBe("held");
    expect(step({ type: "EXPIRE", now: expiresAt }).value).toBe("expired");
    expect(step({ type: "PAY", userId: "alice", now: expiresAt }).value).toBe("held");
  });

  it("nothing is accepted once the seat is released, paid or expired", () => {
    const ends: SeatEvent[] = [
      { type: "RELEASE", userId: "alice" },
      { type: "PAY", userId: "alice", now: T0 },
      { type: "EXPIRE", now: EXPIRES_AT },
    ];
    for (const end of ends) {
      const final = held().step(end);
      expect(final.status).toBe("done");
      for (const event of ends) {
        const [next, actions] = transition(seatMachine, final, event);
        expect(next.value).toBe(final.value);
        expect(actions).toEqual([]);
      }
    }
  });

  it("no transition has an action: the host, which executes none, misses nothing", () => {
    const { snapshot } = held();
    for (const event of [
      { type: "RELEASE", userId: "alice" },
      { type: "PAY", userId: "alice", now: T0 },
      { type: "EXPIRE", now: EXPIRES_AT },
    ] satisfies SeatEvent[]) {
      expect(transition(seatMachine, snapshot, event)[1]).toEqual([]);
    }
  });

  it("runs as an actor too: an accepted event ends it, a refused one changes nothing", () => {
    const actor = createActor(seatMachine, { input: holdInput() }).start();
    actor.send({ type: "EXPIRE", now: EXPIRES_AT - 1 });
    expect(actor.getSnapshot().value).toBe("held");
    actor.send({ type: "PAY", userId: "alice", now: T0 });
    expect(actor.getSnapshot().value).toBe("paid");
    expect(actor.getSnapshot().status).toBe("done");
  });
});

describe("the hold host's seat rules (src/actors/holds.ts)", () => {
  const hold: Hold = {
    reservationId: 1001,
    userId: "alice",
    scheduleId: 7,
    seatNo: 42,
    price: 5000,
    expiresAt: EXPIRES_AT,
    createdAt: T0,
  };

  it("release: the holder only", () => {
    expect(seatRules.release(hold, "alice")).toBe(true);
    expect(seatRules.release(hold, "mallory")).toBe(false);
  });

  it("pay: the holder only, and only before expiresAt by the caller's clock", () => {
    expect(seatRules.pay(hold, "alice", T0)).toBe(true);
    expect(seatRules.pay(hold, "alice", EXPIRES_AT - 1)).toBe(true);
    expect(seatRules.pay(hold, "alice", EXPIRES_AT)).toBe(false);
    expect(seatRules.pay(hold, "mallory", T0)).toBe(false);
  });

  it("expire: due exactly at expiresAt, not a millisecond before", () => {
    expect(seatRules.expire(hold, EXPIRES_AT - 1)).toBe(false);
    expect(seatRules.expire(hold, EXPIRES_AT)).toBe(true);
  });

  it("reads the machine's own verdict: the same end state a running seat actor reaches, for any event", () => {
    const userId = fc.constantFrom("alice", "bob");
    // Times clustered around expiresAt, where the guards decide.
    const now = fc.integer({ min: EXPIRES_AT - 3, max: EXPIRES_AT + 3 });
    const event: fc.Arbitrary<SeatEvent> = fc.oneof(
      fc.record({ type: fc.constant("RELEASE" as const), userId }),
      fc.record({ type: fc.constant("PAY" as const), userId, now }),
      fc.record({ type: fc.constant("EXPIRE" as const), now }),
    );
    fc.assert(
      fc.property(userId, event, (holder, sent) => {
        const mine = { ...hold, userId: holder };
        const actor = createActor(seatMachine, {
          input: { ...holdInput(), holder, expiresAt: mine.expiresAt },
        }).start();
        actor.send(sent);
        const reached = actor.getSnapshot().value;
        actor.stop();
        expect(seatOutcome(mine, sent)).toBe(reached === "held" ? undefined : reached);
        // The host's fast path answers the same: accepted exactly when the seat left `held`,
        // for the state named for the event.
        expect(seatAccepts(mine, sent)).toBe(reached !== "held");
        if (reached !== "held")
          expect(reached).toBe({ RELEASE: "released", PAY: "paid", EXPIRE: "expired" }[sent.type]);
      }),
      { numRuns: 500 },
    );
  });
});
