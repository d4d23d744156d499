// The audit after each scenario: read back from the database and the server that no seat was
// sold twice, every acknowledged payment is there, and every balance equals its ledger.
import { join } from "node:path";
import Database from "better-sqlite3";

export interface Audit {
  ok: boolean;
  problems: string[];
  /** What was looked at, by name (payments, users, live reservations, idempotency rows, ...). */
  checked: Record<string, number>;
}

export async function audit(dataDir: string, acknowledgedPaymentIds: number[], serverUrl?: string): Promise<Audit> {
  const db = new Database(join(dataDir, "tickets.db"), { readonly: true });
  const problems: string[] = [];
  try {
    const doubles = db
      .prepare(
        `SELECT schedule_id, seat_no, COUNT(*) AS n FROM reservations
         WHERE status IN ('held', 'paid') GROUP BY schedule_id, seat_no HAVING n > 1`,
      )
      .all();
    if (doubles.length > 0) problems.push(`${doubles.length} seats held or sold twice`);

    // Read each side once: a lookup per payment scanned the reservations every time (reservations
    // have no index on payment_id), 47 s for the 37k payments of a closed-loop run.
    const ids = (sql: string) => new Set((db.prepare(sql).pluck().all() as number[]).map(Number));
    const payments = ids("SELECT id FROM payments");
    const paidFor = ids("SELECT DISTINCT payment_id FROM reservations WHERE status = 'paid'");
    const missing = acknowledgedPaymentIds.filter((id) => !payments.has(id) || !paidFor.has(id));
    if (missing.length > 0)
      problems.push(`${missing.length} acknowledged payments missing (e.g. ${missing.slice(0, 5)})`);

    const unbalanced = db
      .prepare(
        `SELECT u.id FROM users u LEFT JOIN (SELECT user_id, SUM(amount) AS total FROM ledger GROUP BY user_id) l
         ON l.user_id = u.id WHERE u.balance != COALESCE(l.total, 0)`,
      )
      .all();
    if (unbalanced.length > 0) problems.push(`${unbalanced.length} balances differ from their ledgers`);

    const sold = (db.prepare("SELECT COUNT(*) AS n FROM reservations WHERE status = 'paid'").get() as { n: number }).n;
    if (serverUrl) {
      const metrics = await (await fetch(`${serverUrl}/metrics`)).text();
      const reported = Number(/^ticketing_seats_sold (\d+)/m.exec(metrics)?.[1]);
      if (reported !== sold) problems.push(`server reports ${reported} seats sold, database ${sold}`);
    }
    const users = (db.prepare("SELECT COUNT(*) AS n FROM users").get() as { n: number }).n;
    const live = (
      db.prepare("SELECT COUNT(*) AS n FROM reservations WHERE status IN ('held','paid')").get() as { n: number }
    ).n;
    return {
      ok: problems.length === 0,
      problems,
      checked: { payments: acknowledgedPaymentIds.length, users, liveReservations: live },
    };
  } finally {
    db.close();
  }
}
