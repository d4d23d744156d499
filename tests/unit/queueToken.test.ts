// Queue tokens: opaque base64url strings that sort in the order they were issued, so that new
// tokens are appended to the end of their table's primary key instead of landing on random pages.
import { describe, expect, it } from "vitest";
import { ascendingPrefix, newQueueToken } from "../../src/actors/queue.js";

describe("queue tokens", () => {
  it("are 24 base64url characters, distinct, and ascending in the order they were issued", () => {
    const tokens = Array.from({ length: 5000 }, () => newQueueToken());
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect([...tokens].sort()).toEqual(tokens);
  });

  it("keep ascending within one millisecond and when the clock steps back", () => {
    const prefixes = [ascendingPrefix(2_000_000_000_000), ascendingPrefix(2_000_000_000_000)];
    prefixes.push(ascendingPrefix(1_999_999_999_000), ascendingPrefix(2_000_000_000_001));
    expect([...prefixes].sort()).toEqual(prefixes);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const prefix of prefixes) expect(prefix).toHaveLength(9);
  });
});
