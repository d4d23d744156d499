// Owns one schedule's compact seat map, its counts, and the versioned diffs pushed to subscribers.
import { assign, emit, setup } from "xstate";

export const SEAT_AVAILABLE = 0;
export const SEAT_HELD = 1;
export const SEAT_SOLD = 2;

export type SeatStatusName = "available" | "held" | "sold";
/** Indexed by status byte. */
export const SEAT_STATUS_NAMES: readonly SeatStatusName[] = ["available", "held", "sold"];

export interface ScheduleInput {
  scheduleId: number;
  /** one status byte per seat, index = seatNo - 1; taken over and mutated in place */
  seats: Uint8Array;
  /**
   * The version before the first diff (default 0). A cluster node that takes a schedule over
   * starts above every version the previous owner can have published (its epoch in the high
   * bits), so subscribers never see a version go backwards.
   */
  firstVersion?: number;
}

export interface ScheduleContext {
  scheduleId: number;
  seats: Uint8Array;
  available: number;
  held: number;
  sold: number;
  /** number of diffs emitted so far; a subscriber's base version comes from here */
  version: number;
  /** seatNo -> new status byte since the last FLUSH */
  pending: Map<number, number>;
}

export type ScheduleEvent =
  | { type: "HOLD"; seatNo: number } // available -> held
  | { type: "FREE"; seatNo: number } // held -> available (expiry or release)
  | { type: "SELL"; seatNo: number } // held -> sold
  | { type: "UNSELL"; seatNo: number } // sold -> held: the database declined the payment that sold it
  | { type: "FLUSH" }; // turns pending changes into one versioned diff

export type ScheduleEmitted = {
  type: "diff";
  scheduleId: number;
  version: number;
  changes: { no: number; status: SeatStatusName }[];
};

/** The status of seatNo, or undefined when there is no such seat. */
export function seatStatus(context: ScheduleContext, seatNo: number): SeatStatusName | undefined {
  const byte = statusByte(context, seatNo);
  return byte === undefined ? undefined : SEAT_STATUS_NAMES[byte];
}

function statusByte(context: ScheduleContext, seatNo: number): number | undefined {
  // Explicit range check rather than relying on seats[-1] being undefined: the rule reads here.
  if (!Number.isInteger(seatNo) || seatNo < 1 || seatNo > context.seats.length) return undefined;
  return context.seats[seatNo - 1];
}

function countSeats(seats: Uint8Array): { available: number; held: number; sold: number } {
  let available = 0;
  let held = 0;
  let sold = 0;
  for (const byte of seats) {
    if (byte === SEAT_AVAILABLE) available++;
    else if (byte === SEAT_HELD) held++;
    else if (byte === SEAT_SOLD) sold++;
  }
  return { available, held, sold };
}

/**
 * Moves one seat from `from` to `to`: the map, the counts and the pending diff, in place.
 * In place on purpose: a schedule has up to 100,000 seats and a rush changes them thousands
 * of times a second, so copying the map (or the pending set) per change would cost O(seats)
 * each time, and even an `assign` of the three counts copies the context and the snapshot on
 * every hold. The schedule actor is the context's only owner, and no snapshot of it is kept.
 */
function moveSeat(context: ScheduleContext, seatNo: number, from: number, to: number): void {
  context.seats[seatNo - 1] = to;
  // Map.set keeps only the latest status of a seat changed twice in one window.
  context.pending.set(seatNo, to);
  count(context, from, -1);
  count(context, to, +1);
}

function count(context: ScheduleContext, status: number, delta: number): void {
  if (status === SEAT_AVAILABLE) context.available += delta;
  else if (status === SEAT_HELD) context.held += delta;
  else context.sold += delta;
}

export const scheduleMachine = setup({
  types: {} as {
    context: ScheduleContext;
    events: ScheduleEvent;
    input: ScheduleInput;
    emitted: ScheduleEmitted;
  },
  guards: {
    // An out-of-range or non-integer seatNo gives undefined, so these refuse it without throwing.
    seatAvailable: ({ context, event }) => "seatNo" in event && statusByte(context, event.seatNo) === SEAT_AVAILABLE,
    seatHeld: ({ context, event }) => "seatNo" in event && statusByte(context, event.seatNo) === SEAT_HELD,
    seatSold: ({ context, event }) => "seatNo" in event && statusByte(context, event.seatNo) === SEAT_SOLD,
    hasPending: ({ context }) => context.pending.size > 0,
    // Nothing left to hold and nothing that could come back: a sale is undone only when the
    // database declines the payment (UNSELL), which brings the schedule back to selling.
    allSold: ({ context }) => context.available === 0 && context.held === 0,
  },
  actions: {
    markHeld: ({ context, event }) => {
      if (event.type === "HOLD") moveSeat(context, event.seatNo, SEAT_AVAILABLE, SEAT_HELD);
    },
    markFreed: ({ context, event }) => {
      if (event.type === "FREE") moveSeat(context, event.seatNo, SEAT_HELD, SEAT_AVAILABLE);
    },
    markSold: ({ context, event }) => {
      if (event.type === "SELL") moveSeat(context, event.seatNo, SEAT_HELD, SEAT_SOLD);
    },
    markUnsold: ({ context, event }) => {
      if (event.type === "UNSELL") moveSeat(context, event.seatNo, SEAT_SOLD, SEAT_HELD);
    },
    bumpVersion: assign({ version: ({ context }) => context.version + 1 }),
    // Reads the pending map before clearPending runs: actions resolve in order, and the
    // event object (with its own changes array) is built here, so clearing cannot touch it.
    emitDiff: emit(({ context }) => ({
      type: "diff" as const,
      scheduleId: context.scheduleId,
      version: context.version,
      changes: Array.from(context.pending, ([no, status]) => ({
        no,
        status: SEAT_STATUS_NAMES[status] ?? "available",
      })),
    })),
    // A fresh map rather than clear(): one allocation per flush window, and the diff just
    // emitted can never alias the next window's changes.
    clearPending: assign({ pending: () => new Map<number, number>() }),
  },
}).createMachine({
  id: "schedule",
  context: ({ input }) => ({
    scheduleId: input.scheduleId,
    seats: input.seats,
    ...countSeats(input.seats),
    version: input.firstVersion ?? 0,
    pending: new Map(),
  }),
  initial: "selling",
  states: {
    selling: {
      // Checked after every transition, so a SELL of the last held seat lands in soldOut,
      // and so does a schedule restored already sold out.
      always: { guard: "allSold", target: "soldOut" },
      on: {
        HOLD: { guard: "seatAvailable", actions: "markHeld" },
        FREE: { guard: "seatHeld", actions: "markFreed" },
        SELL: { guard: "seatHeld", actions: "markSold" },
        UNSELL: { guard: "seatSold", actions: "markUnsold" },
      },
    },
    // Not final: the last sales still have to go out in a FLUSH. HOLD/FREE/SELL have no
    // transition here because no seat is available or held any more, so `can` says no.
    // UNSELL: a declined payment gives its seats back to their holder.
    soldOut: {
      on: { UNSELL: { guard: "seatSold", actions: "markUnsold", target: "selling" } },
    },
  },
  on: {
    FLUSH: { guard: "hasPending", actions: ["bumpVersion", "emitDiff", "clearPending"] },
  },
});
