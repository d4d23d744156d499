// The layout document and the packed statuses of the compact seat map (issue 16 item 3), read and
// written without anything of Node's: the server (snapshot.ts makes documents and their ETags),
// the typed client and the page share these functions, so the format is decoded in one place.
import type { Category, SeatLayout } from "./layout.js";

/** One row as a client draws it: seats `first .. first + count − 1`. */
export interface RowDocument {
  name: string;
  first: number;
  count: number;
  /**
   * The row's category index when the whole row has one (always, for a venue from the API),
   * else runs `[categoryIndex, length, categoryIndex, length, …]` in seat order.
   */
  category: number | number[];
  /** Runs of accessible seats `[position, length, …]`, positions 1-based in the row; absent when none. */
  accessible?: number[];
}

export interface LayoutDocument {
  seatCount: number;
  categories: Category[];
  sections: { name: string; rows: RowDocument[] }[];
}

/** The layout a document describes (a client's side, and the tests' round trip). */
export function layoutFromDocument(document: LayoutDocument): SeatLayout {
  const category = new Uint8Array(document.seatCount);
  const accessible = new Uint8Array(document.seatCount);
  for (const section of document.sections) {
    for (const row of section.rows) {
      const from = row.first - 1;
      if (typeof row.category === "number") category.fill(row.category, from, from + row.count);
      else {
        let at = from;
        for (let r = 0; r < row.category.length; r += 2) {
          category.fill(row.category[r]!, at, at + row.category[r + 1]!);
          at += row.category[r + 1]!;
        }
      }
      const runs = row.accessible ?? [];
      for (let r = 0; r < runs.length; r += 2) {
        const start = from + runs[r]! - 1;
        accessible.fill(1, start, start + runs[r + 1]!);
      }
    }
  }
  return {
    seatCount: document.seatCount,
    categories: document.categories.map((c) => ({ name: c.name, price: c.price })),
    sections: document.sections.map((s) => ({
      name: s.name,
      rows: s.rows.map((r) => ({ name: r.name, first: r.first, count: r.count })),
    })),
    category,
    accessible,
  };
}

/**
 * Seat statuses (machines/schedule.ts: 0 available, 1 held, 2 sold) packed 2 bits per seat,
 * seat n at byte (n − 1) >> 2, bits 2·((n − 1) & 3) and up: a quarter of one byte per seat
 * (12.5 KB rather than 50 KB for 50,000 seats) for one pass of shifts, well under a millisecond.
 * The API sends them as base64 (ScheduleActor.compactView), one form for JSON and MessagePack
 * alike: 16.8 KB rather than 12.6 KB for 50,000 seats, well under the 100 KB target.
 */
export function packedStatuses(seats: Uint8Array): Uint8Array {
  const packed = new Uint8Array((seats.length + 3) >> 2);
  for (let i = 0; i < seats.length; i++) {
    const status = seats[i]!;
    if (status > 3) throw new RangeError(`seat ${i + 1} has status byte ${status}, which 2 bits cannot hold`);
    packed[i >> 2]! |= status << ((i & 3) << 1);
  }
  return packed;
}

/** One status byte per seat, from `packedStatuses` of `seatCount` seats. */
export function unpackStatuses(packed: Uint8Array, seatCount: number): Uint8Array {
  if (packed.length !== (seatCount + 3) >> 2) {
    throw new RangeError(`${packed.length} packed bytes cannot hold exactly ${seatCount} seats`);
  }
  const seats = new Uint8Array(seatCount);
  for (let i = 0; i < seatCount; i++) seats[i] = (packed[i >> 2]! >> ((i & 3) << 1)) & 3;
  return seats;
}
