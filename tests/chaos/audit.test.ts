// The crash-loop audit must be able to fail: fed a log that claims more than the database holds,
// or a database tampered behind the server's back, it reports each problem. On both stores.

import { join } from "node:path";
import Database from "better-sqlite3";
import postgres from "postgres";
import { afterAll, beforeAll, expect, test } from "vitest";
import { activeToken, createConcert, http } from "../helpers/client.js";
import { numbered } from "../helpers/databaseReader.js";
import { startServer, type TestServer } from "../helpers/server.js";
import { auditDatabase, type LogEntry } from "./audit.js";

let s: TestServer;
const entries: LogEntry[] = [];
const user = "audit-user";
let upSince = 0;

beforeAll(async () => {
  upSince = Date.now();
  s = await startServer();
  await createConcert(s, [{ startsAt: "2027-01-01T19:00:00.000Z", seatCount: 10, price: 1000 }]);
  const token = await activeToken(s, user);
  entries.push({ t: "sent", cycle: 1, at: Date.now(), op: "charge", user, key: "c1", amount: 5000 });
  const charge = await http(s, "POST", "/v1/balance/charge", { user, idempotencyKey: "c1", body: { amount: 5000 } });
  entries.push({
    t: "ack",
    cycle: 1,
    at: Date.now(),
    op: "charge",
    user,
    key: "c1",
    req: { amount: 5000 },
    status: 200,
    reply: charge.body,
  });
  const hold = await http(s, "POST", "/v1/reservations", {
    user,
    queueToken: token,
    body: { scheduleId: 1, seatNo: 3 },
  });
  entries.push({ t: "ack", cycle: 1, at: Date.now(), op: "hold", user, reply: hold.body });
  await s.kill();
});

afterAll(() => s?.cleanup());

const audit = async (log: LogEntry[]) => (await auditDatabase(s, log, { upSince, killedAt: Date.now() })).problems;

/**
 * Runs statements on the dead server's database behind its back: tickets.db, or its PostgreSQL
 * database as the superuser (the test cluster's `postgres`), in one transaction. On PostgreSQL
 * `users` rows change only from the ledger's trigger; `bypassTriggers` statements run with that
 * trigger disabled, so the test can do what the server never may.
 */
async function tamper(statements: { sql: string; params?: unknown[]; bypassTriggers?: boolean }[]): Promise<void> {
  if (!s.databaseUrl) {
    const db = new Database(join(s.dataDir, "tickets.db"));
    try {
      db.transaction(() => {
        for (const { sql, params = [] } of statements) db.prepare(sql).run(...params);
      })();
    } finally {
      db.close();
    }
    return;
  }
  const sql = postgres(s.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.begin(async (tx) => {
      for (const { sql: text, params = [], bypassTriggers } of statements) {
        if (bypassTriggers) await tx.unsafe("ALTER TABLE users DISABLE TRIGGER balances_follow_the_ledger");
        await tx.unsafe(numbered(text), params as postgres.ParameterOrJSON<never>[]);
        if (bypassTriggers) await tx.unsafe("ALTER TABLE users ENABLE TRIGGER balances_follow_the_ledger");
      }
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

test("the audit passes on what the server really acknowledged", async () => {
  expect(await audit(entries)).toEqual([]);
});

test("the audit flags an acknowledged charge that is missing and a hold whose expiresAt moved", async () => {
  const lost: LogEntry = { ...entries[1]!, key: "never-stored" };
  const hold = entries[2]!;
  const moved: LogEntry = {
    ...hold,
    reply: { ...hold.reply, expiresAt: new Date(Date.parse(hold.reply.expiresAt) + 1000).toISOString() },
  };
  const problems = await audit([...entries, lost, moved]);
  expect(problems.some((p) => p.includes("never-stored"))).toBe(true);
  expect(problems.some((p) => p.includes(`hold ${hold.reply.reservationId}`))).toBe(true);
});

test("the audit flags a half-applied charge, a balance off its ledger and a seat taken twice", async () => {
  await tamper([
    // A ledger row whose balance move was undone by hand: the balance is off its ledger.
    { sql: "INSERT INTO ledger (user_id, amount, kind, created_at) VALUES (?, 70, 'charge', 0)", params: [user] },
    { sql: "UPDATE users SET balance = balance - 70 WHERE id = ?", params: [user], bypassTriggers: true },
    { sql: "DROP INDEX reservations_one_live_per_seat" },
    // PostgreSQL's reservations.id has no default (the server numbers them): the next id by hand.
    {
      sql: "INSERT INTO reservations (id, user_id, schedule_id, seat_no, price, status, expires_at, created_at) SELECT COALESCE(MAX(id), 0) + 1, 'x', 1, 3, 1000, 'paid', 0, 0 FROM reservations",
    },
  ]);
  const problems = await audit(entries);
  expect(problems.some((p) => p.includes("half-applied charge"))).toBe(true);
  expect(problems.some((p) => p.includes("ledger sums to"))).toBe(true);
  expect(problems.some((p) => p.includes("seat 1/3 is taken 2 times"))).toBe(true);
});
