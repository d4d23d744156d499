// The one timer heap of holds (src/actors/expiries.ts): an item is in it at most once, so a hold
// that is put back for later (a locked hold found past its end) fires once, at its new time.
import { describe, expect, it } from "vitest";
import { ExpiryHeap } from "../../src/actors/expiries.js";

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("ExpiryHeap", () => {
  it("an item added again moves to its new time: one entry, one call", async () => {
    const due: [string, number][] = [];
    const heap = new ExpiryHeap<string>((item, now) => due.push([item, now]));
    const start = Date.now();
    heap.add(start + 20, "hold");
    heap.add(start + 60, "hold");
    // Two entries for one item would make fire() call onDue for the stale one forever.
    expect(heap.size).toBe(1);
    await sleep(100);
    expect(due).toHaveLength(1);
    expect(due[0]![1]).toBeGreaterThanOrEqual(start + 60);
    expect(heap.size).toBe(0);
    heap.stop();
  });
});
