// Held seats as virtual actors: a hold's state is its record, and the seat machine judges every
// event the seat receives (release, payment, expiry) through XState's pure transition(). No
// resident XState actor per hold: at 100,000 holds those cost ~6.6 KB and a timer each, and 13 s
// to rebuild after a restart. A hold falls due at its own `expiresAt` (the timer heap's key).
import { initialTransition, transition } from "xstate";
import { type SeatEvent, seatMachine } from "../../machines/seat.js";

export interface Hold {
  reservationId: number;
  userId: string;
  scheduleId: number;
  seatNo: number;
  price: number;
  expiresAt: number;
  createdAt: number;
}

export type SeatOutcome = "released" | "paid" | "expired";

/** The final state the seat machine moves `hold` to on `event`, or undefined when it refuses. */
export function seatOutcome(hold: Hold, event: SeatEvent): SeatOutcome | undefined {
  const [held] = initialTransition(seatMachine, {
    scheduleId: hold.scheduleId,
    seatNo: hold.seatNo,
    reservationId: hold.reservationId,
    holder: hold.userId,
    expiresAt: hold.expiresAt,
  });
  // A refused event leaves the snapshot in `held`; every other state is final.
  const [next] = transition(seatMachine, held, event);
  return next.value === "held" ? undefined : next.value;
}

/** What the seat machine allows a live hold; `now` is the caller's clock (epoch ms). */
export const seatRules = {
  release: (hold: Hold, userId: string) => seatOutcome(hold, { type: "RELEASE", userId }) === "released",
  pay: (hold: Hold, userId: string, now: number) => seatOutcome(hold, { type: "PAY", userId, now }) === "paid",
  expire: (hold: Hold, now: number) => seatOutcome(hold, { type: "EXPIRE", now }) === "expired",
};
