// A schedule's seat map as seats.list shows it, from its layout and one status byte per seat: the
// schedule actor's view, and a cluster gateway's, which rebuilds it from the owner's compact
// snapshot and the layout it caches by ETag (so a large map never crosses NATS whole).
import { SEAT_STATUS_NAMES, type SeatStatusName } from "../../machines/schedule.js";
import type { SeatLayout } from "./layout.js";
import { isUnnamedSingleRow } from "./venue.js";

/** Where a seat of a venue is; absent for a schedule without a venue. */
export interface SeatPlace {
  section: string;
  row: string;
  label: string;
  category: string;
  accessible: boolean;
}

export type SeatView = { no: number; price: number; status: SeatStatusName } & Partial<SeatPlace>;

export interface SeatsView {
  scheduleId: number;
  version: number;
  seats: SeatView[];
}

// A layout is not changed once made: its seats' places are made once per layout object.
const placesByLayout = new WeakMap<SeatLayout, SeatPlace[]>();

/** Each seat's place (index seatNo − 1); undefined for a schedule without a venue (one unnamed row). */
export function seatPlaces(layout: SeatLayout): SeatPlace[] | undefined {
  if (isUnnamedSingleRow(layout)) return undefined;
  let places = placesByLayout.get(layout);
  if (places !== undefined) return places;
  places = new Array<SeatPlace>(layout.seatCount);
  for (const section of layout.sections) {
    for (const row of section.rows) {
      for (let k = 1; k <= row.count; k++) {
        const no = row.first + k - 1;
        places[no - 1] = {
          section: section.name,
          row: row.name,
          label: `${row.name}-${k}`,
          category: layout.categories[layout.category[no - 1]!]!.name,
          accessible: layout.accessible[no - 1] === 1,
        };
      }
    }
  }
  placesByLayout.set(layout, places);
  return places;
}

/** The seats.list body: every seat with its price (its category's), status and, with a venue, its place. */
export function seatsViewOf(scheduleId: number, version: number, layout: SeatLayout, statuses: Uint8Array): SeatsView {
  if (statuses.length !== layout.seatCount) {
    throw new RangeError(`${statuses.length} statuses for a layout of ${layout.seatCount} seats`);
  }
  const places = seatPlaces(layout);
  const prices = layout.categories.map((c) => c.price);
  const seats = new Array<SeatView>(statuses.length);
  // Object literals of one shape, not spreads: a spread per seat made a 50,000-seat view take
  // 150-380 ms, literals about 3 ms (BENCHMARKS.md, step l).
  for (let i = 0; i < statuses.length; i++) {
    const price = prices[layout.category[i]!]!;
    const status = SEAT_STATUS_NAMES[statuses[i]!]!;
    const place = places?.[i];
    seats[i] =
      place === undefined
        ? { no: i + 1, price, status }
        : {
            no: i + 1,
            price,
            status,
            section: place.section,
            row: place.row,
            label: place.label,
            category: place.category,
            accessible: place.accessible,
          };
  }
  return { scheduleId, version, seats };
}
