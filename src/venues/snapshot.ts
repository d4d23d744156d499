// The compact seat map of issue 16 item 3: a layout document sent once and cached by its ETag,
// and seat statuses packed 2 bits per seat, both plain values that msgpackr encodes compactly.
import { createHash } from "node:crypto";
import { type LayoutDocument, packedStatuses } from "./document.js";
import type { SeatLayout } from "./layout.js";

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
