// Token buckets per client address: spent by what the address does, refilled over time, and a
// table bounded by dropping the least recently seen address.
import { describe, expect, it } from "vitest";
import { AddressLimiter } from "../../src/api/rateLimit.js";

describe("AddressLimiter", () => {
  it("an address spends its burst, then refills at perSecond; others are not affected", () => {
    const limiter = new AddressLimiter({ perSecond: 2, burst: 3 });
    const t = 1_000_000;
    expect([1, 2, 3, 4].map(() => limiter.take("a", t))).toEqual([true, true, true, false]);
    expect(limiter.isSpent("a", t)).toBe(true);
    expect(limiter.isSpent("b", t)).toBe(false);
    expect(limiter.take("b", t)).toBe(true);
    expect(limiter.take("a", t + 500)).toBe(true);
    expect(limiter.take("a", t + 500)).toBe(false);
  });

  it("keeps at most maxKeys addresses, dropping the least recently seen (which then starts over)", () => {
    const limiter = new AddressLimiter({ perSecond: 1, burst: 1 }, 3);
    const t = 1_000_000;
    limiter.take("a", t);
    limiter.take("b", t);
    limiter.take("c", t);
    // Seeing a again makes b the least recently seen.
    expect(limiter.isSpent("a", t)).toBe(true);
    limiter.take("d", t);
    expect(limiter.size).toBe(3);
    expect(limiter.isSpent("b", t)).toBe(false);
    expect(limiter.isSpent("a", t)).toBe(true);
    for (let i = 0; i < 10_000; i++) limiter.take(`x${i}`, t);
    expect(limiter.size).toBe(3);
  });

  it("perSecond 0 turns it off", () => {
    const limiter = new AddressLimiter({ perSecond: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take("a", 0)).toBe(true);
    expect(limiter.isSpent("a", 0)).toBe(false);
    expect(limiter.size).toBe(0);
  });
});
