// The catalog in process: a concert joins it only once durable, with ids that survive a restart.
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../src/errors.js";
import { type InProcess, startCore } from "../helpers/core.js";

describe("Catalog", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("create() stores a concert with its schedules and returns their ids; the catalog serves them", async () => {
    s = await startCore();
    const { catalog } = s.core.actors;
    const created = await catalog.create(
      {
        title: "Night",
        schedules: [
          { startsAt: "2027-01-01T19:00:00.000Z", seatCount: 3, price: 100 },
          { startsAt: "2027-01-02T19:00:00.000Z", seatCount: 5, price: 200 },
        ],
      },
      Date.now(),
    );
    expect(created).toEqual({
      id: 1,
      title: "Night",
      schedules: [
        { id: 1, startsAt: "2027-01-01T19:00:00.000Z", totalSeats: 3 },
        { id: 2, startsAt: "2027-01-02T19:00:00.000Z", totalSeats: 5 },
      ],
    });
    expect(catalog.concertsView()).toEqual({ concerts: [{ id: 1, title: "Night" }] });
    expect(catalog.schedulesOf(1).map((x) => [x.id, x.totalSeats, x.availableSeats])).toEqual([
      [1, 3, 3],
      [2, 5, 5],
    ]);
    expect(() => catalog.schedule(3)).toThrow(ApiError);
  });

  it("a concert is not in the catalog before its commit, and is after a restart, with ids continuing", async () => {
    s = await startCore();
    const creating = s.core.actors.catalog.create(
      { title: "A", schedules: [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 2, price: 1 }] },
      Date.now(),
    );
    // Decided, not yet committed: nobody can see it yet.
    expect(s.core.actors.catalog.concertsView().concerts).toEqual([]);
    await creating;
    s = await s.restart();
    expect(s.core.actors.catalog.concertsView().concerts).toEqual([{ id: 1, title: "A" }]);
    const next = await s.ok(
      "admin.concerts.create",
      {
        title: "B",
        schedules: [{ startsAt: "2027-02-01T19:00:00Z", seatCount: 1, price: 1 }],
      },
      { admin: true },
    );
    expect(next).toMatchObject({ id: 2, schedules: [{ id: 2, startsAt: "2027-02-01T19:00:00.000Z" }] });
  });
});
