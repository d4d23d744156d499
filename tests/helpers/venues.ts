// Random valid venues for the venue and snapshot property tests.
import fc from "fast-check";
import type { SeatLayout } from "../../src/venues/layout.js";

/** A random valid venue: 1..4 categories, 1..4 sections of 1..5 rows of 1..30 seats. */
export const arbitraryVenue = fc
  .integer({ min: 1, max: 4 })
  .chain((categoryCount) =>
    fc.record({
      categories: fc.constant(Array.from({ length: categoryCount }, (_, i) => ({ name: `cat${i}`, price: i * 10 }))),
      sections: fc.array(
        fc.record({
          rows: fc.array(
            fc.integer({ min: 1, max: 30 }).chain((seats) =>
              fc.record({
                seats: fc.constant(seats),
                category: fc.integer({ min: 0, max: categoryCount - 1 }).map((i) => `cat${i}`),
                accessible: fc.uniqueArray(fc.integer({ min: 1, max: seats }), { maxLength: seats }),
              }),
            ),
            { minLength: 1, maxLength: 5 },
          ),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  )
  .map((v) => ({
    categories: v.categories,
    sections: v.sections.map((s, i) => ({ name: `S${i}`, rows: s.rows.map((r, j) => ({ name: `R${j}`, ...r })) })),
  }));

/** The best-available oracle: every block of every row, sorted by the four criteria, written plainly. */

export interface Candidate {
  seatNos: number[];
  strands: boolean;
  rowIndex: number;
  twiceDistance: number;
  start: number;
  rowFirst: number;
  rowLast: number;
}

export function oracle(
  layout: SeatLayout,
  seats: Uint8Array,
  count: number,
  filter: { category?: number; accessible?: boolean },
): Candidate[] {
  const candidates: Candidate[] = [];
  const rows = layout.sections.flatMap((section) => section.rows);
  rows.forEach((row, rowIndex) => {
    const rowLast = row.first + row.count - 1;
    const free = (seatNo: number) => seatNo >= row.first && seatNo <= rowLast && seats[seatNo - 1] === 0;
    const ok = (seatNo: number) =>
      free(seatNo) &&
      (filter.category === undefined || layout.category[seatNo - 1] === filter.category) &&
      (filter.accessible !== true || layout.accessible[seatNo - 1] === 1);
    for (let start = row.first; start + count - 1 <= rowLast; start++) {
      const seatNos = Array.from({ length: count }, (_, i) => start + i);
      if (!seatNos.every(ok)) continue;
      let freeLeft = 0;
      while (free(start - 1 - freeLeft)) freeLeft++;
      let freeRight = 0;
      while (free(start + count + freeRight)) freeRight++;
      const blockCentre = start + (count - 1) / 2;
      const rowCentre = row.first + (row.count - 1) / 2;
      candidates.push({
        seatNos,
        strands: freeLeft === 1 || freeRight === 1,
        rowIndex,
        twiceDistance: 2 * Math.abs(blockCentre - rowCentre),
        start,
        rowFirst: row.first,
        rowLast,
      });
    }
  });
  return candidates.sort(
    (a, b) =>
      Number(a.strands) - Number(b.strands) ||
      a.rowIndex - b.rowIndex ||
      a.twiceDistance - b.twiceDistance ||
      a.start - b.start,
  );
}
