// Owns the life of one held seat: from the hold to its payment, release or expiry.
import { and, emit, setup } from "xstate";

export interface SeatInput {
  scheduleId: number;
  seatNo: number;
  reservationId: number;
  /** userId of the holder */
  holder: string;
  /** epoch ms; absolute, so a hold restored after a restart ends when it always would have */
  expiresAt: number;
  /** the host's clock; the machine reads time only through this */
  now: () => number;
}

export interface SeatContext extends SeatInput {}

export type SeatEvent = { type: "RELEASE"; userId: string } | { type: "PAY"; userId: string };

export type SeatEmitted = {
  type: "expired";
  reservationId: number;
  scheduleId: number;
  seatNo: number;
  holder: string;
};

/**
 * A virtual actor: it exists only while its seat is held (an available seat is just a byte
 * in the schedule's seat map), so it starts in `held` and every other state is final.
 * `send` is fire and forget, so callers ask `getSnapshot().can(event)` before sending;
 * every refusal is therefore a guard, never a silent no-op inside an action.
 */
export const seatMachine = setup({
  types: {} as {
    context: SeatContext;
    events: SeatEvent;
    input: SeatInput;
    emitted: SeatEmitted;
  },
  guards: {
    isHolder: ({ context, event }) => context.holder === event.userId,
    // The timer may fire late (a busy event loop); the clock, not the timer, decides whether
    // a payment is still in time, so a late timer can never let a stale hold be paid.
    notExpired: ({ context }) => context.now() < context.expiresAt,
  },
  actions: {
    emitExpired: emit(({ context }) => ({
      type: "expired" as const,
      reservationId: context.reservationId,
      scheduleId: context.scheduleId,
      seatNo: context.seatNo,
      holder: context.holder,
    })),
  },
  delays: {
    // Recomputed from the absolute expiresAt at entry, so a restored hold re-arms only the
    // time it has left; one already past expires at once.
    untilExpiry: ({ context }) => Math.max(0, context.expiresAt - context.now()),
  },
}).createMachine({
  id: "seat",
  context: ({ input }) => ({ ...input }),
  initial: "held",
  states: {
    held: {
      after: {
        untilExpiry: { target: "expired", actions: "emitExpired" },
      },
      on: {
        RELEASE: { guard: "isHolder", target: "released" },
        PAY: { guard: and(["isHolder", "notExpired"]), target: "paid" },
      },
    },
    released: { type: "final" },
    paid: { type: "final" },
    expired: { type: "final" },
  },
});
