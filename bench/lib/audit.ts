// The audit after each scenario: read back from the database and the server that no seat was
// sold twice, every acknowledged payment is there, and every balance equals its ledger. The
// database is tickets.db in the server's data dir, or PostgreSQL when the server ran on it.
import { join } from "node:path";
import Database from "better-sqlite3";
import postgres from "postgres";

export interface Audit {
  ok: boolean;
  problems: string[];
  /** What was looked at, by name (payments, users, live reservations, idempotency rows, ...). */
  checked: Record<string, number>;
}

/** Where the server under test kept its state: a data dir (SQLite), or its DATABASE_URL when set. */
export type AuditSource = string | { dataDir: string; databaseUrl?: string | undefined };

/** The few reads the audit needs, the same SQL on both stores (counts and sums as numbers). */
interface Reader {
  rows(sql: string): Promise<unknown[]>;
  /** The first column of every row. */
  column(sql: string): Promise<number[]>;
  /** The first column of the first row. */
  value(sql: string): Promise<number>;
  close(): Promise<void>;
}

function sqliteReader(dataDir: string): Reader {
  const db = new Database(join(dataDir, "tickets.db"), { readonly: true });
  return {
    rows: async (sql) => db.prepare(sql).all(),
    column: async (sql) => (db.prepare(sql).pluck().all() as unknown[]).map(Number),
    value: async (sql) => Number(db.prepare(sql).pluck().get()),
    close: async () => {
      db.close();
    },
  };
}

function postgresReader(url: string): Reader {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    // COUNT(*) and the sums (cast to BIGINT) as numbers: they stay far below 2^53.
    types: { bigint: { to: 20, from: [20], serialize: String, parse: Number } },
  });
  return {
    rows: (text) => sql.unsafe(text),
    column: async (text) => (await sql.unsafe(text).values()).map((row) => Number(row[0])),
    value: async (text) => Number((await sql.unsafe(text).values())[0]?.[0]),
    close: () => sql.end({ timeout: 5 }),
  };
}

export async function audit(source: AuditSource, acknowledgedPaymentIds: number[], serverUrl?: string): Promise<Audit> {
  const databaseUrl = typeof source === "string" ? undefined : source.databaseUrl;
  const db = databaseUrl
    ? postgresReader(databaseUrl)
    : sqliteReader(typeof source === "string" ? source : source.dataDir);
  const problems: string[] = [];
  try {
    // HAVING on the aggregate, not its alias: PostgreSQL does not accept an alias there.
    const doubles = await db.rows(
      `SELECT schedule_id, seat_no, COUNT(*) AS n FROM reservations
       WHERE status IN ('held', 'paid') GROUP BY schedule_id, seat_no HAVING COUNT(*) > 1`,
    );
    if (doubles.length > 0) problems.push(`${doubles.length} seats held or sold twice`);

    // Read each side once: a lookup per payment scanned the reservations every time (reservations
    // have no index on payment_id), 47 s for the 37k payments of a closed-loop run.
    const ids = async (sql: string) => new Set(await db.column(sql));
    const payments = await ids("SELECT id FROM payments");
    const paidFor = await ids("SELECT DISTINCT payment_id FROM reservations WHERE status = 'paid'");
    const missing = acknowledgedPaymentIds.filter((id) => !payments.has(id) || !paidFor.has(id));
    if (missing.length > 0)
      problems.push(`${missing.length} acknowledged payments missing (e.g. ${missing.slice(0, 5)})`);

    const unbalanced = await db.rows(
      `SELECT u.id FROM users u
       LEFT JOIN (SELECT user_id, CAST(SUM(amount) AS BIGINT) AS total FROM ledger GROUP BY user_id) l
       ON l.user_id = u.id WHERE u.balance != COALESCE(l.total, 0)`,
    );
    if (unbalanced.length > 0) problems.push(`${unbalanced.length} balances differ from their ledgers`);

    const sold = await db.value("SELECT COUNT(*) FROM reservations WHERE status = 'paid'");
    if (serverUrl) {
      const metrics = await (await fetch(`${serverUrl}/metrics`)).text();
      const reported = Number(/^ticketing_seats_sold (\d+)/m.exec(metrics)?.[1]);
      if (reported !== sold) problems.push(`server reports ${reported} seats sold, database ${sold}`);
    }
    const users = await db.value("SELECT COUNT(*) FROM users");
    const live = await db.value("SELECT COUNT(*) FROM reservations WHERE status IN ('held','paid')");
    return {
      ok: problems.length === 0,
      problems,
      checked: { payments: acknowledgedPaymentIds.length, users, liveReservations: live },
    };
  } finally {
    await db.close();
  }
}
