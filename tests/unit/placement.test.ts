// Rendezvous hashing (src/cluster/placement.ts): one answer on every node, concerts spread evenly,
// and a node that leaves moves only its own concerts.
import { describe, expect, test } from "vitest";
import { ownerOf } from "../../src/cluster/placement.js";

const concerts = Array.from({ length: 3_000 }, (_, i) => i);
const owners = (nodes: string[]) => new Map(concerts.map((c) => [c, ownerOf(c, nodes)]));

describe("ownerOf", () => {
  test("no node, no owner; one node owns everything", () => {
    expect(ownerOf(1, [])).toBeUndefined();
    expect(ownerOf(1, ["only"])).toBe("only");
  });

  test("stable: the same answer whatever the order of the nodes", () => {
    const nodes = ["a:3000", "b:3000", "c:3000"];
    const first = owners(nodes);
    expect(owners([...nodes].reverse())).toEqual(first);
    expect(owners(["b:3000", "a:3000", "c:3000"])).toEqual(first);
  });

  test("3 nodes split 3,000 concerts within ±10 % of 1,000 each", () => {
    const counts = new Map<string, number>();
    for (const owner of owners(["a:3000", "b:3000", "c:3000"]).values()) {
      counts.set(owner!, (counts.get(owner!) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(["a:3000", "b:3000", "c:3000"]);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThanOrEqual(900);
      expect(count).toBeLessThanOrEqual(1_100);
    }
  });

  test("a node that leaves moves only its own concerts; one that joins takes only from the others", () => {
    const three = owners(["a:3000", "b:3000", "c:3000"]);
    const two = owners(["a:3000", "c:3000"]);
    let moved = 0;
    for (const c of concerts) {
      if (three.get(c) === "b:3000") {
        expect(["a:3000", "c:3000"]).toContain(two.get(c));
        moved++;
      } else expect(two.get(c)).toBe(three.get(c));
    }
    expect(moved).toBeGreaterThan(0);
    // b joining again gives back exactly the three-node placement.
    expect(owners(["a:3000", "c:3000", "b:3000"])).toEqual(three);
  });
});
