// bestAvailable (src/venues/bestAvailable.ts): hand cases per ranking rule and filter, then
// fast-check properties against a brute-force oracle that ranks every block of every row.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bestAvailable } from "../../src/venues/bestAvailable.js";
import { type SeatLayout, singleRowLayout } from "../../src/venues/layout.js";
import { type Candidate, oracle } from "../helpers/venues.js";

const FREE = 0;
const HELD = 1;
const SOLD = 2;

/** A layout from row lengths per section; categories and accessible flags all 0 unless given. */
function layoutOf(sections: number[][], categories = 1): SeatLayout {
  let next = 1;
  const built = sections.map((rows, s) => ({
    name: `S${s}`,
    rows: rows.map((count, r) => {
      const row = { name: `R${r}`, first: next, count };
      next += count;
      return row;
    }),
  }));
  const seatCount = next - 1;
  return {
    seatCount,
    categories: Array.from({ length: categories }, (_, i) => ({ name: `c${i}`, price: 100 * (i + 1) })),
    sections: built,
    category: new Uint8Array(seatCount),
    accessible: new Uint8Array(seatCount),
  };
}

/** A seat map from a picture: "." free, "h" held, "x" sold (spaces ignored). */
function mapOf(picture: string): Uint8Array {
  const chars = picture.replace(/\s/g, "");
  return Uint8Array.from(chars, (c) => (c === "." ? FREE : c === "h" ? HELD : SOLD));
}

