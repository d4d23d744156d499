// Held seats as virtual actors: a hold's state is its record, and the seat machine judges every
// event the seat receives (release, payment, expiry). No resident XState actor per hold: at
// 100,000 holds those cost ~6.6 KB and a timer each, and 13 s to rebuild after a restart.
import { type SeatContext, type SeatEvent, seatMachine } from "../../machines/seat.js";

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

const held = seatMachine.root.states.held!;
/** The event XState raises when the `untilExpiry` delay of `held` runs out. */
const EXPIRY_EVENT = { type: held.after[0]!.eventType } as unknown as SeatEvent;
const untilExpiry = seatMachine.implementations.delays.untilExpiry as (args: { context: SeatContext }) => number;

function contextOf(hold: Hold, now: () => number): SeatContext {
  return {
    scheduleId: hold.scheduleId,
    seatNo: hold.seatNo,
    reservationId: hold.reservationId,
    holder: hold.userId,
    expiresAt: hold.expiresAt,
    now,
  };
}

/** The state the seat machine enters from `held` on `event`, or undefined when it refuses. */
function outcome(hold: Hold, event: SeatEvent, now: () => number): SeatOutcome | undefined {
  const snapshot = seatMachine.resolveState({ value: "held", context: contextOf(hold, now) });
  const [transition] = seatMachine.getTransitionData(snapshot, event);
  return transition?.target?.[0]?.key as SeatOutcome | undefined;
}

export const seatRules = {
  release: (hold: Hold, userId: string, now: () => number = Date.now) =>
    outcome(hold, { type: "RELEASE", userId }, now) === "released",
  pay: (hold: Hold, userId: string, now: () => number = Date.now) =>
    outcome(hold, { type: "PAY", userId }, now) === "paid",
  expire: (hold: Hold, now: () => number = Date.now) => outcome(hold, EXPIRY_EVENT, now) === "expired",
  /** When the hold's expiry falls due: now + the machine's `untilExpiry` delay. */
  expiryDue: (hold: Hold, now: () => number = Date.now) => {
    const at = now();
    return at + untilExpiry({ context: contextOf(hold, () => at) });
  },
};
