// Owns the life of one held seat: from the hold to its payment, release or expiry.
import { and, setup } from "xstate";

export interface SeatInput {
  scheduleId: number;
  seatNo: number;
  reservationId: number;
  /** userId of the holder */
  holder: string;
  /** epoch ms; absolute, so a hold restored after a restart ends when it always would have */
  expiresAt: number;
}

export interface SeatContext extends SeatInput {}

/** Time enters as data: `now` (epoch ms) is the host's clock when it sends the event. */
export type SeatEvent =
  | { type: "RELEASE"; userId: string }
  | { type: "PAY"; userId: string; now: number }
  | { type: "EXPIRE"; now: number };

/**
 * A virtual actor: it exists only while its seat is held (an available seat is just a byte
 * in the schedule's seat map), so it starts in `held` and every other state is final. It has
 * no timer: the host sends `EXPIRE` when its timer heap says the hold is due, and the guard
 * decides with the event's `now`, so a late or early timer can neither let a stale hold be
 * paid nor end a hold before its `expiresAt`. Every refusal is a guard, never a silent no-op.
 */
export const seatMachine = setup({
  types: {} as {
    context: SeatContext;
    events: SeatEvent;
    input: SeatInput;
  },
  guards: {
    isHolder: ({ context, event }) => "userId" in event && context.holder === event.userId,
    isBeforeExpiry: ({ context, event }) => event.type === "PAY" && event.now < context.expiresAt,
    isDue: ({ context, event }) => event.type === "EXPIRE" && event.now >= context.expiresAt,
  },
}).createMachine({
  id: "seat",
  context: ({ input }) => ({ ...input }),
  initial: "held",
  states: {
    held: {
      on: {
        RELEASE: { guard: "isHolder", target: "released" },
        PAY: { guard: and(["isHolder", "isBeforeExpiry"]), target: "paid" },
        EXPIRE: { guard: "isDue", target: "expired" },
      },
    },
    released: { type: "final" },
    paid: { type: "final" },
    expired: { type: "final" },
  },
});