describe("bestAvailable, by hand", () => {
  it("avoids stranding a single free seat even when that means leaving the centre", () => {
    // Row of 9: x . . . . . . . x ; centre 5. Block of 5 centred at 3..7 leaves one free each side.
    const layout = layoutOf([[9]]);
    expect(bestAvailable(layout, mapOf("x.......x"), 5)).toEqual([2, 3, 4, 5, 6]);
  });

  it("avoids stranding against the row's end, not only against a taken seat", () => {
    // Row of 6 all free, count 4: centred 2..5 leaves 1 and 6 alone; 1..4 leaves 5-6 (two).
    expect(bestAvailable(layoutOf([[6]]), mapOf("......"), 4)).toEqual([1, 2, 3, 4]);
  });

  it("uses a stranding block only when no block anywhere avoids it", () => {
    // Row 1: x . . . x (only stranding blocks of 2); row 2: . . x x x (a perfect fit).
    const layout = layoutOf([[5, 5]]);
    expect(bestAvailable(layout, mapOf("x...x ..xxx"), 2)).toEqual([6, 7]);
    // Without row 2's fit, row 1's stranding block is taken, nearest the centre, lower on a tie.
    expect(bestAvailable(layout, mapOf("x...x xxxxx"), 2)).toEqual([2, 3]);
  });

  it("a stranding fallback still prefers the earlier row", () => {
    const layout = layoutOf([[4], [4]]);
    // Row 1: x . . . (count 2 strands either way), row 2: . . . x likewise.
    expect(bestAvailable(layout, mapOf("x... ...x"), 2)).toEqual([2, 3]);
  });

  it("prefers rows in layout order: sections, then their rows", () => {
    const layout = layoutOf([[4, 4], [4]]);
    // A free row of 4, count 2: the centred 2-3 would strand both ends, so the row's first pair.
    expect(bestAvailable(layout, mapOf("xxxx xxxx ...."), 2)).toEqual([9, 10]);
    expect(bestAvailable(layout, mapOf("xxxx .... ...."), 2)).toEqual([5, 6]);
    expect(bestAvailable(layout, mapOf(".x.. .... ...."), 2)).toEqual([3, 4]);
  });

  it("prefers the block nearest the row's centre, then the lower seat number", () => {
    const layout = layoutOf([[10]]);
    // All free, count 2: centre is between 5 and 6; block 5-6 is exactly centred.
    expect(bestAvailable(layout, mapOf(".........."), 2)).toEqual([5, 6]);
    // count 3 in a row of 10: 4-6 and 5-7 are both half a seat off; the lower wins.
    expect(bestAvailable(layout, mapOf(".........."), 3)).toEqual([4, 5, 6]);
    // Two equal-distance perfect fits either side of a sold centre: the lower wins.
    expect(bestAvailable(layout, mapOf("x..xxxx..x"), 2)).toEqual([2, 3]);
  });

  it("count 1: a seat alone between taken seats is a perfect fit; a seat that strands a neighbour is not", () => {
    const layout = layoutOf([[7]]);
    // Seat 4 is nearest the centre but would leave 3 alone next to sold 2: seat 6 sits alone.
    expect(bestAvailable(layout, mapOf("xx..x.x"), 1)).toEqual([6]);
    // Seats 3-4: either strands the other, so the one nearer the centre (4) is the fallback.
    expect(bestAvailable(layout, mapOf("xx..xxx"), 1)).toEqual([4]);
    // All free: the centre seat leaves three on each side.
    expect(bestAvailable(layout, mapOf("......."), 1)).toEqual([4]);
  });

  it("filters by category; a free seat of another category is not a boundary for stranding", () => {
    const layout = layoutOf([[8]], 2);
    layout.category.set([1, 1, 0, 0, 0, 0, 1, 1]);
    const seats = mapOf("........");
    // Category 0 is seats 3..6; the block 4-5 (centred) strands nothing: 3 sits beside free 2.
    expect(bestAvailable(layout, seats, 2, { category: 0 })).toEqual([4, 5]);
    expect(bestAvailable(layout, seats, 2, { category: 1 })).toEqual([1, 2]);
    expect(bestAvailable(layout, seats, 3, { category: 1 })).toBeUndefined();
    expect(bestAvailable(layout, seats, 1, { category: 5 })).toBeUndefined();
  });

  it("with accessible: true takes only accessible seats; accessible: false does not constrain", () => {
    const layout = layoutOf([[6]]);
    layout.accessible.set([1, 1, 0, 0, 0, 0]);
    const seats = mapOf("......");
    expect(bestAvailable(layout, seats, 2, { accessible: true })).toEqual([1, 2]);
    expect(bestAvailable(layout, seats, 3, { accessible: true })).toBeUndefined();
    expect(bestAvailable(layout, seats, 2, { accessible: false })).toEqual([3, 4]);
  });

  it("combines category and accessible filters", () => {
    const layout = layoutOf([[6]], 2);
    layout.category.set([0, 0, 1, 1, 1, 1]);
    layout.accessible.set([1, 1, 1, 1, 0, 0]);
    expect(bestAvailable(layout, mapOf("......"), 2, { category: 1, accessible: true })).toEqual([3, 4]);
  });

  it("never takes a held or sold seat, and finds nothing in full rows", () => {
    const layout = layoutOf([[4, 4]]);
    expect(bestAvailable(layout, mapOf("xhxh hhxx"), 1)).toBeUndefined();
    expect(bestAvailable(layout, mapOf("x.h. .h.x"), 2)).toBeUndefined();
  });

  it("never joins two rows into one block", () => {
    const layout = layoutOf([[3, 3]]);
    expect(bestAvailable(layout, mapOf("xx. ..x"), 3)).toBeUndefined();
  });

  it("skips a row shorter than count", () => {
    const layout = layoutOf([[2, 5]]);
    // Row 2 is seats 3-7: the centred 4-6 would strand 3 and 7, so 3-5.
    expect(bestAvailable(layout, mapOf(".. ....."), 3)).toEqual([3, 4, 5]);
    expect(bestAvailable(layout, mapOf(".. ....."), 6)).toBeUndefined();
  });

  it("answers undefined for an empty layout and rejects a count that is not a positive integer", () => {
    expect(bestAvailable(layoutOf([]), new Uint8Array(0), 1)).toBeUndefined();
    expect(bestAvailable(layoutOf([[]]), new Uint8Array(0), 1)).toBeUndefined();
    expect(() => bestAvailable(layoutOf([[3]]), mapOf("..."), 0)).toThrow(RangeError);
    expect(() => bestAvailable(layoutOf([[3]]), mapOf("..."), 1.5)).toThrow(RangeError);
  });

  it("works on a schedule without a venue (one row)", () => {
    const seats = new Uint8Array(2000);
    expect(bestAvailable(singleRowLayout(2000, 100), seats, 4)).toEqual([999, 1000, 1001, 1002]);
  });
});

