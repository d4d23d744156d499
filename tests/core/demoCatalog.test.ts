// The demo catalog (data/demo-catalog.json, SEED_DEMO=1) in process: its three concerts as before
// (the first two in a 2,000-seat hall with three sections and three price categories), a
// 50,000-seat stadium date, and an on-sale in Seoul that opens two minutes after the first start, with a committed draw, so
// that a fresh `npm start` shows the pre-queue, its countdown and the draw.
import { afterEach, describe, expect, it } from "vitest";
import { commitmentOf } from "../../src/draw.js";
import { codeOf, type InProcess, startCore } from "../helpers/core.js";

const DEMO = { SEED_DEMO: "1" };

describe("the demo catalog", () => {
  let s: InProcess;
  afterEach(() => s?.dispose());

  it("keeps its three concerts behind the site room and adds a fourth with an on-sale in Asia/Seoul opening 120 s after the first start, its seed committed to", async () => {
    const before = Date.now();
    s = await startCore(DEMO);
    const after = Date.now();
    const token = await s.activeToken("fan");
    const { concerts } = await s.ok("concerts.list", {}, { user: "fan", queueToken: token });
    expect(concerts.map((c: { title: string }) => c.title)).toEqual([
      "Aurora Strings — Winter Tour",
      "The Midnight Parade — Live in Seoul",
      "Jazz at the Riverside",
      "Han River Lights — Opening Night",
      "Seoul Summer Festival — Olympic Stadium",
    ]);
    const first = await s.ok("schedules.list", { concertId: 1 }, { user: "fan", queueToken: token });
    expect(first.schedules.map((x: { totalSeats: number }) => x.totalSeats)).toEqual([2000, 2000, 2000]);
    const hall = await s.ok("seats.layout", { scheduleId: first.schedules[0].id }, { user: "fan", queueToken: token });
    expect(hall.layout.sections.map((x: { name: string }) => x.name)).toEqual(["Stalls", "Circle", "Balcony"]);
    expect(hall.layout.categories.map((x: { name: string }) => x.name)).toEqual(["Premium", "Standard", "Value"]);
    expect(
      hall.layout.sections.flatMap((x: { rows: { accessible?: number[] }[] }) => x.rows.filter((r) => r.accessible)),
    ).not.toHaveLength(0);
    // The second concert's dates are in the same hall: the same layout, so the same ETag.
    const second = await s.ok("schedules.list", { concertId: 2 }, { user: "fan", queueToken: token });
    const again = await s.ok(
      "seats.layout",
      { scheduleId: second.schedules[0].id, etag: hall.etag },
      { user: "fan", queueToken: token },
    );
    expect(again).toEqual({ etag: hall.etag, notModified: true });
    const stadium = await s.ok("schedules.list", { concertId: 5 }, { user: "fan", queueToken: token });
    expect(stadium.schedules.map((x: { totalSeats: number }) => x.totalSeats)).toEqual([50_000]);

    const { onSales } = await s.ok("onsales.list", {}, { user: "fan" });
    expect(onSales).toHaveLength(1);
    const [onSale] = onSales;
    expect(onSale).toMatchObject({
      concertId: 4,
      title: "Han River Lights — Opening Night",
      timeZone: "Asia/Seoul",
      state: "scheduled",
      activeMax: 100,
      availableSeats: 600,
      seed: null,
    });
    const opensAt = Date.parse(onSale.opensAt);
    expect(opensAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(opensAt).toBeLessThanOrEqual(after + 120_000);
    expect(onSale.commitment).toMatch(/^[0-9a-f]{64}$/);
    const [row] = (await s.core.storage.store.reads.startupState()).onSales;
    expect(commitmentOf(row!.seed!)).toBe(onSale.commitment);

    // Its own room: a check-in now is the pre-queue, and the site token does not open its dates.
    const pre = await s.ok("queue.check", { concertId: 4 }, { user: "fan" });
    expect(pre).toMatchObject({ concertId: 4, status: "pre", position: null, opensAt: onSale.opensAt });
    expect(codeOf(await s.call("schedules.list", { concertId: 4 }, { user: "fan", queueToken: token }))).toBe(
      "FORBIDDEN",
    );
  });

  it("is loaded once: a restart keeps the opening time and the commitment", async () => {
    s = await startCore(DEMO);
    const {
      onSales: [first],
    } = await s.ok("onsales.list", {}, { user: "fan" });
    s = await s.restart();
    const { onSales } = await s.ok("onsales.list", {}, { user: "fan" });
    expect(onSales).toEqual([first]);
  });
});
