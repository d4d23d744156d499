// Every write of the server as data: a statement name and its parameters. The main thread
// records them (Store's write methods) in units, one per commit() call; a Writer (writer.ts)
// applies each group-commit batch of units in one transaction: SQLite's in place
// (inlineWriter.ts) or on its thread (threadWriter.ts), PostgreSQL's over its connection
// (postgres/writer.ts). One list of statements for both: `?` placeholders, which the
// PostgreSQL writer numbers, and casts where PostgreSQL cannot infer a parameter's type.
import type { Statement } from "better-sqlite3";
import type { ErrorCode } from "../errors.js";
import type { Db } from "./db.js";

/** The ledger's columns; a balance moves only with a ledger row (the trigger of migration 8). */
const LEDGER_INSERT = "INSERT INTO ledger (user_id, amount, kind, payment_id, created_at)";

export const WRITE_SQL = {
  insertConcert: "INSERT INTO concerts (id, title, time_zone, created_at) VALUES (?, ?, ?, ?)",
  insertSchedule:
    "INSERT INTO schedules (id, concert_id, starts_at, seat_count, price, venue, time_zone) VALUES (?, ?, ?, ?, ?, ?, ?)",
  // Content-addressed: a layout already stored under this ETag is the same layout.
  insertVenue: "INSERT INTO venues (etag, layout) VALUES (?, ?) ON CONFLICT (etag) DO NOTHING",
  insertReservation: `INSERT INTO reservations (id, user_id, schedule_id, seat_no, price, status, expires_at, created_at)
    VALUES (?, ?, ?, ?, ?, 'held', ?, ?)`,
  endHold: "UPDATE reservations SET status = ? WHERE id = ? AND status = 'held'",
  payReservation: "UPDATE reservations SET status = 'paid', payment_id = ? WHERE id = ? AND status = 'held'",
  // Money is decided here, in SQL: a charge adds a ledger row only while the balance stays within
  // its maximum, a payment only while the balance covers it (user, amount, then the check's
  // parameters). The ledger's trigger moves the balance; its CHECK (balance >= 0) is the last word.
  credit: `${LEDGER_INSERT}
    SELECT CAST(? AS TEXT), CAST(? AS BIGINT), 'charge', NULL, CAST(? AS BIGINT)
    WHERE COALESCE((SELECT balance FROM users WHERE id = ?), 0) + ? <= ?`,
  debit: `${LEDGER_INSERT}
    SELECT CAST(? AS TEXT), -CAST(? AS BIGINT), 'payment', CAST(? AS BIGINT), CAST(? AS BIGINT)
    FROM users WHERE id = ? AND balance >= ?`,
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
  setMeta: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
} as const;

export type WriteName = keyof typeof WRITE_SQL;
/** Bytes are a BLOB (a draw's order: its entry ids as 32 raw bytes each). */
export type Param = string | number | null | Uint8Array;
/** One statement run: its name, then its parameters in the order of the SQL. Plain data, so it crosses threads cheaply. */
export type WriteOp = [WriteName, ...Param[]];
/** The writes of one commit() call: all of them commit, or (declined by a guard) none. */
export type WriteUnit = WriteOp[];

/**
 * Guards: statements that must change exactly one row, and the error their unit is answered
 * with when they do not. A unit holding one runs in its own savepoint, so the database's "no"
 * undoes that unit alone and the rest of the batch commits.
 */
export const GUARDS: Partial<Record<WriteName, ErrorCode>> = {
  credit: "BALANCE_LIMIT",
  debit: "INSUFFICIENT_BALANCE",
  payReservation: "HOLD_EXPIRED",
};

/** A unit the database refused: its index in the batch and why. */
export interface Declined {
  unit: number;
  code: ErrorCode;
  message: string;
}

/** What a batch's commit reports: how long it took and the units its guards declined (usually none). */
export interface Committed {
  seconds: number;
  declined: Declined[];
}

export const isGuarded = (unit: WriteUnit): boolean => unit.some(([name]) => GUARDS[name] !== undefined);

/** The refusal of a guard that changed `changes` rows, in words. */
export function declinedBy(unit: number, op: WriteOp, changes: number): Declined {
  const [name, ...params] = op;
  return {
    unit,
    code: GUARDS[name]!,
    message: `the database refused ${name}(${params.map((p) => JSON.stringify(p)).join(", ")}): ${changes} rows changed`,
  };
}

/**
 * Batches that shared one transaction, answered each for its own units: `declined` (numbered
 * over all their units, in order) split per batch and numbered within it.
 */
export function declinedPerBatch(batchSizes: readonly number[], declined: readonly Declined[]): Declined[][] {
  let first = 0;
  return batchSizes.map((size) => {
    const end = first + size;
    const own = declined.filter((d) => d.unit >= first && d.unit < end).map((d) => ({ ...d, unit: d.unit - first }));
    first = end;
    return own;
  });
}

/** Thrown inside a unit's savepoint (or a pipelined batch) to undo it. */
export class DeclinedUnit extends Error {
  constructor(readonly declined: Declined) {
    super(declined.message);
  }
}

/** The write statements of one SQLite connection, prepared once. */
export class WriteStatements {
  private readonly statements: Record<WriteName, Statement<Param[]>>;
  private readonly applyAll: (units: WriteUnit[]) => Declined[];
  private readonly applyGuarded: (unit: WriteUnit, index: number) => void;

  constructor(db: Db) {
    this.statements = Object.fromEntries(
      Object.entries(WRITE_SQL).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as Record<WriteName, Statement<Param[]>>;
    // A transaction function called inside another one runs in a savepoint: a throw undoes it alone.
    this.applyGuarded = db.transaction((unit: WriteUnit, index: number) => {
      for (const op of unit) {
        const changes = this.run(op);
        if (GUARDS[op[0]] !== undefined && changes !== 1) throw new DeclinedUnit(declinedBy(index, op, changes));
      }
    });
    this.applyAll = db.transaction((units: WriteUnit[]) => {
      const declined: Declined[] = [];
      units.forEach((unit, index) => {
        if (!isGuarded(unit)) {
          for (const op of unit) this.run(op);
          return;
        }
        try {
          this.applyGuarded(unit, index);
        } catch (error) {
          if (!(error instanceof DeclinedUnit)) throw error;
          declined.push(error.declined);
        }
      });
      return declined;
    });
  }

  /** Runs `units` in order in one transaction; a declined unit is undone alone, any other failure undoes all. */
  apply(units: WriteUnit[]): Declined[] {
    return this.applyAll(units);
  }

  private run(op: WriteOp): number {
    const [name, ...params] = op;
    return this.statements[name].run(...params).changes;
  }
}
