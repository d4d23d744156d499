// The audit after each scenario: read back from the database and the server that no seat was
// sold twice, every acknowledged payment is there, and every balance equals its ledger.
import { join } from "node:path";
import Database from "better-sqlite3";

export interface Audit {
  ok: boolean;
  problems: string[];
  checked: { payments: number; users: number; liveReservations: number };
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

    const paidPayment = db.prepare(
      "SELECT p.id FROM payments p JOIN reservations r ON r.payment_id = p.id AND r.status = 'paid' WHERE p.id = ?",
    );
    const missing = acknowledgedPaymentIds.filter((id) => paidPayment.get(id) === undefined);
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
