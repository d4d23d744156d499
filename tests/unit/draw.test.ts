// The draw, checked from published values only: SHA-256(seed) is the commitment, and the order
// of the entry ids is the order of HMAC-SHA256(seed, entryId). The oracle here is node:crypto
// used directly, apart from src/draw.ts.
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { commitmentOf, drawEntryOf, drawKeyOf, drawOrder, entryIdOf, newSeed } from "../../src/draw.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const hmac = (seed: string, entryId: string) =>
  createHmac("sha256", Buffer.from(seed, "ascii")).update(entryId, "ascii").digest("hex");

describe("the verifiable draw", () => {
  it("a seed is 64 lowercase hex characters and its commitment is hex(SHA-256(seed as ASCII))", () => {
    const seed = newSeed();
    expect(seed).toMatch(/^[0-9a-f]{64}$/);
    expect(newSeed()).not.toBe(seed);
    expect(commitmentOf(seed)).toBe(sha256(seed));
  });

  it('an entry id is hex(SHA-256("<concertId>:<userId>")), and a draw key HMAC-SHA256(key = seed, message = entry id)', () => {
    expect(entryIdOf(7, "alice")).toBe(sha256("7:alice"));
    const seed = "ab".repeat(32);
    expect(drawKeyOf(seed, entryIdOf(7, "alice"))).toBe(hmac(seed, sha256("7:alice")));
  });

  it("the server's form of an entry (kept until the draw) is the same entry id as bytes, with the same draw key", () => {
    const seed = "cd".repeat(32);
    const { entryBytes, drawKey } = drawEntryOf(7, "alice", seed);
    expect(Buffer.from(entryBytes, "latin1").toString("hex")).toBe(sha256("7:alice"));
    expect(drawKey).toBe(hmac(seed, sha256("7:alice")));
  });

  it("recomputing an order from the published seed and entry ids gives the server's order", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 0, maxLength: 40 }),
        (users) => {
          const seed = newSeed();
          const entries = users.map((user) => entryIdOf(3, user));
          const drawn = drawOrder(seed, entries);
          // A fan's own check: the published list, re-sorted by the HMAC anyone can compute.
          const recomputed = [...entries].sort((a, b) => hmac(seed, a).localeCompare(hmac(seed, b)));
          expect(drawn).toEqual(recomputed);
          expect(new Set(drawn)).toEqual(new Set(entries));
        },
      ),
      { numRuns: 100 },
    );
  });
});
