// The benchmark audit must be able to fail: a payment the client saw acknowledged but whose row or
// paid seats are missing, a seat live twice, a balance off its ledger, each is reported.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { audit } from "../../bench/lib/audit.js";
import {
  auditBlocks,
  bigVenue,
  layoutOf,
  seatCountOf,
  stadium,
  takenPattern,
  venueFixture,
} from "../../bench/lib/venues.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { venueSchema } from "../../src/venues/venue.js";

let dir: string;
let db: Db;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "bench-audit-"));
  db = openDatabase(dir, "normal");
  db.exec(`
    INSERT INTO concerts (id, title, created_at) VALUES (1, 'c', 0);
    INSERT INTO schedules (id, concert_id, starts_at, seat_count, price) VALUES (1, 1, '2027-01-01', 10, 100);
    INSERT INTO ledger (user_id, amount, kind, payment_id, created_at) VALUES ('u', 1000, 'charge', NULL, 0);
    INSERT INTO ledger (user_id, amount, kind, payment_id, created_at) VALUES ('u', -100, 'payment', 1, 0);
    INSERT INTO ledger (user_id, amount, kind, payment_id, created_at) VALUES ('u', -100, 'payment', 2, 0);
    INSERT INTO payments (id, user_id, amount, created_at) VALUES (1, 'u', 100, 0), (2, 'u', 100, 0);
    INSERT INTO reservations (id, user_id, schedule_id, seat_no, price, status, expires_at, created_at, payment_id)
      VALUES (1, 'u', 1, 1, 100, 'paid', 0, 0, 1), (2, 'u', 1, 2, 100, 'released', 0, 0, 2);
  `);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

it("passes a consistent database", async () => {
  expect(await audit(dir, [1])).toMatchObject({ ok: true, problems: [] });
});

it("reports acknowledged payments without their row or without a paid seat", async () => {
  const result = await audit(dir, [1, 2, 3]);
  expect(result.ok).toBe(false);
  expect(result.problems).toEqual(["2 acknowledged payments missing (e.g. 2,3)"]);
});

it("reports a balance off its ledger", async () => {
  db.exec("UPDATE users SET balance = 900 WHERE id = 'u'");
  expect((await audit(dir, [1])).problems).toEqual(["1 balances differ from their ledgers"]);
});

// Step l's audit of best-available blocks (bench/lib/venues.ts): no seat in two blocks, each
// block `count` adjacent seats of one row.
describe("auditBlocks", () => {
  // Two sections of one row each: seats 1-41 and 42-82.
  const layout = layoutOf(venueFixture("t", 82, 2, 1));
  const rows = layout.sections.flatMap((s) => s.rows);

  it("passes disjoint blocks of adjacent seats in one row", () => {
    const first = rows[0]!.first;
    const second = rows[1]!.first;
    expect(
      auditBlocks(
        layout,
        [
          [first, first + 1, first + 2, first + 3],
          [second + 4, second + 5, second + 6, second + 7],
        ],
        4,
      ),
    ).toEqual({
      ok: true,
      problems: [],
      blocks: 2,
      seats: 8,
    });
  });

  it("reports a seat in two blocks", () => {
    const result = auditBlocks(
      layout,
      [
        [1, 2, 3, 4],
        [4, 5, 6, 7],
      ],
      4,
    );
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toBe("1 seats in more than one block");
  });

  it("reports a block across two rows, one with a gap and one of the wrong size", () => {
    const end = rows[0]!.first + rows[0]!.count - 1;
    const result = auditBlocks(
      layout,
      [
        [end - 1, end, end + 1, end + 2],
        [10, 11, 13, 14],
        [30, 31, 32],
      ],
      4,
    );
    expect(result.problems.slice(0, 3)).toEqual([
      "1 blocks not of 4 seats",
      "1 blocks not adjacent",
      "1 blocks not in one row",
    ]);
  });

  it("reports a seat outside the layout", () => {
    expect(auditBlocks(layout, [[80, 81, 82, 83]], 4).problems[0]).toBe("1 blocks not in one row");
  });
});

describe("venue fixtures", () => {
  it("are valid venues of the asked size, rows of 20..60 seats, three categories, some accessible seats", () => {
    for (const [venue, seats] of [
      [stadium(), 50_000],
      [bigVenue(), 100_000],
    ] as const) {
      expect(venueSchema.safeParse(venue).success).toBe(true);
      expect(seatCountOf(venue)).toBe(seats);
      const sizes = venue.sections.flatMap((s) => s.rows.map((r) => r.seats));
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(20);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(60);
      const layout = layoutOf(venue);
      expect(new Set(layout.category).size).toBe(3);
      expect(layout.accessible.reduce((n, a) => n + a, 0)).toBeGreaterThan(0);
    }
  });

  it("take exactly the asked share of seats, in free gaps and singles", () => {
    const layout = layoutOf(stadium());
    const taken = takenPattern(layout, 0.9);
    expect(taken.reduce((n, t) => n + t, 0)).toBe(45_000);
    // Free seats come in runs of several lengths, not one contiguous free end.
    const runs = new Set<number>();
    let run = 0;
    for (const t of taken) {
      if (t === 0) run++;
      else if (run > 0) {
        runs.add(run);
        run = 0;
      }
    }
    expect([1, 2, 3, 4].every((n) => runs.has(n))).toBe(true);
  });
});
