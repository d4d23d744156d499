// The compact seat map of issue 16 item 3: a layout document sent once and cached by its ETag,
// and seat statuses packed 2 bits per seat, both plain values that msgpackr encodes compactly.
import { createHash } from "node:crypto";
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

// A layout is not changed once made: its document and hash are computed once per layout object.
const documents = new WeakMap<SeatLayout, { etag: string; document: LayoutDocument }>();

/**
 * What a client needs to draw a schedule's seats, and its ETag: base64url of SHA-256 over the
 * document's JSON (keys in a fixed order, integers only, so the JSON is canonical and does not
 * depend on the msgpackr version). The HTTP layer quotes it (`ETag: "<etag>"`).
 */
export function layoutDocument(layout: SeatLayout): { etag: string; document: LayoutDocument } {
  let cached = documents.get(layout);
  if (cached === undefined) {
    const document = documentOf(layout);
    const etag = createHash("sha256").update(JSON.stringify(document)).digest("base64url");
    cached = { etag, document };
    documents.set(layout, cached);
  }
  return cached;
}

function documentOf(layout: SeatLayout): LayoutDocument {
  return {
    seatCount: layout.seatCount,
    categories: layout.categories.map((c) => ({ name: c.name, price: c.price })),
    sections: layout.sections.map((section) => ({
      name: section.name,
      rows: section.rows.map((row) => {
        const from = row.first - 1;
        const to = from + row.count;
        const categoryRuns = runsOf(layout.category, from, to);
        const accessible = accessibleRuns(layout.accessible, from, to);
        return {
          name: row.name,
          first: row.first,
          count: row.count,
          category: categoryRuns.length === 2 ? categoryRuns[0]! : categoryRuns,
          ...(accessible.length > 0 ? { accessible } : {}),
        };
      }),
    })),
  };
}

/** `[value, length, …]` over bytes[from, to). */
function runsOf(bytes: Uint8Array, from: number, to: number): number[] {
  const runs: number[] = [];
  let start = from;
  for (let i = from + 1; i <= to; i++) {
    if (i === to || bytes[i] !== bytes[start]) {
      runs.push(bytes[start]!, i - start);
      start = i;
    }
  }
  return runs;
}

/** `[position, length, …]` of the 1s in flags[from, to), positions 1-based from `from`. */
function accessibleRuns(flags: Uint8Array, from: number, to: number): number[] {
  const runs: number[] = [];
  let i = from;
  while (i < to) {
    if (flags[i] !== 1) {
      i++;
      continue;
    }
    const start = i;
    while (i < to && flags[i] === 1) i++;
    runs.push(start - from + 1, i - start);
  }
  return runs;
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

/** The compact seat-map snapshot: statuses, and the ETag of the layout they are drawn on. */
export interface CompactSeats {
  scheduleId: number;
  version: number;
  layoutEtag: string;
  seatCount: number;
  statuses: Uint8Array;
}

export function compactSeats(scheduleId: number, version: number, layout: SeatLayout, seats: Uint8Array): CompactSeats {
  return {
    scheduleId,
    version,
    layoutEtag: layoutDocument(layout).etag,
    seatCount: seats.length,
    statuses: packedStatuses(seats),
  };
}
