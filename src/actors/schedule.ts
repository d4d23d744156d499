// One schedule's actor: its seat map (schedule machine) and the coalesced, versioned diffs it
// publishes after the changes are committed. Held seats are virtual actors (holds.ts).
import { type Actor, createActor } from "xstate";
import {
  type ScheduleEmitted,
  SEAT_AVAILABLE,
  SEAT_HELD,
  SEAT_SOLD,
  SEAT_STATUS_NAMES,
  type SeatStatusName,
  scheduleMachine,
} from "../../machines/schedule.js";
import { immutable } from "../immutable.js";
import type { ScheduleRow } from "../store/store.js";

export interface SeatsView {
  scheduleId: number;
  version: number;
  seats: { no: number; price: number; status: SeatStatusName }[];
}

export type SeatDiff = ScheduleEmitted;

export interface ScheduleHooks {
  /** Publishes a diff to the schedule's subscribers. */
  publish(diff: SeatDiff): void;
  /** Resolves when every change made so far is committed (diffs never run ahead of the disk). */
  afterPending(): Promise<void>;
  diffIntervalMs: number;
  /** The version before the first diff (machines/schedule.ts); default 0. */
  firstVersion?: number;
}

export class ScheduleActor {
  readonly id: number;
  readonly concertId: number;
  readonly startsAt: string;
  readonly price: number;
  private readonly machine: Actor<typeof scheduleMachine>;
  private flushTimer: NodeJS.Timeout | null = null;
  private cachedView: SeatsView | null = null;

  constructor(
    row: ScheduleRow,
    seats: Uint8Array,
    private readonly hooks: ScheduleHooks,
  ) {
    this.id = row.id;
    this.concertId = row.concertId;
    this.startsAt = row.startsAt;
    this.price = row.price;
    this.machine = createActor(scheduleMachine, {
      input: { scheduleId: row.id, seats, firstVersion: hooks.firstVersion ?? 0 },
    });
    this.machine.on("diff", (diff) => {
      this.cachedView = null;
      hooks.publish(diff);
    });
    this.machine.start();
  }

  private get context() {
    return this.machine.getSnapshot().context;
  }

  get totalSeats(): number {
    return this.context.seats.length;
  }

  get availableSeats(): number {
    return this.context.available;
  }

  get soldSeats(): number {
    return this.context.sold;
  }

  hasSeat(seatNo: number): boolean {
    return seatNo >= 1 && seatNo <= this.totalSeats;
  }

  isAvailable(seatNo: number): boolean {
    return this.context.seats[seatNo - 1] === SEAT_AVAILABLE;
  }

  /** The seat map as clients see it; one immutable object per state, rebuilt after a change. */
  view(): SeatsView {
    if (this.cachedView) return this.cachedView;
    const { seats, version } = this.context;
    const list = new Array(seats.length);
    for (let i = 0; i < seats.length; i++) {
      list[i] = { no: i + 1, price: this.price, status: SEAT_STATUS_NAMES[seats[i]!] };
    }
    this.cachedView = immutable({ scheduleId: this.id, version, seats: list });
    return this.cachedView;
  }

  /** available -> held (the caller checked `isAvailable` in the same turn). */
  hold(seatNo: number): void {
    this.machine.send({ type: "HOLD", seatNo });
    this.changed();
  }

  /** held -> available (release or expiry). */
  free(seatNo: number): void {
    this.machine.send({ type: "FREE", seatNo });
    this.changed();
  }

  /** held -> sold. */
  sell(seatNo: number): void {
    this.machine.send({ type: "SELL", seatNo });
    this.changed();
  }

  /** sold -> held: the database declined the payment that sold it. */
  unsell(seatNo: number): void {
    this.machine.send({ type: "UNSELL", seatNo });
    this.changed();
  }

  /** Stops the diff timer (shutdown). */
  stop(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  /** Coalesces changes: one diff per schedule per interval, sent once the changes are durable. */
  private changed(): void {
    this.cachedView = null;
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.hooks.afterPending().then(
        () => {
          this.flushTimer = null;
          this.machine.send({ type: "FLUSH" });
        },
        // A failed commit stops the process; changes that are not on disk are never published.
        () => {},
      );
    }, this.hooks.diffIntervalMs);
  }
}

/** Builds a schedule's seat map from its live reservations. */
export function seatMapFor(seatCount: number, live: { seatNo: number; status: string }[]): Uint8Array {
  const seats = new Uint8Array(seatCount);
  for (const r of live) seats[r.seatNo - 1] = r.status === "paid" ? SEAT_SOLD : SEAT_HELD;
  return seats;
}
