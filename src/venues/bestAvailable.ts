// Best available (issue 16, "Venues and best available" in API.md): picks the best block of
// `count` adjacent free seats in one row from a schedule's seat map, as a pure function.
//
// Definitions (the ranking is lexicographic, in this order):
// - Eligible seat: status byte 0 (available), of `filter.category` when given (an index into
//   `layout.categories`), and accessible (`layout.accessible` = 1) when `filter.accessible` is
//   true. `accessible: false` or absent means no constraint (not "only non-accessible seats").
// - Block: `count` consecutive seat numbers within one row, all eligible.
// - (1) Stranding: the free run of a block is the maximal run of seats with status 0 (whatever
//   their category or accessibility) in the block's row that contains it. The block strands when
//   exactly one free seat would remain on its left in that run, or exactly one on its right:
//   that seat is then bounded by the block on one side and by a held/sold seat or the row's end
//   on the other. Filters do not enter this rule: a free seat of another category is neither
//   "taken" nor a boundary, since another fan may buy it; so the rule sees the same map for every
//   request. For count 1 the same rule holds: the chosen seat is the block and never counts as
//   stranded itself, so the single seat of a run of one is a perfect fit, while the second seat
//   of a longer run strands the first. Non-stranding blocks rank before all stranding ones.
// - (2) Row: rows in layout order (sections in order, then their rows), earlier is better.
// - (3) Centre: |block centre − row centre| in seats, where a row of n seats starting at `first`
//   has its centre at first + (n − 1) / 2 and a block starting at s at s + (count − 1) / 2.
//   Computed doubled as |2·(s − first) + count − n| to stay in integers; smaller is better.
// - (4) Lower first seat number.
//
// Speed: one pass over the rows in preference order. Within a row, blocks are found by a
// skip scan (test the last seat of a candidate window first; an ineligible seat at j moves the
// next window to j + 1), so a mostly sold row costs about n / count reads, and each run of
// eligible seats is then ranked in O(1) (the best start of an interval is its clamp towards the
// centre). The scan stops at the first row that has a non-stranding block. Why that is exact:
// every non-stranding block ranks before every stranding one (1), and among non-stranding blocks
// an earlier row wins before centre or seat number are looked at (2); so the best non-stranding
// block of the first row that has one is the best block overall, and later rows cannot beat it.
// If no row has one, the answer is the best block of the first row that has any block at all:
// all blocks then strand, so (2) decides between rows before (3) and (4) do.

import type { SeatLayout } from "./layout.js";

export interface BestAvailableFilter {
  /** An index into `layout.categories`: only seats of this category. */
  category?: number;
  /** true: only accessible seats. */
  accessible?: boolean;
}

/** The best of one row's blocks, by criteria (3) and (4); start −1 when the row has none. */
interface RowBest {
  fitStart: number;
  fitDistance: number;
  anyStart: number;
  anyDistance: number;
}

/** The scan's state, reused between calls: bestAvailable allocates only its answer. */
const rowBest: RowBest = { fitStart: -1, fitDistance: 0, anyStart: -1, anyDistance: 0 };

/**
 * The seat numbers (ascending) of the best block of `count` adjacent eligible seats in one row,
 * ranked as this file's header defines; undefined when there is no such block.
 * `seats` is the schedule's status map (machines/schedule.ts), indexed by seatNo − 1.
 */
export function bestAvailable(
  layout: SeatLayout,
  seats: Uint8Array,
  count: number,
  filter?: BestAvailableFilter,
): number[] | undefined {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const category = filter?.category ?? -1;
  const accessible = filter?.accessible === true;
  let fallbackStart = -1;
  for (const section of layout.sections) {
    for (const row of section.rows) {
      if (row.count < count) continue;
      scanRow(layout, seats, row.first - 1, row.count, count, category, accessible);
      if (rowBest.fitStart >= 0) return blockAt(rowBest.fitStart, count);
      if (fallbackStart < 0 && rowBest.anyStart >= 0) fallbackStart = rowBest.anyStart;
    }
  }
  return fallbackStart >= 0 ? blockAt(fallbackStart, count) : undefined;
}

