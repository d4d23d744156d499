// A live copy of one schedule's seat map: a snapshot plus the versioned pushes that follow it.
import type { SeatStatus, SeatsPush, SeatsView } from "./types.js";

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
  private readonly listeners = new Set<SeatMapListener>();

  constructor(readonly scheduleId: number) {}

  get size(): number {
    return this.status.length;
  }

  onChange(listener: SeatMapListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces the map with a snapshot; tells listeners which seats differ from what they had. */
  applySnapshot(view: SeatsView): void {
    const changes: SeatChange[] = [];
    const status: SeatStatus[] = new Array(view.seats.length);
    const price: number[] = new Array(view.seats.length);
    for (const seat of view.seats) {
      status[seat.no - 1] = seat.status;
      price[seat.no - 1] = seat.price;
      if (this.status[seat.no - 1] !== seat.status) changes.push({ no: seat.no, status: seat.status });
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