interface Case {
  layout: SeatLayout;
  seats: Uint8Array;
  count: number;
  filter: { category?: number; accessible?: boolean };
}

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    sections: fc.array(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 0, maxLength: 4 }), {
      minLength: 0,
      maxLength: 3,
    }),
    categories: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ sections, categories }) => {
    const seatCount = sections.flat().reduce((sum, n) => sum + n, 0);
    return fc.record({
      sections: fc.constant(sections),
      categories: fc.constant(categories),
      // Statuses weighted towards free so that blocks exist and their neighbourhoods vary.
      statuses: fc.array(fc.constantFrom(FREE, FREE, FREE, HELD, SOLD), { minLength: seatCount, maxLength: seatCount }),
      category: fc.array(fc.integer({ min: 0, max: categories - 1 }), { minLength: seatCount, maxLength: seatCount }),
      accessible: fc.array(fc.constantFrom(0, 1, 1), { minLength: seatCount, maxLength: seatCount }),
      count: fc.integer({ min: 1, max: 6 }),
      filterCategory: fc.option(fc.integer({ min: 0, max: categories - 1 }), { nil: undefined }),
      filterAccessible: fc.option(fc.boolean(), { nil: undefined }),
    });
  })
  .map((drawn) => {
    const layout = layoutOf(drawn.sections, drawn.categories);
    layout.category.set(drawn.category);
    layout.accessible.set(drawn.accessible);
    const filter: Case["filter"] = {};
    if (drawn.filterCategory !== undefined) filter.category = drawn.filterCategory;
    if (drawn.filterAccessible !== undefined) filter.accessible = drawn.filterAccessible;
    return { layout, seats: Uint8Array.from(drawn.statuses), count: drawn.count, filter };
  });

const RUNS = { numRuns: 2000 };

describe("bestAvailable, against the oracle", () => {
  it("answers the oracle's first block, or nothing when the oracle has none", () => {
    fc.assert(
      fc.property(caseArbitrary, ({ layout, seats, count, filter }) => {
        const expected = oracle(layout, seats, count, filter)[0]?.seatNos;
        expect(bestAvailable(layout, seats, count, filter)).toEqual(expected);
      }),
      RUNS,
    );
  });

  it("gives count adjacent seats of one row, all free and matching the filter", () => {
    fc.assert(
      fc.property(caseArbitrary, ({ layout, seats, count, filter }) => {
        const block = bestAvailable(layout, seats, count, filter);
        if (block === undefined) return;
        expect(block).toHaveLength(count);
        block.forEach((seatNo, i) => {
          if (i > 0) expect(seatNo).toBe((block[i - 1] ?? 0) + 1);
          expect(seats[seatNo - 1]).toBe(FREE);
          if (filter.category !== undefined) expect(layout.category[seatNo - 1]).toBe(filter.category);
          if (filter.accessible) expect(layout.accessible[seatNo - 1]).toBe(1);
        });
        const rows = layout.sections.flatMap((section) => section.rows);
        const first = block[0] ?? 0;
        const last = block[count - 1] ?? 0;
        expect(rows.some((row) => row.first <= first && last <= row.first + row.count - 1)).toBe(true);
      }),
      RUNS,
    );
  });

  it("strands no single free seat when the oracle shows a block that avoids it", () => {
    fc.assert(
      fc.property(caseArbitrary, ({ layout, seats, count, filter }) => {
        const candidates = oracle(layout, seats, count, filter);
        const block = bestAvailable(layout, seats, count, filter);
        if (!candidates.some((c) => !c.strands)) return;
        expect(block).toBeDefined();
        const chosen = candidates.find((c) => c.start === block?.[0]);
        expect(chosen?.strands).toBe(false);
        // And directly: the seats beside the block are not lone free seats.
        const { rowFirst, rowLast } = chosen as Candidate;
        const free = (seatNo: number) => seatNo >= rowFirst && seatNo <= rowLast && seats[seatNo - 1] === FREE;
        const first = block?.[0] ?? 0;
        const last = first + count - 1;
        expect(free(first - 1) && !free(first - 2)).toBe(false);
        expect(free(last + 1) && !free(last + 2)).toBe(false);
      }),
      RUNS,
    );
  });

  it("finds a block whenever one exists, and none when none does", () => {
    fc.assert(
      fc.property(caseArbitrary, ({ layout, seats, count, filter }) => {
        const exists = oracle(layout, seats, count, filter).length > 0;
        expect(bestAvailable(layout, seats, count, filter) !== undefined).toBe(exists);
      }),
      RUNS,
    );
  });
});
