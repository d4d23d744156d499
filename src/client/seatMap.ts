// A live copy of one schedule's seat map: a snapshot plus the versioned pushes that follow it.
import { layoutFromDocument, unpackStatuses } from "../venues/document.js";
import type { CompactSeatsView, ResultOf, SeatStatus, SeatsPush, SeatsView } from "./types.js";

/** A schedule's layout document (seats.layout): what a client draws its seats on. */
export type LayoutDocument = Extract<ResultOf<"seats.layout">, { layout: unknown }>["layout"];

/** Indexed by status byte (machines/schedule.ts: 0 available, 1 held, 2 sold). */
const STATUS_NAMES: readonly SeatStatus[] = ["available", "held", "sold"];

/** The statuses of a compact snapshot (2 bits per seat, base64), one per seat. */
export function unpackCompactStatuses(view: CompactSeatsView): SeatStatus[] {
  const bytes = Uint8Array.from(atob(view.statuses), (c) => c.charCodeAt(0));
  return Array.from(unpackStatuses(bytes, view.seatCount), (byte) => STATUS_NAMES[byte] ?? "sold");
}

/** Each seat's price (its category's), from a layout document. */
export function pricesOf(layout: LayoutDocument): number[] {
  const prices = layout.categories.map((c) => c.price);
  return Array.from(layoutFromDocument(layout).category, (index) => prices[index]!);
}

export interface SeatChange {
  no: number;
  status: SeatStatus;
}

/** "push": one in-order diff; "snapshot": a (re-)subscribe reply replaced the map (after a gap or reconnect). */
export type SeatMapListener = (changes: readonly SeatChange[], cause: "push" | "snapshot") => void;

export type PushOutcome = "applied" | "stale" | "gap";

export class SeatMap {
  version = -1;
  /** status[no - 1]; price[no - 1]. */
  status: SeatStatus[] = [];
  price: number[] = [];
  /**
   * True until the first snapshot, and between a detected gap (or a reconnect) and the fresh one:
   * pushes are ignored meanwhile, since the snapshot (taken after them) already contains them.
   */
  resyncing = true;
  /** The layout the map is drawn on, when subscribed compact (its snapshots carry no prices). */
  layout: LayoutDocument | undefined;
  private readonly listeners = new Set<SeatMapListener>();

  constructor(readonly scheduleId: number) {}

  get size(): number {
    return this.status.length;
  }

  onChange(listener: SeatMapListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Replaces the map with a snapshot; tells listeners which seats differ from what they had. A
   * compact snapshot carries no prices: `layout` (seats.layout of its layoutEtag) gives them.
   */
  applySnapshot(view: SeatsView | CompactSeatsView, layout?: LayoutDocument): void {
    const changes: SeatChange[] = [];
    let status: SeatStatus[];
    let price: number[];
    if ("compact" in view) {
      status = unpackCompactStatuses(view);
      price = layout === undefined ? this.price : pricesOf(layout);
    } else {
      status = new Array(view.seats.length);
      price = new Array(view.seats.length);
      for (const seat of view.seats) {
        status[seat.no - 1] = seat.status;
        price[seat.no - 1] = seat.price;
      }
    }
    for (let i = 0; i < status.length; i++) {
      if (this.status[i] !== status[i]) changes.push({ no: i + 1, status: status[i]! });
    }
    this.status = status;
    this.price = price;
    this.version = view.version;
    this.resyncing = false;
    this.emit(changes, "snapshot");
  }

  /** Applies a push if it is the next version; reports a gap (the caller re-subscribes) otherwise. */
  applyPush(push: SeatsPush): PushOutcome {
    if (this.resyncing || push.version <= this.version) return "stale";
    if (push.version !== this.version + 1) {
      this.resyncing = true;
      return "gap";
    }
    this.version = push.version;
    for (const change of push.changes) this.status[change.no - 1] = change.status;
    this.emit(push.changes, "push");
    return "applied";
  }

  count(status: SeatStatus): number {
    let n = 0;
    for (const s of this.status) if (s === status) n++;
    return n;
  }

  private emit(changes: readonly SeatChange[], cause: "push" | "snapshot"): void {
    for (const listener of this.listeners) listener(changes, cause);
  }
}
