// NATS subjects of the cluster (src/cluster/subjects.ts): one per room's actors, schedule, room and
// node, and never a wildcard or an empty token made from a bad id.
import { describe, expect, it } from "vitest";
import { subjects } from "../../src/cluster/subjects.js";

describe("cluster subjects", () => {
  it("name one room's actors, one schedule's seats, one node's pushes, presence and the catalog", () => {
    expect(subjects.actor(12)).toBe("tickets.actor.12");
    expect(subjects.actor(0)).toBe("tickets.actor.0"); // the site room's
    expect(subjects.node("node-1:8080")).toBe("tickets.node.node-1:8080");
    expect(subjects.seats(3)).toBe("tickets.seats.3");
    expect(subjects.presence).toBe("tickets.presence");
    expect(subjects.catalog).toBe("tickets.catalog");
    expect(subjects.actor(Number.MAX_SAFE_INTEGER)).toBe(`tickets.actor.${Number.MAX_SAFE_INTEGER}`);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])("refuse %s as a room or schedule id", (id) => {
    expect(() => subjects.actor(id)).toThrow(RangeError);
    expect(() => subjects.seats(id)).toThrow(/schedule id must be a positive integer/);
  });

  it("refuse schedule 0 and node ids that would make a wildcard or several tokens", () => {
    expect(() => subjects.seats(0)).toThrow(RangeError);
    for (const bad of ["", "a.b", "*", ">", "a b", "x".repeat(81)])
      expect(() => subjects.node(bad)).toThrow(RangeError);
  });

  it("refuse a negative or fractional room id, and values that are not numbers at all", () => {
    expect(() => subjects.actor(-1)).toThrow(/room id must be a non-negative integer, got -1/);
    expect(() => subjects.actor(0.5)).toThrow(RangeError);
    expect(() => subjects.actor("7" as unknown as number)).toThrow(RangeError);
    expect(() => subjects.seats("*" as unknown as number)).toThrow(RangeError);
  });
});
