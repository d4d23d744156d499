// The shape of a schedule's seats (issue 16, "Venues and best available" in API.md): sections of
// rows of seats, numbered 1..N in the order sections → rows → seats (left to right), which is also
// the organiser's order of preference (first section, first row is best). A schedule without a
// venue is one row of `seatCount` seats. Per-seat facts are packed arrays indexed by seatNo − 1,
// like the seat map itself (machines/schedule.ts: one status byte per seat), so that a
// 100,000-seat hall costs a few hundred kilobytes and a scan over it is a loop over bytes.

/** A price tier. */
export interface Category {
  name: string;
  price: number;
}

/** One row: seats `first .. first + count − 1`, contiguous in seat numbers. */
export interface Row {
  name: string;
  first: number;
  count: number;
}

export interface Section {
  name: string;
  rows: Row[];
}

export interface SeatLayout {
  /** Seats are numbered 1..seatCount. */
  seatCount: number;
  categories: Category[];
  /** In the organiser's order of preference; their rows too. */
  sections: Section[];
  /** Each seat's category: an index into `categories`, at seatNo − 1. */
  category: Uint8Array;
  /** 1 for an accessible seat, at seatNo − 1. */
  accessible: Uint8Array;
}

/** The layout of a schedule without a venue: one row of `seatCount` seats at one price. */
export function singleRowLayout(seatCount: number, price: number): SeatLayout {
  return {
    seatCount,
    categories: [{ name: "standard", price }],
    sections: [{ name: "", rows: [{ name: "", first: 1, count: seatCount }] }],
    category: new Uint8Array(seatCount),
    accessible: new Uint8Array(seatCount),
  };
}
