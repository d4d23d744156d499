// The benchmark audit must be able to fail: a payment the client saw acknowledged but whose row or
// paid seats are missing, a seat live twice, a balance off its ledger, each is reported.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { audit } from "../../bench/lib/audit.js";
import { type Db, openDatabase } from "../../src/store/db.js";

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
