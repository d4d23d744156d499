// Audits a crashed server's database (SQLite's file or its PostgreSQL database) against what the
// chaos clients were told: every acknowledged change is there, nothing half-applied, no seat taken
// twice, money adds up.
import { readFileSync } from "node:fs";
import { type DatabaseLocation, openReader } from "../helpers/databaseReader.js";

export interface LogEntry {
  t: "sent" | "ack" | "replayOk" | "replayMismatch" | "unexpected" | "crash";
  cycle: number;
  at: number;
  op?: "charge" | "pay" | "hold" | "release";
  user?: string;
  key?: string;
  amount?: number;
  req?: any;
  status?: number;
  reply?: any;
  [more: string]: unknown;
}

export function readLog(file: string): LogEntry[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as LogEntry);
}

export interface AuditFacts {
  users: number;
  ledgerRows: number;
  payments: number;
  reservations: number;
  liveHolds: number;
  sold: number;
}

export interface AuditResult {
  problems: string[];
  facts: AuditFacts;
  heldRows: { id: number; userId: string; expiresAt: number }[];
}

/**
 * Opens the database read-only (a TestServer, or its dataDir and databaseUrl) and returns the list
 * of violations (empty when all is well).
 */
export async function auditDatabase(
  database: DatabaseLocation,
  entries: LogEntry[],
  window: { upSince: number; killedAt: number },
): Promise<AuditResult> {
  const db = openReader(database);
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
  };
  try {
    const { all } = db;

    // Money: balance = Σ ledger for every user, never negative.
    const users = await all<{ id: string; balance: number; sum: number | null }>(
      "SELECT u.id, u.balance, (SELECT CAST(SUM(amount) AS BIGINT) FROM ledger l WHERE l.user_id = u.id) AS sum FROM users u",
    );
    for (const u of users) {
      if (u.balance !== (u.sum ?? 0)) problem(`user ${u.id}: balance ${u.balance} but ledger sums to ${u.sum}`);
      if (u.balance < 0) problem(`user ${u.id}: negative balance ${u.balance}`);
    }
    const ledgerOrphans = await all<{ user_id: string }>(
      "SELECT DISTINCT user_id FROM ledger WHERE user_id NOT IN (SELECT id FROM users)",
    );
    for (const o of ledgerOrphans) problem(`ledger rows for ${o.user_id} who has no balance row`);

    // Idempotency records: the chaos clients send every charge and payment with a key.
    const records = new Map<string, { status: number; response: any }>();
    for (const row of await all<{ user_id: string; key: string; status: number; response: string }>(
      "SELECT user_id, key, status, response FROM idempotency",
    )) {
      records.set(`${row.user_id}\0${row.key}`, { status: row.status, response: JSON.parse(row.response) });
    }

    // Charges: Σ charge ledger = Σ amounts of the attempts that left a record, per user; as many rows as records.
    const sentAmount = new Map<string, number>();
    for (const e of entries) if (e.t === "sent" && e.op === "charge") sentAmount.set(`${e.user}\0${e.key}`, e.amount!);
    const chargeByUser = new Map<string, { rows: number; sum: number }>();
    for (const row of await all<{ user_id: string; rows: number; sum: number }>(
      "SELECT user_id, COUNT(*) AS rows, CAST(SUM(amount) AS BIGINT) AS sum FROM ledger WHERE kind = 'charge' GROUP BY user_id",
    )) {
      chargeByUser.set(row.user_id, { rows: row.rows, sum: row.sum });
    }
    const recordedCharges = new Map<string, { rows: number; sum: number }>();
    for (const [id, record] of records) {
      if (typeof record.response?.paymentId === "number") continue;
      const [user] = id.split("\0");
      const amount = sentAmount.get(id);
      if (amount === undefined) {
        problem(`charge record ${id.replace("\0", " ")} that no client sent`);
        continue;
      }
      const sum = recordedCharges.get(user!) ?? { rows: 0, sum: 0 };
      sum.rows++;
      sum.sum += amount;
      recordedCharges.set(user!, sum);
    }
    for (const user of new Set([...chargeByUser.keys(), ...recordedCharges.keys()])) {
      const ledger = chargeByUser.get(user) ?? { rows: 0, sum: 0 };
      const recorded = recordedCharges.get(user) ?? { rows: 0, sum: 0 };
      if (ledger.rows !== recorded.rows || ledger.sum !== recorded.sum) {
        problem(
          `user ${user}: ${ledger.rows} charge rows summing ${ledger.sum}, but ${recorded.rows} charge records summing ${recorded.sum} (half-applied charge)`,
        );
      }
    }

    // Payments: each is whole: one ledger debit, its reservations paid, their prices summing to it, a record.
    const payments = await all<{ id: number; user_id: string; amount: number }>(
      "SELECT id, user_id, amount FROM payments",
    );
    const paymentRecords = new Set<number>();
    for (const record of records.values()) {
      if (typeof record.response?.paymentId === "number") paymentRecords.add(record.response.paymentId);
    }
    for (const p of payments) {
      const debits = await all<{ amount: number; user_id: string }>(
        "SELECT amount, user_id FROM ledger WHERE kind = 'payment' AND payment_id = ?",
        p.id,
      );
      if (debits.length !== 1 || debits[0]!.amount !== -p.amount || debits[0]!.user_id !== p.user_id) {
        problem(`payment ${p.id}: ledger debits ${JSON.stringify(debits)} for amount ${p.amount}`);
      }
      const seats = await all<{ status: string; price: number; user_id: string }>(
        "SELECT status, price, user_id FROM reservations WHERE payment_id = ?",
        p.id,
      );
      const total = seats.reduce((sum, x) => sum + x.price, 0);
      if (
        seats.length === 0 ||
        total !== p.amount ||
        seats.some((x) => x.status !== "paid" || x.user_id !== p.user_id)
      ) {
        problem(`payment ${p.id}: reservations ${JSON.stringify(seats)} do not make amount ${p.amount}`);
      }
      if (!paymentRecords.has(p.id)) problem(`payment ${p.id} has no idempotency record (half-applied)`);
    }
    const strayDebits = await all<{ id: number }>(
      "SELECT id FROM ledger WHERE kind = 'payment' AND (payment_id IS NULL OR payment_id NOT IN (SELECT id FROM payments))",
    );
    for (const row of strayDebits) problem(`ledger debit ${row.id} without a payment`);
    const strayPaid = await all<{ id: number }>(
      "SELECT id FROM reservations WHERE status = 'paid' AND (payment_id IS NULL OR payment_id NOT IN (SELECT id FROM payments))",
    );
    for (const row of strayPaid) problem(`reservation ${row.id} is paid without a payment`);

    // Seats: at most one live (held or paid) reservation per seat.
    for (const row of await all<{ schedule_id: number; seat_no: number; n: number }>(
      "SELECT schedule_id, seat_no, COUNT(*) AS n FROM reservations WHERE status IN ('held','paid') GROUP BY schedule_id, seat_no HAVING COUNT(*) > 1",
    )) {
      problem(`seat ${row.schedule_id}/${row.seat_no} is taken ${row.n} times`);
    }

    // Every acknowledged change is there.
    const reservation = (id: number) =>
      db.get<any>(
        'SELECT user_id AS "userId", schedule_id AS "scheduleId", seat_no AS "seatNo", price, status, expires_at AS "expiresAt", payment_id AS "paymentId" FROM reservations WHERE id = ?',
        id,
      );
    const releasedIds = new Set<number>();
    const paidIds = new Set<number>();
    for (const e of entries) {
      if (e.t !== "ack") continue;
      if (e.op === "release") releasedIds.add(e.reply.reservationId);
      if (e.op === "pay") for (const id of e.reply.reservationIds) paidIds.add(id);
    }
    for (const e of entries) {
      if (e.t !== "ack") continue;
      if (e.op === "charge" || e.op === "pay") {
        const record = records.get(`${e.user}\0${e.key}`);
        if (!record) problem(`acknowledged ${e.op} ${e.key} has no idempotency record`);
        else if (record.status !== e.status || JSON.stringify(record.response) !== JSON.stringify(e.reply)) {
          problem(
            `acknowledged ${e.op} ${e.key}: stored ${JSON.stringify(record)} differs from ${JSON.stringify(e.reply)}`,
          );
        }
      }
      if (e.op === "pay") {
        const p = payments.find((x) => x.id === e.reply.paymentId);
        if (!p || p.amount !== e.reply.amount || p.user_id !== e.user) {
          problem(`acknowledged payment ${e.reply.paymentId} missing or different`);
        }
        for (const id of e.reply.reservationIds) {
          const row = await reservation(id);
          if (row?.status !== "paid" || row.paymentId !== e.reply.paymentId) {
            problem(`reservation ${id} of acknowledged payment ${e.reply.paymentId} is ${JSON.stringify(row)}`);
          }
        }
      }
      if (e.op === "hold") {
        const r = e.reply;
        const row = await reservation(r.reservationId);
        if (
          !row ||
          row.userId !== e.user ||
          row.scheduleId !== r.scheduleId ||
          row.seatNo !== r.seatNo ||
          row.price !== r.price ||
          row.expiresAt !== Date.parse(r.expiresAt)
        ) {
          problem(
            `acknowledged hold ${r.reservationId} is ${JSON.stringify(row)} in the database, told ${JSON.stringify(r)}`,
          );
          continue;
        }
        const expected = paidIds.has(r.reservationId)
          ? ["paid"]
          : releasedIds.has(r.reservationId)
            ? ["released"]
            : ["held", "expired", "released", "paid"];
        if (!expected.includes(row.status))
          problem(`reservation ${r.reservationId} is ${row.status}, expected ${expected}`);
      }
    }

    // Holds expire by themselves at their expiresAt: a hold still 'held' well after its end, while the server ran, is a bug.
    const SLACK_MS = 1500;
    const heldRows = await all<{ id: number; userId: string; expiresAt: number }>(
      `SELECT id, user_id AS "userId", expires_at AS "expiresAt" FROM reservations WHERE status = 'held'`,
    );
    for (const row of heldRows) {
      if (row.expiresAt - SLACK_MS > window.upSince && row.expiresAt + SLACK_MS < window.killedAt) {
        problem(`hold ${row.id} expired at ${row.expiresAt} but was still held at the crash (${window.killedAt})`);
      }
    }

    const count = async (sql: string) => (await db.get<{ n: number }>(sql))!.n;
    return {
      problems,
      heldRows,
      facts: {
        users: users.length,
        ledgerRows: await count("SELECT COUNT(*) AS n FROM ledger"),
        payments: payments.length,
        reservations: await count("SELECT COUNT(*) AS n FROM reservations"),
        liveHolds: heldRows.length,
        sold: await count("SELECT COUNT(*) AS n FROM reservations WHERE status = 'paid'"),
      },
    };
  } finally {
    await db.close();
  }
}
