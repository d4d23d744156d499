// One schedule's actor: its seat map (schedule machine) and the coalesced, versioned diffs it
// publishes after the changes are committed. Held seats are virtual actors (holds.ts).
import { type Actor, createActor } from "xstate";
import {
  type ScheduleEmitted,
  SEAT_AVAILABLE,
  SEAT_HELD,
  SEAT_SOLD,
  scheduleMachine,
} from "../../machines/schedule.js";
import { immutable } from "../immutable.js";
import type { ScheduleRow } from "../store/store.js";
import { type BestAvailableFilter, bestAvailable } from "../venues/bestAvailable.js";
import type { LayoutDocument } from "../venues/document.js";
import type { SeatLayout } from "../venues/layout.js";
import { type SeatPlace, type SeatsView, seatsViewOf } from "../venues/seatsView.js";
import { type CompactSeats, compactSeats, layoutDocument } from "../venues/snapshot.js";
import { isUnnamedSingleRow, seatFacts } from "../venues/venue.js";

/** seats.list with `compact`: statuses packed 2 bits per seat (base64), drawn on the layout named by its ETag. */
export type CompactSeatsView = Omit<CompactSeats, "statuses"> & { compact: true; statuses: string };

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
  /** Its own IANA time zone, or null: its concert's. */
  readonly timeZone: string | null;
  /** Sections, rows, categories and accessible seats; one unnamed row for a schedule without a venue. */
  readonly layout: SeatLayout;
  private readonly machine: Actor<typeof scheduleMachine>;
  private flushTimer: NodeJS.Timeout | null = null;
  private cachedView: SeatsView | null = null;
  private cachedCompact: CompactSeatsView | null = null;

  constructor(
    row: ScheduleRow,
    seats: Uint8Array,
    layout: SeatLayout,
    private readonly hooks: ScheduleHooks,
  ) {
    if (layout.seatCount !== seats.length) {
      throw new Error(`schedule ${row.id}: a layout of ${layout.seatCount} seats for a map of ${seats.length}`);
    }
    this.id = row.id;
    this.concertId = row.concertId;
    this.startsAt = row.startsAt;
    this.timeZone = row.timeZone;
    this.layout = layout;
    this.machine = createActor(scheduleMachine, {
      input: { scheduleId: row.id, seats, firstVersion: hooks.firstVersion ?? 0 },
    });
    this.machine.on("diff", (diff) => {
      this.cachedView = null;
      this.cachedCompact = null;
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

  /** The price of seat `seatNo` (its category's); the caller checked `hasSeat`. */
  priceOf(seatNo: number): number {
    return this.layout.categories[this.layout.category[seatNo - 1]!]!.price;
  }

  /** Where seat `seatNo` is, for a schedule with a venue; undefined without one. */
  placeOf(seatNo: number): SeatPlace | undefined {
    if (isUnnamedSingleRow(this.layout)) return undefined;
    // One seat's place by a search over the rows: a best-available block does not make every seat's.
    const facts = seatFacts(this.layout, seatNo);
    return (
      facts && {
        section: facts.section,
        row: facts.row,
        label: facts.label,
        category: facts.category,
        accessible: facts.accessible,
      }
    );
  }

  /** The index of the category named `name`, or undefined when this schedule has none of that name. */
  categoryIndex(name: string): number | undefined {
    const index = this.layout.categories.findIndex((c) => c.name === name);
    return index < 0 ? undefined : index;
  }

  /**
   * The best block of `count` adjacent available seats in one row (src/venues/bestAvailable.ts),
   * or undefined. Read in the caller's turn, which holds the seats before it yields.
   */
  bestBlock(count: number, filter: BestAvailableFilter): number[] | undefined {
    return bestAvailable(this.layout, this.context.seats, count, filter);
  }

  /** The seat map as clients see it; one immutable object per state, rebuilt after a change. */
  view(): SeatsView {
    if (this.cachedView) return this.cachedView;
    const { seats, version } = this.context;
    this.cachedView = immutable(seatsViewOf(this.id, version, this.layout, seats));
    return this.cachedView;
  }

  /** The compact seat map: statuses packed 2 bits per seat, the layout by its ETag; rebuilt after a change. */
  compactView(): CompactSeatsView {
    if (this.cachedCompact) return this.cachedCompact;
    const { seats, version } = this.context;
    const packed = compactSeats(this.id, version, this.layout, seats);
    const statuses = Buffer.from(packed.statuses.buffer, packed.statuses.byteOffset, packed.statuses.byteLength);
    this.cachedCompact = immutable({ ...packed, compact: true as const, statuses: statuses.toString("base64") });
    return this.cachedCompact;
  }

  /** The layout document clients draw the seats on, and its ETag. */
  layoutDocument(): { etag: string; document: LayoutDocument } {
    return layoutDocument(this.layout);
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
    this.cachedCompact = null;
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
