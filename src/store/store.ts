// Every SQL statement of the server, prepared once, behind named functions.
import type { Db } from "./db.js";

export type ReservationStatus = "held" | "paid" | "expired" | "released";

export interface ConcertRow {
  id: number;
  title: string;
}

export interface ScheduleRow {
  id: number;
  concertId: number;
  startsAt: string;
  seatCount: number;
  price: number;
}

export interface ReservationRow {
  id: number;
  userId: string;
  scheduleId: number;
  seatNo: number;
  price: number;
  status: ReservationStatus;
  expiresAt: number;
  createdAt: number;
  paymentId: number | null;
}

export interface IdempotencyRow {
  userId: string;
  key: string;
  fingerprint: string;
  status: number;
  response: string;
  createdAt: number;
}

export interface QueueTokenRow {
  token: string;
  userId: string;
  seq: number;
  status: "waiting" | "active";
  joinedAt: number;
  activatedAt: number | null;
  expiresAt: number | null;
}

const RESERVATION_COLUMNS = `id, user_id AS userId, schedule_id AS scheduleId, seat_no AS seatNo, price,
  status, expires_at AS expiresAt, created_at AS createdAt, payment_id AS paymentId`;

export class Store {
  private readonly statements;

  constructor(readonly db: Db) {
    const prepare = (sql: string) => db.prepare(sql);
    this.statements = {
      allConcerts: prepare("SELECT id, title FROM concerts ORDER BY id"),
      allSchedules: prepare(
        "SELECT id, concert_id AS concertId, starts_at AS startsAt, seat_count AS seatCount, price FROM schedules ORDER BY id",
      ),
      insertConcert: prepare("INSERT INTO concerts (id, title, created_at) VALUES (?, ?, ?)"),
      insertSchedule: prepare(
        "INSERT INTO schedules (id, concert_id, starts_at, seat_count, price) VALUES (?, ?, ?, ?, ?)",
      ),
      // The unique partial index holds exactly the live rows: scan it, not the whole history.
      liveReservations: prepare(
        `SELECT ${RESERVATION_COLUMNS} FROM reservations INDEXED BY reservations_one_live_per_seat
         WHERE status IN ('held', 'paid')`,
      ),
      reservationById: prepare(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = ?`),
      insertReservation: prepare(
        `INSERT INTO reservations (id, user_id, schedule_id, seat_no, price, status, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, 'held', ?, ?)`,
      ),
      endHold: prepare("UPDATE reservations SET status = ? WHERE id = ? AND status = 'held'"),
      payReservation: prepare(
        "UPDATE reservations SET status = 'paid', payment_id = ? WHERE id = ? AND status = 'held'",
      ),
      allBalances: prepare("SELECT id, balance FROM users"),
      setBalance: prepare(
        "INSERT INTO users (id, balance) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET balance = excluded.balance",
      ),
      insertLedger: prepare(
        "INSERT INTO ledger (user_id, amount, kind, payment_id, created_at) VALUES (?, ?, ?, ?, ?)",
      ),
      insertPayment: prepare("INSERT INTO payments (id, user_id, amount, created_at) VALUES (?, ?, ?, ?)"),
      idempotencySince: prepare(
        "SELECT user_id AS userId, key, fingerprint, status, response, created_at AS createdAt FROM idempotency WHERE created_at >= ?",
      ),
      insertIdempotency: prepare(
        "INSERT INTO idempotency (user_id, key, fingerprint, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      deleteIdempotencyBefore: prepare("DELETE FROM idempotency WHERE created_at < ?"),
      allQueueTokens: prepare(
        `SELECT token, user_id AS userId, seq, status, joined_at AS joinedAt, activated_at AS activatedAt,
           expires_at AS expiresAt FROM queue_tokens ORDER BY seq`,
      ),
      insertQueueToken: prepare(
        "INSERT INTO queue_tokens (token, user_id, seq, status, joined_at, activated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      activateQueueToken: prepare(
        "UPDATE queue_tokens SET status = 'active', activated_at = ?, expires_at = ? WHERE token = ?",
      ),
      deleteQueueToken: prepare("DELETE FROM queue_tokens WHERE token = ?"),
      maxIds: prepare(`SELECT
        (SELECT COALESCE(MAX(id), 0) FROM concerts) AS concert,
        (SELECT COALESCE(MAX(id), 0) FROM schedules) AS schedule,
        (SELECT COALESCE(MAX(id), 0) FROM reservations) AS reservation,
        (SELECT COALESCE(MAX(id), 0) FROM payments) AS payment`),
    };
  }

  // ---- reads (start-up and lookups) ----

  allConcerts(): ConcertRow[] {
    return this.statements.allConcerts.all() as ConcertRow[];
  }

  allSchedules(): ScheduleRow[] {
    return this.statements.allSchedules.all() as ScheduleRow[];
  }

  liveReservations(): ReservationRow[] {
    return this.statements.liveReservations.all() as ReservationRow[];
  }

  reservationById(id: number): ReservationRow | undefined {
    return this.statements.reservationById.get(id) as ReservationRow | undefined;
  }

  allBalances(): { id: string; balance: number }[] {
    return this.statements.allBalances.all() as { id: string; balance: number }[];
  }

  idempotencySince(since: number): IdempotencyRow[] {
    return this.statements.idempotencySince.all(since) as IdempotencyRow[];
  }

  allQueueTokens(): QueueTokenRow[] {
    return this.statements.allQueueTokens.all() as QueueTokenRow[];
  }

  maxIds(): { concert: number; schedule: number; reservation: number; payment: number } {
    return this.statements.maxIds.get() as { concert: number; schedule: number; reservation: number; payment: number };
  }

  // ---- writes (called inside a group-commit transaction) ----

  insertConcert(concert: ConcertRow, now: number): void {
    this.statements.insertConcert.run(concert.id, concert.title, now);
  }

  insertSchedule(schedule: ScheduleRow): void {
    const s = schedule;
    this.statements.insertSchedule.run(s.id, s.concertId, s.startsAt, s.seatCount, s.price);
  }

  insertHold(r: ReservationRow): void {
    this.statements.insertReservation.run(r.id, r.userId, r.scheduleId, r.seatNo, r.price, r.expiresAt, r.createdAt);
  }

  /** held -> expired | released. */
  endHold(reservationId: number, status: "expired" | "released"): void {
    this.statements.endHold.run(status, reservationId);
  }

  payReservation(reservationId: number, paymentId: number): void {
    const result = this.statements.payReservation.run(paymentId, reservationId);
    if (result.changes !== 1) throw new Error(`reservation ${reservationId} was not held on disk`);
  }

  setBalance(userId: string, balance: number): void {
    this.statements.setBalance.run(userId, balance);
  }

  appendLedger(
    userId: string,
    amount: number,
    kind: "charge" | "payment",
    paymentId: number | null,
    now: number,
  ): void {
    this.statements.insertLedger.run(userId, amount, kind, paymentId, now);
  }

  insertPayment(id: number, userId: string, amount: number, now: number): void {
    this.statements.insertPayment.run(id, userId, amount, now);
  }

  insertIdempotency(row: IdempotencyRow): void {
    this.statements.insertIdempotency.run(
      row.userId,
      row.key,
      row.fingerprint,
      row.status,
      row.response,
      row.createdAt,
    );
  }

  deleteIdempotencyBefore(cutoff: number): void {
    this.statements.deleteIdempotencyBefore.run(cutoff);
  }

  insertQueueToken(row: QueueTokenRow): void {
    this.statements.insertQueueToken.run(
      row.token,
      row.userId,
      row.seq,
      row.status,
      row.joinedAt,
      row.activatedAt,
      row.expiresAt,
    );
  }

  activateQueueToken(token: string, activatedAt: number, expiresAt: number): void {
    this.statements.activateQueueToken.run(activatedAt, expiresAt, token);
  }

  deleteQueueToken(token: string): void {
    this.statements.deleteQueueToken.run(token);
  }
}