function blockAt(start: number, count: number): number[] {
  const block = new Array<number>(count);
  for (let i = 0; i < count; i++) block[i] = start + i + 1;
  return block;
}

function isEligible(layout: SeatLayout, seats: Uint8Array, i: number, category: number, accessible: boolean): boolean {
  return (
    seats[i] === 0 && (category < 0 || layout.category[i] === category) && (!accessible || layout.accessible[i] === 1)
  );
}

/** Fills `rowBest` for the row of `length` seats at indices lo .. lo + length − 1. */
function scanRow(
  layout: SeatLayout,
  seats: Uint8Array,
  lo: number,
  length: number,
  count: number,
  category: number,
  accessible: boolean,
): void {
  rowBest.fitStart = -1;
  rowBest.anyStart = -1;
  const hi = lo + length;
  // The free run (status 0, any category) around the current eligible run: [freeFrom, freeTo).
  let freeFrom = lo;
  let freeTo = lo;
  let start = lo;
  while (start + count <= hi) {
    let j = start + count - 1;
    while (j >= start && isEligible(layout, seats, j, category, accessible)) j--;
    if (j >= start) {
      start = j + 1;
      continue;
    }
    let end = start + count; // the eligible run is [start, end)
    while (end < hi && isEligible(layout, seats, end, category, accessible)) end++;
    // Starts only grow, so a free run already measured is reused: each seat is walked once.
    if (start >= freeTo) {
      freeFrom = start;
      while (freeFrom > lo && seats[freeFrom - 1] === 0) freeFrom--;
      freeTo = end;
    }
    while (freeTo < hi && seats[freeTo] === 0) freeTo++;
    rankStarts(start, end - count, freeFrom, freeTo, lo, length, count);
    start = end + 1;
  }
}

/** Ranks the block starts first .. last (all eligible) of a free run [freeFrom, freeTo). */
function rankStarts(
  first: number,
  last: number,
  freeFrom: number,
  freeTo: number,
  rowStart: number,
  rowLength: number,
  count: number,
): void {
  // Doubled distance of start s from the centre: |2s − twiceCentre|.
  const twiceCentre = 2 * rowStart + rowLength - count;
  consider(first, last, twiceCentre, false);
  // The two starts that strand: one free seat left on the left, or on the right.
  const strandLeft = freeFrom + 1;
  const strandRight = freeTo - count - 1;
  const cutA = Math.min(strandLeft, strandRight);
  const cutB = Math.max(strandLeft, strandRight);
  let from = first;
  if (cutA >= from && cutA <= last) {
    consider(from, cutA - 1, twiceCentre, true);
    from = cutA + 1;
  }
  if (cutB >= from && cutB <= last) {
    consider(from, cutB - 1, twiceCentre, true);
    from = cutB + 1;
  }
  consider(from, last, twiceCentre, true);
}

/** The best start of the interval from .. to (the one nearest the centre, the lower on a tie). */
function consider(from: number, to: number, twiceCentre: number, fits: boolean): void {
  if (from > to) return;
  const ideal = Math.floor(twiceCentre / 2);
  const start = Math.min(Math.max(ideal, from), to);
  const distance = Math.abs(2 * start - twiceCentre);
  // Intervals arrive in ascending order, so on equal distance the earlier (lower start) stays.
  if (fits) {
    if (rowBest.fitStart < 0 || distance < rowBest.fitDistance) {
      rowBest.fitStart = start;
      rowBest.fitDistance = distance;
    }
  } else if (rowBest.anyStart < 0 || distance < rowBest.anyDistance) {
    rowBest.anyStart = start;
    rowBest.anyDistance = distance;
  }
}
