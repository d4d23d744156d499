// The schedule actor's diff coalescing: at most one diff per interval, the interval counted
// from the previous diff, so a change after a quiet spell (or after a long turn) is not held back.
import { describe, expect, it } from "vitest";
import { ScheduleActor, type SeatDiff } from "../../src/actors/schedule.js";

const INTERVAL_MS = 200;

function actor(published: { diff: SeatDiff; at: number }[]) {
  return new ScheduleActor(
    { id: 1, concertId: 1, startsAt: "2027-01-01T20:00:00.000Z", seatCount: 10, price: 100 },
    new Uint8Array(10),
    {
      publish: (diff) => published.push({ diff, at: performance.now() }),
      afterPending: () => Promise.resolve(),
      diffIntervalMs: INTERVAL_MS,
    },
  );
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("schedule actor diffs", () => {
  it("sends the first change at once and coalesces the next ones until the interval has passed", async () => {
    const published: { diff: SeatDiff; at: number }[] = [];
    const schedule = actor(published);
    const start = performance.now();
    schedule.hold(1);
    await sleep(50);
    expect(published).toHaveLength(1);
    expect(published[0]!.at - start).toBeLessThan(INTERVAL_MS);

    schedule.hold(2);
    schedule.hold(3);
    schedule.free(2);
    await sleep(50);
    expect(published).toHaveLength(1);
    await sleep(INTERVAL_MS);
    expect(published).toHaveLength(2);
    const second = published[1]!;
    expect(second.at - published[0]!.at).toBeGreaterThanOrEqual(INTERVAL_MS - 5);
    expect(second.diff.version).toBe(2);
    expect(second.diff.changes).toEqual([
      { no: 2, status: "available" },
      { no: 3, status: "held" },
    ]);
    schedule.stop();
  });
});
