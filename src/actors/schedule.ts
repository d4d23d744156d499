// One schedule's actor: its seat map (schedule machine), the seat actors of its held seats, and
// the coalesced, versioned diffs it publishes after the changes are committed.
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
import { seatMachine } from "../../machines/seat.js";
import type { ScheduleRow } from "../store/store.js";

export interface Hold {
  reservationId: number;
  userId: string;
  scheduleId: number;
  seatNo: number;
  price: number;
  expiresAt: number;
  createdAt: number;
}

export interface SeatsView {
  scheduleId: number;
  version: number;
  seats: { no: number; price: number; status: SeatStatusName }[];
}

export type SeatDiff = ScheduleEmitted;

export interface ScheduleHooks {
  /** A hold's timer ran out; the owner ends it (memory, disk, user's hold count). */
  onHoldExpired(hold: Hold): void;
  /** Publishes a diff to the schedule's subscribers. */
  publish(diff: SeatDiff): void;
  /** Resolves when every change made so far is committed (diffs never run ahead of the disk). */
  afterPending(): Promise<void>;
  diffIntervalMs: number;
}

interface LiveSeat {
  hold: Hold;
  actor: Actor<typeof seatMachine>;
}

export class ScheduleActor {
  readonly id: number;
  readonly concertId: number;
  readonly startsAt: string;
  readonly price: number;
  private readonly machine: Actor<typeof scheduleMachine>;
  private readonly live = new Map<number, LiveSeat>();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    row: ScheduleRow,
    seats: Uint8Array,
    private readonly hooks: ScheduleHooks,
  ) {
    this.id = row.id;
    this.concertId = row.concertId;
    this.startsAt = row.startsAt;
    this.price = row.price;
    this.machine = createActor(scheduleMachine, { input: { scheduleId: row.id, seats } });
    this.machine.on("diff", (diff) => hooks.publish(diff));
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

  get heldSeats(): number {
    return this.context.held;
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

  view(): SeatsView {
    const { seats, version } = this.context;
    const list = new Array(seats.length);
    for (let i = 0; i < seats.length; i++) {
      list[i] = { no: i + 1, price: this.price, status: SEAT_STATUS_NAMES[seats[i]!] };
    }
    return { scheduleId: this.id, version, seats: list };
  }

  liveHold(seatNo: number): Hold | undefined {
    return this.live.get(seatNo)?.hold;
  }

  /** Holds an available seat (the caller checked `isAvailable` in the same turn). */
  hold(hold: Hold): void {
    this.machine.send({ type: "HOLD", seatNo: hold.seatNo });
    this.startSeatActor(hold);
    this.changed();
  }

  /** Puts back a hold read from disk at start-up; its timer runs to the original expiresAt. */
  restoreHold(hold: Hold): void {
    this.startSeatActor(hold);
  }

  /** Ends a live hold by release or expiry: the seat is available again. */
  free(seatNo: number, userId: string | null): void {
    const seat = this.live.get(seatNo);
    if (!seat) return;
    if (userId !== null) seat.actor.send({ type: "RELEASE", userId });
    seat.actor.stop();
    this.live.delete(seatNo);
    this.machine.send({ type: "FREE", seatNo });
    this.changed();
  }

  /** Sells a live hold (the payment checked owner and expiry in the same turn). */
  sell(seatNo: number, userId: string): void {
    const seat = this.live.get(seatNo);
    if (!seat) throw new Error(`seat ${seatNo} of schedule ${this.id} is not held`);
    seat.actor.send({ type: "PAY", userId });
    if (seat.actor.getSnapshot().value !== "paid") throw new Error(`seat ${seatNo} refused PAY`);
    seat.actor.stop();
    this.live.delete(seatNo);
    this.machine.send({ type: "SELL", seatNo });
    this.changed();
  }

  /** Stops every timer (shutdown). */
  stop(): void {
    for (const seat of this.live.values()) seat.actor.stop();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private startSeatActor(hold: Hold): void {
    const actor = createActor(seatMachine, {
      input: {
        scheduleId: hold.scheduleId,
        seatNo: hold.seatNo,
        reservationId: hold.reservationId,
        holder: hold.userId,
        expiresAt: hold.expiresAt,
        now: Date.now,
      },
    });
    actor.on("expired", () => this.hooks.onHoldExpired(hold));
    this.live.set(hold.seatNo, { hold, actor });
    actor.start();
  }

  /** Coalesces changes: one diff per schedule per interval, sent once the changes are durable. */
  private changed(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.hooks.afterPending().then(() => {
        this.flushTimer = null;
        this.machine.send({ type: "FLUSH" });
      });
    }, this.hooks.diffIntervalMs);
  }
}

/** Builds a schedule's seat map from its live reservations. */
export function seatMapFor(seatCount: number, live: { seatNo: number; status: string }[]): Uint8Array {
  const seats = new Uint8Array(seatCount);
  for (const r of live) seats[r.seatNo - 1] = r.status === "paid" ? SEAT_SOLD : SEAT_HELD;
  return seats;
}
