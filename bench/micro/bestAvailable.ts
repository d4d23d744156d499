// bestAvailable alone on a 100,000-seat hall (4 sections × 100 rows × 250 seats) that is 90 % sold,
// timed per call while the map changes as a rush would change it: each found block is taken
// (held), and as many taken seats are freed at random (expiries, releases), so the hall stays 90 %
// sold. Two maps: sold seat by seat at random (blocks of 4 are then rare, about ten in the hall, so
// after the first few calls most calls scan every row and find nothing: the worst case), and sold
// in groups (free gaps of 1..4 seats between taken runs, as group sales leave a hall, so blocks
// exist and the scan stops early). Then a map with no block left at all, where every call scans
// every row. `npm run build:bench && node dist/bench/micro/bestAvailable.js [calls] [seed]`.
import { type BestAvailableFilter, bestAvailable } from "../../src/venues/bestAvailable.js";
import type { SeatLayout } from "../../src/venues/layout.js";
import { seededRandom } from "../../tests/helpers/random.js";

const calls = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? 16);
const SECTIONS = 4;
const ROWS = 100;
const SEATS_PER_ROW = 250;
const SOLD_SHARE = 0.9;

/** Three categories by rows (front 20 rows, next 40, the rest); the 4 aisle seats of every 10th row accessible. */
function hall(): SeatLayout {
  const seatCount = SECTIONS * ROWS * SEATS_PER_ROW;
  const category = new Uint8Array(seatCount);
  const accessible = new Uint8Array(seatCount);
  const sections = [];
  let first = 1;
  for (let s = 0; s < SECTIONS; s++) {
    const rows = [];
    for (let r = 0; r < ROWS; r++) {
      rows.push({ name: `${r + 1}`, first, count: SEATS_PER_ROW });
      category.fill(r < 20 ? 0 : r < 60 ? 1 : 2, first - 1, first - 1 + SEATS_PER_ROW);
      if (r % 10 === 9) {
        accessible.fill(1, first - 1, first + 1);
        accessible.fill(1, first - 1 + SEATS_PER_ROW - 2, first - 1 + SEATS_PER_ROW);
      }
      first += SEATS_PER_ROW;
    }
    sections.push({ name: `S${s + 1}`, rows });
  }
  const categories = [
    { name: "A", price: 120 },
    { name: "B", price: 80 },
    { name: "C", price: 50 },
  ];
  return { seatCount, categories, sections, category, accessible };
}

function soldMap(layout: SeatLayout, next: () => number): Uint8Array {
  const seats = new Uint8Array(layout.seatCount);
  for (let i = 0; i < seats.length; i++) if (next() < SOLD_SHARE) seats[i] = 2;
  return seats;
}

/** 90 % sold in runs: free gaps of 1..4 seats (mean 2.5) between taken runs of mean 22.5. */
function groupSoldMap(layout: SeatLayout, next: () => number): Uint8Array {
  const seats = new Uint8Array(layout.seatCount).fill(2);
  for (let i = Math.floor(next() * 45); i < seats.length; i += 1 + Math.floor(next() * 45)) {
    const gap = 1 + Math.floor(next() * 4);
    seats.fill(0, i, Math.min(seats.length, i + gap));
    i += gap;
  }
  return seats;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function report(name: string, timesUs: Float64Array, found: number): void {
  const sorted = timesUs.slice().sort();
  const line = [
    `p50 ${percentile(sorted, 0.5).toFixed(1)} µs`,
    `p99 ${percentile(sorted, 0.99).toFixed(1)} µs`,
    `max ${(sorted[sorted.length - 1] ?? 0).toFixed(1)} µs`,
    `${found}/${timesUs.length} found a block`,
  ];
  console.log(`${name}: ${line.join(", ")}`);
}

/** Times `calls` calls on a changing map: take each block found, free as many taken seats. */
function rush(name: string, map: typeof soldMap, count: number, filter?: BestAvailableFilter): void {
  const next = seededRandom(seed);
  const layout = hall();
  // Warm up (JIT) on a copy, so the timed calls start from the untouched map.
  const warmUp = map(layout, next);
  for (let call = 0; call < 2000; call++) bestAvailable(layout, warmUp, count, filter);
  const seats = map(layout, next);
  const free = seats.reduce((sum, byte) => sum + (byte === 0 ? 1 : 0), 0);
  const times = new Float64Array(calls);
  let found = 0;
  for (let call = 0; call < calls; call++) {
    const started = process.hrtime.bigint();
    const block = bestAvailable(layout, seats, count, filter);
    const ns = Number(process.hrtime.bigint() - started);
    times[call] = ns / 1000;
    if (block === undefined) continue;
    found++;
    for (const seatNo of block) seats[seatNo - 1] = 1;
    for (let freed = 0; freed < block.length; ) {
      const i = Math.floor(next() * seats.length);
      if (seats[i] !== 0) {
        seats[i] = 0;
        freed++;
      }
    }
  }
  report(`${name} (${((100 * free) / seats.length).toFixed(1)} % free)`, times, found);
}

/** The worst case: take blocks until none is left, then time calls that must scan every row. */
function exhausted(count: number): void {
  const next = seededRandom(seed);
  const layout = hall();
  const seats = soldMap(layout, next);
  for (let block = bestAvailable(layout, seats, count); block; block = bestAvailable(layout, seats, count)) {
    for (const seatNo of block) seats[seatNo - 1] = 1;
  }
  const times = new Float64Array(calls);
  for (let call = -2000; call < calls; call++) {
    const started = process.hrtime.bigint();
    bestAvailable(layout, seats, count);
    const ns = Number(process.hrtime.bigint() - started);
    if (call >= 0) times[call] = ns / 1000;
  }
  report(`count ${count}, no block left (full scan)`, times, 0);
}

console.log(`${SECTIONS * ROWS * SEATS_PER_ROW} seats, ${SOLD_SHARE * 100} % sold, ${calls} timed calls, seed ${seed}`);
rush("random, count 4", soldMap, 4);
rush("random, count 4, category C", soldMap, 4, { category: 2 });
rush("random, count 2, accessible", soldMap, 2, { accessible: true });
rush("random, count 1", soldMap, 1);
rush("groups, count 4", groupSoldMap, 4);
rush("groups, count 4, category C", groupSoldMap, 4, { category: 2 });
rush("groups, count 2, accessible", groupSoldMap, 2, { accessible: true });
exhausted(4);
