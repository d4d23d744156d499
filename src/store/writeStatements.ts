// Every write of the server as data: a statement name and its parameters, and the prepared
// statements that apply a batch of them in one transaction. The main thread records them
// (Store's write methods); a Writer (writer.ts) applies each group-commit batch, in place
// (inlineWriter.ts) or on the writer thread (threadWriter.ts, writerWorker.ts).
import type { Statement } from "better-sqlite3";
import type { Db } from "./db.js";

const WRITE_SQL = {
  insertConcert: "INSERT INTO concerts (id, title, time_zone, created_at) VALUES (?, ?, ?, ?)",
  insertSchedule: "INSERT INTO schedules (id, concert_id, starts_at, seat_count, price) VALUES (?, ?, ?, ?, ?)",
  insertReservation: `INSERT INTO reservations (id, user_id, schedule_id, seat_no, price, status, expires_at, created_at)
    VALUES (?, ?, ?, ?, ?, 'held', ?, ?)`,
  endHold: "UPDATE reservations SET status = ? WHERE id = ? AND status = 'held'",
  payReservation: "UPDATE reservations SET status = 'paid', payment_id = ? WHERE id = ? AND status = 'held'",
  setBalance: "INSERT INTO users (id, balance) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET balance = excluded.balance",
  insertLedger: "INSERT INTO ledger (user_id, amount, kind, payment_id, created_at) VALUES (?, ?, ?, ?, ?)",
  insertPayment: "INSERT INTO payments (id, user_id, amount, created_at) VALUES (?, ?, ?, ?)",
  // A key is free again 24 h after its first use, though its row may wait for the hourly prune:
  // the new record then replaces the lapsed one (a live one is always found before any work).
  insertIdempotency: `INSERT INTO idempotency (user_id, key, fingerprint, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
      response = excluded.response, created_at = excluded.created_at`,
  deleteIdempotencyBefore: "DELETE FROM idempotency WHERE created_at < ?",
  insertQueueToken: `INSERT INTO queue_tokens (token, room, user_id, seq, status, draw_key, joined_at, last_seen_at,
    activated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  seeQueueToken: "UPDATE queue_tokens SET last_seen_at = ? WHERE token = ?",
  insertOnSale:
    "INSERT INTO onsales (concert_id, opens_at, active_max, paused, seed, commitment) VALUES (?, ?, ?, ?, ?, ?)",
  updateOnSale: "UPDATE onsales SET opens_at = ?, active_max = ?, paused = ? WHERE concert_id = ?",
  insertDraw: "INSERT INTO draws (concert_id, entries) VALUES (?, ?)",
  markDrawn: "UPDATE onsales SET drawn_at = ? WHERE concert_id = ?",
  activateQueueToken: "UPDATE queue_tokens SET status = 'active', activated_at = ?, expires_at = ? WHERE token = ?",
  deleteQueueToken: "DELETE FROM queue_tokens WHERE token = ?",
  setMeta: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
} as const;

export type WriteName = keyof typeof WRITE_SQL;
/** Bytes are a BLOB (a draw's order: its entry ids as 32 raw bytes each). */
type Param = string | number | null | Uint8Array;
/** One statement run: its name, then its parameters in the order of the SQL. Plain data, so it crosses threads cheaply. */
export type WriteOp = [WriteName, ...Param[]];

/** Writes that must change exactly one row: anything else means memory and disk disagree. */
const MUST_CHANGE_ONE: ReadonlySet<WriteName> = new Set(["payReservation"]);

/** The write statements of one connection, prepared once. */
export class WriteStatements {
  private readonly statements: Record<WriteName, Statement<Param[]>>;
  private readonly applyAll: (ops: WriteOp[]) => void;

  constructor(db: Db) {
    this.statements = Object.fromEntries(
      Object.entries(WRITE_SQL).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as Record<WriteName, Statement<Param[]>>;
    this.applyAll = db.transaction((ops: WriteOp[]) => {
      for (const op of ops) this.run(op);
    });
  }

  /** Runs `ops` in order in one transaction; throws (and rolls back all of them) if one fails. */
  apply(ops: WriteOp[]): void {
    this.applyAll(ops);
  }

  private run(op: WriteOp): void {
    const [name, ...params] = op;
    const result = this.statements[name].run(...params);
    if (MUST_CHANGE_ONE.has(name) && result.changes !== 1) {
      throw new Error(`${name}(${params.join(", ")}) changed ${result.changes} rows, not 1`);
    }
  }
}
