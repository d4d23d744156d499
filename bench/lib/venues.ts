// Venue fixtures for benchmarks (issue 16): venues as admin.concerts.create takes them (API.md
// "Venues and best available"), a realistic 90 %-sold pattern of taken seats, and the audit of
// best-available blocks (no seat in two blocks; each block `count` adjacent seats of one row).

import type { SeatLayout } from "../../src/venues/layout.js";
import { layoutOf, type NamedVenue, rowOf, type Venue } from "../../src/venues/venue.js";
import { seededRandom } from "../../tests/helpers/random.js";

export const CATEGORIES = [
  { name: "Category 1", price: 120 },
  { name: "Category 2", price: 80 },
  { name: "Category 3", price: 50 },
] as const;

/**
 * A venue of exactly `seats` seats in `sections` sections, rows of 20..60 seats (seeded), three
 * categories by depth in the section (the first 30 % of its rows category 1, the next 40 %
 * category 2, the rest 3), and accessible seats: the two seats at each end of every 10th row and
 * of each section's last row.
 */
export function venueFixture(name: string, seats: number, sections: number, seed = 16): NamedVenue {
  const next = seededRandom(seed);
  const perSection = Math.floor(seats / sections);
  const out: Venue["sections"] = [];
  for (let s = 0; s < sections; s++) {
    let remaining = s === sections - 1 ? seats - perSection * (sections - 1) : perSection;
    const sizes: number[] = [];
    while (remaining > 60) {
      let size = 20 + Math.floor(next() * 41);
      // Never leave fewer than 20 seats for the last row.
      if (remaining - size < 20) size = remaining - 20;
      sizes.push(size);
      remaining -= size;
    }
    sizes.push(remaining);
    out.push({
      name: `Section ${s + 1}`,
      rows: sizes.map((size, r) => {
        const depth = r / sizes.length;
        const category = CATEGORIES[depth < 0.3 ? 0 : depth < 0.7 ? 1 : 2].name;
        const accessible = r % 10 === 9 || r === sizes.length - 1 ? [1, 2, size - 1, size] : undefined;
        return { name: `${r + 1}`, seats: size, category, ...(accessible ? { accessible } : {}) };
      }),
    });
  }
  return { name, categories: CATEGORIES.map((c) => ({ ...c })), sections: out };
}

/** The 50,000-seat stadium: 10 sections. */
export const stadium = (): NamedVenue => venueFixture("Stadium", 50_000, 10, 50);
/** The 100,000-seat venue: 16 sections. */
export const bigVenue = (): NamedVenue => venueFixture("Big venue", 100_000, 16, 100);

export function seatCountOf(venue: Venue): number {
  return venue.sections.reduce((n, s) => n + s.rows.reduce((m, r) => m + r.seats, 0), 0);
}

export { layoutOf };

/**
 * Which seats are taken (1) in a hall sold `share` (0..1) as a real one is: each row alternates
 * free gaps of 1..6 seats (more often short) with taken runs made of groups (1 to 8 seats, mostly 2
 * and 4), then 3 % of the seats are swapped at random (a taken seat freed, a free seat taken: the
 * scattered singles of releases and single buys), then random seats are taken or freed until
 * exactly round(share × seats) are taken. Seeded: the same map for the same seed.
 */
export function takenPattern(layout: SeatLayout, share: number, seed = 90): Uint8Array {
  const next = seededRandom(seed);
  const taken = new Uint8Array(layout.seatCount);
  const gapMean = 2.4;
  const runMean = (gapMean * share) / (1 - share);
  const group = () => {
    const x = next();
    return x < 0.2 ? 1 : x < 0.55 ? 2 : x < 0.65 ? 3 : x < 0.9 ? 4 : 5 + Math.floor(next() * 4);
  };
  for (const section of layout.sections) {
    for (const row of section.rows) {
      let i = row.first - 1;
      const end = i + row.count;
      // Start inside a gap or a run at random.
      let inGap = next() < 1 - share;
      while (i < end) {
        if (inGap) {
          const x = next();
          i += x < 0.35 ? 1 : x < 0.6 ? 2 : x < 0.8 ? 3 : x < 0.9 ? 4 : 5 + Math.floor(next() * 2);
        } else {
          // Groups until the run is about as long as its share asks (exponential around runMean).
          const length = Math.max(1, Math.round(-Math.log(1 - next()) * runMean));
          for (let sold = 0; sold < length && i < end; ) {
            const g = Math.min(group(), end - i);
            taken.fill(1, i, i + g);
            i += g;
            sold += g;
          }
        }
        inGap = !inGap;
      }
    }
  }
  const n = taken.length;
  for (let swaps = Math.round(0.03 * n); swaps > 0; swaps--) {
    const a = Math.floor(next() * n);
    const b = Math.floor(next() * n);
    if (taken[a] === 1 && taken[b] === 0) {
      taken[a] = 0;
      taken[b] = 1;
    }
  }
  let count = taken.reduce((sum, t) => sum + t, 0);
  const want = Math.round(share * n);
  while (count !== want) {
    const i = Math.floor(next() * n);
    if (count < want && taken[i] === 0) {
      taken[i] = 1;
      count++;
    } else if (count > want && taken[i] === 1) {
      taken[i] = 0;
      count--;
    }
  }
  return taken;
}

export interface BlockAudit {
  ok: boolean;
  problems: string[];
  blocks: number;
  seats: number;
}

/**
 * Audits blocks of seat numbers handed out by best available: no seat in two blocks (nor twice in
 * one), every block exactly `count` consecutive seat numbers inside one row of `layout`.
 */
export function auditBlocks(layout: SeatLayout, blocks: readonly (readonly number[])[], count: number): BlockAudit {
  const owner = new Map<number, number>();
  let overlapping = 0;
  let wrongSize = 0;
  let notAdjacent = 0;
  let notOneRow = 0;
  let seats = 0;
  const examples: string[] = [];
  const example = (text: string) => {
    if (examples.length < 5) examples.push(text);
  };
  blocks.forEach((block, b) => {
    seats += block.length;
    if (block.length !== count) {
      wrongSize++;
      example(`block ${b} has ${block.length} seats`);
    }
    const sorted = [...block].sort((x, y) => x - y);
    if (sorted.some((seatNo, i) => i > 0 && seatNo !== sorted[i - 1]! + 1)) {
      notAdjacent++;
      example(`block ${b} (${sorted.join(",")}) is not adjacent`);
    }
    const first = rowOf(layout, sorted[0]!);
    if (first === undefined || sorted.some((seatNo) => rowOf(layout, seatNo) !== first)) {
      notOneRow++;
      example(`block ${b} (${sorted.join(",")}) is not in one row`);
    }
    for (const seatNo of block) {
      const other = owner.get(seatNo);
      if (other !== undefined) {
        overlapping++;
        example(`seat ${seatNo} is in blocks ${other} and ${b}`);
      } else owner.set(seatNo, b);
    }
  });
  const problems = [
    ...(overlapping > 0 ? [`${overlapping} seats in more than one block`] : []),
    ...(wrongSize > 0 ? [`${wrongSize} blocks not of ${count} seats`] : []),
    ...(notAdjacent > 0 ? [`${notAdjacent} blocks not adjacent`] : []),
    ...(notOneRow > 0 ? [`${notOneRow} blocks not in one row`] : []),
    ...(examples.length > 0 ? [`e.g. ${examples.join("; ")}`] : []),
  ];
  return { ok: problems.length === 0, problems, blocks: blocks.length, seats };
}
