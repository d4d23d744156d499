import { describe, expect, it } from "vitest";
import { WaitingLine } from "../../machines/waitingLine.js";
import { seededRandom } from "../helpers/random.js";

/** The obvious model: a sorted array of present seqs. */
class NaiveLine {
  items: number[] = [];
  add(seq: number): boolean {
    if (this.items.indexOf(seq) >= 0) return false;
    let at = this.items.length;
    while (at > 0 && (this.items[at - 1] ?? 0) > seq) at--;
    this.items.splice(at, 0, seq);
    return true;
  }
  remove(seq: number): boolean {
    const index = this.items.indexOf(seq);
    if (index < 0) return false;
    this.items.splice(index, 1);
    return true;
  }
  rank(seq: number): number {
    return this.items.indexOf(seq) + 1;
  }
  popOldest(): number | undefined {
    return this.items.shift();
  }
}

describe("WaitingLine", () => {
  it("pops in seq order and ranks among the present ones only", () => {
    const line = new WaitingLine();
    for (const seq of [1, 2, 3, 4, 5]) line.add(seq);
    line.remove(3);
    expect(line.size).toBe(4);
    expect([1, 2, 3, 4, 5].map((seq) => line.rank(seq))).toEqual([1, 2, 0, 3, 4]);
    expect(line.popOldest()).toBe(1);
    expect(line.rank(5)).toBe(3);
    expect([...line]).toEqual([2, 4, 5]);
  });

  it("is empty-safe: popOldest gives undefined and rank of an unknown seq is 0", () => {
    const line = new WaitingLine();
    expect(line.popOldest()).toBeUndefined();
    expect(line.peekOldest()).toBeUndefined();
    expect(line.rank(1)).toBe(0);
    expect(line.remove(1)).toBe(false);
    expect(line.size).toBe(0);
  });

  it("add and remove report whether they changed anything, and duplicates are not counted", () => {
    const line = new WaitingLine();
    expect(line.add(10)).toBe(true);
    expect(line.add(10)).toBe(false);
    expect(line.size).toBe(1);
    expect(line.remove(10)).toBe(true);
    expect(line.remove(10)).toBe(false);
    expect(line.size).toBe(0);
  });

  it("grows past its initial capacity and slides its window as the front is popped", () => {
    const line = new WaitingLine(16);
    let next = 1;
    // A steady stream: 50 in, 40 out, many times over; seqs reach far beyond the capacity.
    for (let round = 0; round < 2_000; round++) {
      for (let i = 0; i < 50; i++) line.add(next++);
      for (let i = 0; i < 40; i++) line.popOldest();
    }
    expect(line.size).toBe(20_000);
    expect(line.peekOldest()).toBe(80_001);
    expect(line.rank(next - 1)).toBe(20_000);
    expect(line.rank(80_001)).toBe(1);
  });

  it("accepts a seq below everything it has seen (window moves down)", () => {
    const line = new WaitingLine(16);
    line.add(100_000);
    line.add(5);
    line.add(250_000);
    expect([...line]).toEqual([5, 100_000, 250_000]);
    expect(line.rank(250_000)).toBe(3);
  });

  it("matches a naive sorted-array model under random add/remove/pop/rank", () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rand = seededRandom(seed);
      const line = new WaitingLine(16);
      const model = new NaiveLine();
      let nextSeq = 1;
      // Plain comparisons, one expect per mismatch: expect() per step would dominate the run.
      const check = (step: number, what: string, actual: unknown, expected: unknown) => {
        if (actual !== expected) expect(actual, `seed ${seed} step ${step}: ${what}`).toBe(expected);
      };
      for (let step = 0; step < 5_000; step++) {
        const roll = rand();
        if (roll < 0.4) {
          // Mostly fresh seqs at the back, as in the queue; sometimes an arbitrary one.
          const seq = rand() < 0.8 ? nextSeq++ : Math.floor(rand() * (nextSeq + 50));
          check(step, `add ${seq}`, line.add(seq), model.add(seq));
        } else if (roll < 0.6) {
          const seq = model.items[Math.floor(rand() * model.items.length)] ?? nextSeq;
          check(step, `remove present ${seq}`, line.remove(seq), model.remove(seq));
        } else if (roll < 0.7) {
          const seq = Math.floor(rand() * (nextSeq + 10));
          check(step, `remove ${seq}`, line.remove(seq), model.remove(seq));
        } else if (roll < 0.8) {
          check(step, "popOldest", line.popOldest(), model.popOldest());
        } else {
          const seq = Math.floor(rand() * (nextSeq + 10));
          check(step, `rank ${seq}`, line.rank(seq), model.rank(seq));
        }
        check(step, "size", line.size, model.items.length);
      }
      expect([...line]).toEqual(model.items);
      expect(model.items.map((seq) => line.rank(seq))).toEqual(model.items.map((_, index) => index + 1));
    }
  });
});
