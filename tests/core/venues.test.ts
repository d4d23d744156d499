// Venues and best available in the server's core (issue 16): schedules laid out in a venue through
// admin.concerts.create, their seats' places and prices, compact snapshots and layouts by ETag,
// and reservations.best decided in the schedule's turn, against a model and the brute-force
// oracle (fast-check).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutFromDocument, unpackStatuses } from "../../src/venues/document.js";
import { codeOf, type InProcess, startCore } from "../helpers/core.js";
import { arbitraryVenue, oracle } from "../helpers/venues.js";

/** A small hall: two sections, three categories, accessible places at the ends of row A. */
const HALL = {
  name: "Hall",
  categories: [
    { name: "VIP", price: 150 },
    { name: "Standard", price: 100 },
    { name: "Balcony", price: 60 },
  ],
  sections: [
    {
      name: "Stalls",
      rows: [
        { name: "A", seats: 8, category: "VIP", accessible: [1, 8] },
        { name: "B", seats: 10, category: "Standard" },
      ],
    },
    { name: "Balcony", rows: [{ name: "K", seats: 6, category: "Balcony" }] },
  ],
};

const STARTS = "2027-05-01T19:00:00Z";

describe("venues in the core", () => {
  let core: InProcess;
  const tokens = new Map<string, string>();

  async function token(user: string): Promise<string> {
    let t = tokens.get(user);
    if (t === undefined) tokens.set(user, (t = await core.activeToken(user)));
    return t;
  }

  async function as(user: string, op: string, args: Record<string, unknown>): Promise<{ status: number; body: any }> {
    return core.call(op, args, { user, queueToken: await token(user) });
  }

  async function createHall(extra: Record<string, unknown> = {}): Promise<number> {
    const created = await core.ok(
      "admin.concerts.create",
      {
        title: "Hall night",
        venues: [HALL],
        schedules: [{ startsAt: STARTS, venue: "Hall" }],
        ...extra,
      },
      { admin: true },
    );
    return created.schedules[0].id;
  }

  beforeAll(async () => {
    // About 200 users check in from one address (the property test makes 4 per run): that
    // address's budget of new queue tokens is not what this suite tests.
    core = await startCore({
      QUEUE_ACTIVE_MAX: "1000",
      MAX_HOLDS_PER_USER: "6",
      CHARGE_MAX: "100000",
      RATE_LIMIT_PER_IP: "0",
    });
  });

  afterAll(() => core.dispose());

  it("creates a concert whose dates name one venue, or give one inline, beside a plain date", async () => {
    const { name: _name, ...inline } = HALL;
    const created = await core.ok(
      "admin.concerts.create",
      {
        title: "Tour",
        venues: [HALL],
        schedules: [
          { startsAt: STARTS, venue: "Hall" },
          { startsAt: "2027-05-02T19:00:00Z", venue: "Hall" },
          { startsAt: "2027-05-03T19:00:00Z", venue: { categories: inline.categories, sections: inline.sections } },
          { startsAt: "2027-05-04T19:00:00Z", seatCount: 5, price: 70 },
        ],
      },
      { admin: true },
    );
    expect(created.schedules.map((s: { totalSeats: number }) => s.totalSeats)).toEqual([24, 24, 24, 5]);
    // The same hall, named or inline, is one layout with one ETag.
    const etags = await Promise.all(
      created.schedules
        .slice(0, 3)
        .map(async (s: { id: number }) => (await as("u-etag", "seats.layout", { scheduleId: s.id })).body),
    );
    expect(new Set(etags.map((e: any) => e.etag)).size).toBe(1);
    const plain = await as("u-etag", "seats.list", { scheduleId: created.schedules[3].id });
    expect(plain.body.seats[0]).toEqual({ no: 1, price: 70, status: "available" });
  });

  it("gives each seat its section, row, label, category, accessibility and its category's price", async () => {
    const scheduleId = await createHall();
    const { body } = await as("u-list", "seats.list", { scheduleId });
    expect(body.seats).toHaveLength(24);
    expect(body.seats[0]).toEqual({
      no: 1,
      price: 150,
      status: "available",
      section: "Stalls",
      row: "A",
      label: "A-1",
      category: "VIP",
      accessible: true,
    });
    expect(body.seats[8]).toMatchObject({
      no: 9,
      section: "Stalls",
      row: "B",
      label: "B-1",
      category: "Standard",
      price: 100,
      accessible: false,
    });
    expect(body.seats[23]).toMatchObject({ no: 24, section: "Balcony", row: "K", label: "K-6", price: 60 });
    // A hold costs its seat's category's price; a payment the sum.
    const vip = await as("u-list", "reservations.create", { scheduleId, seatNo: 2 });
    const balcony = await as("u-list", "reservations.create", { scheduleId, seatNo: 20 });
    expect([vip.body.price, balcony.body.price]).toEqual([150, 60]);
    await core.ok("balance.charge", { amount: 1000 }, { user: "u-list" });
    const paid = await core.ok(
      "payments.create",
      { reservationIds: [vip.body.reservationId, balcony.body.reservationId] },
      { user: "u-list" },
    );
    expect(paid.amount).toBe(210);
  });

  it("answers a compact snapshot whose statuses match the full map, and the layout by ETag", async () => {
    const scheduleId = await createHall();
    await as("u-compact", "reservations.create", { scheduleId, seatNo: 3 });
    const full = (await as("u-compact", "seats.list", { scheduleId })).body;
    const compact = (await as("u-compact", "seats.list", { scheduleId, compact: true })).body;
    expect(compact).toMatchObject({ scheduleId, version: full.version, compact: true, seatCount: 24 });
    const statuses = unpackStatuses(Buffer.from(compact.statuses, "base64"), 24);
    expect([...statuses].map((b) => ["available", "held", "sold"][b])).toEqual(full.seats.map((s: any) => s.status));
    const layout = (await as("u-compact", "seats.layout", { scheduleId })).body;
    expect(layout.etag).toBe(compact.layoutEtag);
    expect(layout.layout.categories).toEqual(HALL.categories);
    expect(layout.layout.sections[0].rows[0]).toEqual({
      name: "A",
      first: 1,
      count: 8,
      category: 0,
      accessible: [1, 1, 8, 1],
    });
    expect((await as("u-compact", "seats.layout", { scheduleId, etag: layout.etag })).body).toEqual({
      etag: layout.etag,
      notModified: true,
    });
    expect((await as("u-compact", "seats.layout", { scheduleId, etag: "stale" })).body.layout).toEqual(layout.layout);
  });

  it("refuses bad venues with 400 INVALID_ARGUMENT naming the mistake", async () => {
    const bad = async (concert: Record<string, unknown>) => {
      const reply = await core.call("admin.concerts.create", { title: "Bad", ...concert }, { admin: true });
      expect(codeOf(reply), JSON.stringify(reply.body)).toBe("INVALID_ARGUMENT");
      return (reply.body as { error: { message: string } }).error.message;
    };
    const withRows = (rows: unknown[]) => ({
      schedules: [{ startsAt: STARTS, venue: { categories: HALL.categories, sections: [{ name: "S", rows }] } }],
    });
    expect(await bad(withRows([]))).toMatch(
      /^schedules\.0\.venue\.sections\.0\.rows: a section needs at least one row/,
    );
    expect(await bad(withRows([{ name: "A", seats: 0, category: "VIP" }]))).toMatch(
      /seats: a row needs at least one seat/,
    );
    expect(await bad(withRows([{ name: "A", seats: 3, category: "Gold" }]))).toMatch(
      /^schedules\.0\.venue\.sections\.0\.rows\.0\.category: no category named "Gold"/,
    );
    expect(
      await bad(
        withRows([
          { name: "A", seats: 3, category: "VIP" },
          { name: "A", seats: 3, category: "VIP" },
        ]),
      ),
    ).toMatch(/duplicate row in this section name "A"/);
    expect(
      await bad(
        withRows([
          { name: "A", seats: 60_000, category: "VIP" },
          { name: "B", seats: 40_001, category: "VIP" },
        ]),
      ),
    ).toMatch(/at most 100000 seats \(this one has 100001\)/);
    expect(await bad({ schedules: [{ startsAt: STARTS, venue: "Nowhere" }] })).toMatch(
      /^schedules\.0\.venue: no venue named "Nowhere" in venues/,
    );
    expect(await bad({ venues: [HALL, HALL], schedules: [{ startsAt: STARTS, venue: "Hall" }] })).toMatch(
      /^venues\.1\.name: duplicate venue name "Hall"/,
    );
    expect(await bad({ venues: [HALL], schedules: [{ startsAt: STARTS, venue: "Hall", seatCount: 5 }] })).toMatch(
      /^schedules\.0\.seatCount: give a venue or seatCount and price, not both/,
    );
    expect(await bad({ schedules: [{ startsAt: STARTS, price: 5 }] })).toMatch(/^schedules\.0\.seatCount: required/);
    // A wrongly typed inline venue says what is wrong inside it, not "Invalid input".
    expect(await bad({ schedules: [{ startsAt: STARTS, venue: { categories: "VIP", sections: [] } }] })).toMatch(
      /^schedules\.0\.venue\.categories: /,
    );
    expect(
      await bad({
        venues: [{ ...HALL, categories: [{ name: "VIP", price: 100_001 }, ...HALL.categories.slice(1)] }],
        schedules: [{ startsAt: STARTS, venue: "Hall" }],
      }),
    ).toBe("venues.0.categories.0.price: must be at most 100000");
    expect(await bad({ schedules: [{ startsAt: STARTS, seatCount: 5, price: 100_001 }] })).toBe(
      "schedules.0.price: must be at most 100000",
    );
  });

  it("reservations.best holds the best block: non-stranding, best row, centred, filtered", async () => {
    const scheduleId = await createHall();
    const best = async (user: string, args: Record<string, unknown>) =>
      as(user, "reservations.best", { scheduleId, ...args });
    // Row A (VIP) is best: 2 of 8 from the centre are seats 4-5.
    const first = await best("u-best1", { count: 2 });
    expect(first.status).toBe(201);
    expect(first.body.reservations.map((r: any) => [r.seatNo, r.section, r.label, r.price, r.status])).toEqual([
      [4, "Stalls", "A-4", 150, "held"],
      [5, "Stalls", "A-5", 150, "held"],
    ]);
    // A category: the balcony's row K, centred.
    const balcony = await best("u-best2", { count: 2, category: "Balcony" });
    expect(balcony.body.reservations.map((r: any) => r.label)).toEqual(["K-3", "K-4"]);
    // Accessible: only are, and they are not adjacent.
    const accessible = await best("u-best3", { count: 1, accessible: true });
    expect(accessible.body.reservations).toHaveLength(1);
    expect(["A-1", "A-8"]).toContain(accessible.body.reservations[0].label);
    expect(codeOf(await best("u-best3", { count: 2, accessible: true }))).toBe("SEAT_UNAVAILABLE");
    expect(codeOf(await best("u-best4", { count: 7, category: "Balcony" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(await best("u-best4", { count: 6, category: "Gold" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(await best("u-best4", { count: 0 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(await best("u-best4", { count: 5, category: "Balcony" }))).toBe("SEAT_UNAVAILABLE");
    // The allowance counts the block: 4 held, 3 more would pass MAX_HOLDS_PER_USER (6).
    expect((await best("u-best5", { count: 4 })).status).toBe(201);
    const over = await best("u-best5", { count: 3 });
    expect(codeOf(over)).toBe("HOLD_LIMIT");
    expect((await best("u-best5", { count: 2 })).status).toBe(201);
    // Nothing half-done: a refused block holds nothing.
    const mine = await core.ok("reservations.list", { status: "held" }, { user: "u-best5" });
    expect(mine.reservations).toHaveLength(6);
  });

  it("a date may have its own time zone; schedules.list gives each date's, its concert's by default", async () => {
    const created = await core.ok(
      "admin.concerts.create",
      {
        title: "Two cities",
        timeZone: "Asia/Seoul",
        schedules: [
          { startsAt: STARTS, seatCount: 2, price: 10 },
          { startsAt: STARTS, seatCount: 2, price: 10, timeZone: "Asia/Tokyo" },
        ],
      },
      { admin: true },
    );
    const listed = await as("u-zone", "schedules.list", { concertId: created.id });
    expect(listed.body.schedules.map((s: { timeZone: string }) => s.timeZone)).toEqual(["Asia/Seoul", "Asia/Tokyo"]);
    const bad = await core.call(
      "admin.concerts.create",
      { title: "Nowhere", schedules: [{ startsAt: STARTS, seatCount: 2, price: 10, timeZone: "Mars/Olympus" }] },
      { admin: true },
    );
    expect(codeOf(bad)).toBe("INVALID_ARGUMENT");
    core = await core.restart();
    tokens.clear();
    const again = await as("u-zone", "schedules.list", { concertId: created.id });
    expect(again.body.schedules[1].timeZone).toBe("Asia/Tokyo");
  });

  it("a schedule without a venue is one row labelled by seat numbers", async () => {
    const created = await core.ok(
      "admin.concerts.create",
      { title: "Plain", schedules: [{ startsAt: STARTS, seatCount: 9, price: 40 }] },
      { admin: true },
    );
    const scheduleId = created.schedules[0].id;
    const block = await as("u-plain", "reservations.best", { scheduleId, count: 3 });
    expect(block.body.reservations.map((r: any) => [r.seatNo, r.section, r.label, r.price])).toEqual([
      [4, "", "4", 40],
      [5, "", "5", 40],
      [6, "", "6", 40],
    ]);
    const layout = await as("u-plain", "seats.layout", { scheduleId });
    expect(layout.body.layout).toEqual({
      seatCount: 9,
      categories: [{ name: "standard", price: 40 }],
      sections: [{ name: "", rows: [{ name: "", first: 1, count: 9, category: 0 }] }],
    });
  });

  it("keeps venues, prices and holds across a restart, with the same layout ETag", async () => {
    const scheduleId = await createHall();
    const held = await as("u-restart", "reservations.best", { scheduleId, count: 3, category: "Standard" });
    const etag = (await as("u-restart", "seats.layout", { scheduleId })).body.etag;
    core = await core.restart();
    tokens.clear();
    expect((await as("u-restart", "seats.layout", { scheduleId })).body.etag).toBe(etag);
    const seats = (await as("u-restart", "seats.list", { scheduleId })).body.seats;
    for (const r of held.body.reservations) expect(seats[r.seatNo - 1]).toMatchObject({ status: "held", price: 100 });
    const again = await core.ok(
      "reservations.get",
      { reservationId: held.body.reservations[0].reservationId },
      { user: "u-restart" },
    );
    expect(again).toMatchObject({ status: "held", price: 100 });
  });

  it("property: blocks are adjacent, in one row and category, never overlap, and strand no seat when avoidable", async () => {
    const command = fc.oneof(
      fc.record({
        kind: fc.constant("best" as const),
        user: fc.integer({ min: 0, max: 3 }),
        count: fc.integer({ min: 1, max: 4 }),
        category: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        accessible: fc.option(fc.constant(true), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant("hold" as const), user: fc.integer({ min: 0, max: 3 }), seat: fc.nat() }),
      fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(arbitraryVenue, fc.array(command, { minLength: 1, maxLength: 25 }), async (venue, commands) => {
        run++;
        const created = await core.ok(
          "admin.concerts.create",
          { title: `Property ${run}`, schedules: [{ startsAt: STARTS, venue }] },
          { admin: true },
        );
        const scheduleId = created.schedules[0].id;
        const layoutDoc = (await as("p-0", "seats.layout", { scheduleId })).body.layout;
        const layout = layoutFromDocument(layoutDoc);
        // The model: who holds each seat (by reservation), and each live reservation's seat.
        const seats = new Uint8Array(layout.seatCount);
        const live = new Map<number, { user: string; seatNo: number }>();
        for (const c of commands) {
          if (c.kind === "release") {
            const ids = [...live.keys()];
            if (ids.length === 0) continue;
            const id = ids[c.pick % ids.length]!;
            const { user, seatNo } = live.get(id)!;
            expect((await core.call("reservations.release", { reservationId: id }, { user })).status).toBe(200);
            live.delete(id);
            seats[seatNo - 1] = 0;
            continue;
          }
          const user = `p-${c.user}-${run}`;
          if (c.kind === "hold") {
            const seatNo = 1 + (c.seat % layout.seatCount);
            const reply = await as(user, "reservations.create", { scheduleId, seatNo });
            if (seats[seatNo - 1] !== 0) expect(codeOf(reply)).toBe("SEAT_UNAVAILABLE");
            else if (reply.status === 201) {
              live.set(reply.body.reservationId, { user, seatNo });
              seats[seatNo - 1] = 1;
            } else expect(codeOf(reply)).toBe("HOLD_LIMIT");
            continue;
          }
          const category = c.category !== undefined && c.category < layout.categories.length ? c.category : undefined;
          const filter = {
            ...(category !== undefined ? { category } : {}),
            ...(c.accessible ? { accessible: true } : {}),
          };
          const reply = await as(user, "reservations.best", {
            scheduleId,
            count: c.count,
            ...(category !== undefined ? { category: layout.categories[category]!.name } : {}),
            ...(c.accessible ? { accessible: true } : {}),
          });
          const candidates = oracle(layout, seats, c.count, filter);
          if (reply.status !== 201) {
            if (codeOf(reply) === "HOLD_LIMIT") continue;
            expect(codeOf(reply)).toBe("SEAT_UNAVAILABLE");
            expect(candidates).toEqual([]);
            continue;
          }
          const block: number[] = reply.body.reservations.map((r: { seatNo: number }) => r.seatNo);
          expect(block).toHaveLength(c.count);
          // Adjacent, free in the model (no overlap with any live hold or sale), as filtered.
          block.forEach((seatNo, i) => {
            if (i > 0) expect(seatNo).toBe(block[i - 1]! + 1);
            expect(seats[seatNo - 1]).toBe(0);
            if (category !== undefined) expect(layout.category[seatNo - 1]).toBe(category);
            if (c.accessible) expect(layout.accessible[seatNo - 1]).toBe(1);
          });
          // One row; and the oracle's best: strands nothing when any block avoids it.
          const chosen = candidates.find((k) => k.seatNos[0] === block[0]);
          expect(chosen, "the block is one of the row blocks").toBeDefined();
          expect(chosen!.strands).toBe(candidates[0]!.strands);
          expect(block).toEqual(candidates[0]!.seatNos);
          for (const r of reply.body.reservations) {
            live.set(r.reservationId, { user, seatNo: r.seatNo });
            seats[r.seatNo - 1] = 1;
          }
        }
        // The server's map is the model's.
        const compact = (await as("p-0", "seats.list", { scheduleId, compact: true })).body;
        expect([...unpackStatuses(Buffer.from(compact.statuses, "base64"), layout.seatCount)]).toEqual([...seats]);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
