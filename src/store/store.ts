// The server's storage API: reads run here, on the main thread's connection; writes are
// recorded as data (writeStatements.ts) for the group commit to apply.
import type { Db } from "./db.js";
import { type WriteOp, WriteStatements } from "./writeStatements.js";

export type ReservationStatus = "held" | "paid" | "expired" | "released";

export interface ConcertRow {
  id: number;
  title: string;
  /** IANA time zone of the venue (times stay instants on the wire) */
  timeZone: string;
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

export type NewHold = Omit<ReservationRow, "id" | "status" | "paymentId"> & { reservationId: number };

/** Which of a user's reservations reservationsOf reads. */
export type ReservationFilter = "held" | "paid" | "all";

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
  /** 0: the site room; otherwise the concert whose on-sale room it is */
  room: number;
  userId: string;
  seq: number;
  status: "pre" | "waiting" | "active";
  drawKey: string | null;
  joinedAt: number;
  lastSeenAt: number | null;
  activatedAt: number | null;
  expiresAt: number | null;
}

export interface OnSaleRow {
  concertId: number;
  opensAt: number | null;
  activeMax: number | null;
  paused: boolean;
  seed: string | null;
  commitment: string | null;
  drawnAt: number | null;
}

export interface BalanceOffLedger {
  userId: string;
  /** null: ledger rows but no balance row. */
  balance: number | null;
  ledger: number;
}

const RESERVATION_COLUMNS = `id, user_id AS userId, schedule_id AS scheduleId, seat_no AS seatNo, price,
  status, expires_at AS expiresAt, created_at AS createdAt, payment_id AS paymentId`;

export class Store {
  private readonly statements;
  private recorded: WriteOp[] = [];
  private localWrites: WriteStatements | undefined;

  constructor(readonly db: Db) {
    const prepare = (sql: string) => db.prepare(sql);
    this.statements = {
      allConcerts: prepare("SELECT id, title, time_zone AS timeZone FROM concerts ORDER BY id"),
      allSchedules: prepare(
        "SELECT id, concert_id AS concertId, starts_at AS startsAt, seat_count AS seatCount, price FROM schedules ORDER BY id",
      ),
      // The unique partial index holds exactly the live rows: scan it, not the whole history.
      liveReservations: prepare(
        `SELECT ${RESERVATION_COLUMNS} FROM reservations INDEXED BY reservations_one_live_per_seat
         WHERE status IN ('held', 'paid')`,
      ),
      reservationById: prepare(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = ?`),
      // The WHERE of each filter: held means held on disk and not past its expiry.
      reservationsOf: {
        all: prepare(
          `SELECT ${RESERVATION_COLUMNS} FROM reservations INDEXED BY reservations_by_user
           WHERE user_id = ? ORDER BY id DESC LIMIT ?`,
        ),
        held: prepare(
          `SELECT ${RESERVATION_COLUMNS} FROM reservations INDEXED BY reservations_by_user
           WHERE user_id = ? AND status = 'held' AND expires_at > ? ORDER BY id DESC LIMIT ?`,
        ),
        paid: prepare(
          `SELECT ${RESERVATION_COLUMNS} FROM reservations INDEXED BY reservations_by_user
           WHERE user_id = ? AND status = 'paid' ORDER BY id DESC LIMIT ?`,
        ),
      },
      allBalances: prepare("SELECT id, balance FROM users"),
      idempotencyRecord: prepare(
        "SELECT user_id AS userId, key, fingerprint, status, response, created_at AS createdAt FROM idempotency WHERE user_id = ? AND key = ?",
      ),
      idempotencyLiveCount: prepare(
        `SELECT COUNT(*) AS live, MIN(created_at) AS oldest FROM idempotency INDEXED BY idempotency_by_user_age
         WHERE user_id = ? AND created_at >= ?`,
      ),
      allQueueTokens: prepare(
        `SELECT token, room, user_id AS userId, seq, status, draw_key AS drawKey, joined_at AS joinedAt,
           last_seen_at AS lastSeenAt, activated_at AS activatedAt, expires_at AS expiresAt
         FROM queue_tokens ORDER BY seq`,
      ),
      allOnSales: prepare(
        `SELECT concert_id AS concertId, opens_at AS opensAt, active_max AS activeMax, paused, seed, commitment,
           drawn_at AS drawnAt FROM onsales`,
      ),
      drawEntries: prepare("SELECT entries FROM draws WHERE concert_id = ?"),
      // One grouped pass over users and ledger together, so that a user with ledger rows and no
      // balance row, or a balance and no ledger rows, is compared too (a missing side counts 0).
      balancesOffLedger: prepare(
        `SELECT user_id AS userId, MAX(has_row) AS hasRow, SUM(balance) AS balance, SUM(amount) AS ledger
         FROM (SELECT id AS user_id, balance, 0 AS amount, 1 AS has_row FROM users
               UNION ALL SELECT user_id, 0, amount, 0 FROM ledger)
         GROUP BY user_id HAVING SUM(balance) != SUM(amount) ORDER BY user_id`,
      ),
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

  /** A user's reservations, newest first, at most `limit`. */
  reservationsOf(userId: string, filter: ReservationFilter, now: number, limit: number): ReservationRow[] {
    const { reservationsOf } = this.statements;
    const rows =
      filter === "held" ? reservationsOf.held.all(userId, now, limit) : reservationsOf[filter].all(userId, limit);
    return rows as ReservationRow[];
  }

  allBalances(): { id: string; balance: number }[] {
    return this.statements.allBalances.all() as { id: string; balance: number }[];
  }

  idempotencyRecord(userId: string, key: string): IdempotencyRow | undefined {
    return this.statements.idempotencyRecord.get(userId, key) as IdempotencyRow | undefined;
  }

  /** How many of the user's records were made at or after `since`, and when the first of them was (none: undefined). */
  idempotencyLiveCount(userId: string, since: number): { live: number; oldest: number } | undefined {
    const row = this.statements.idempotencyLiveCount.get(userId, since) as { live: number; oldest: number | null };
    return row.oldest === null ? undefined : { live: row.live, oldest: row.oldest };
  }

  allQueueTokens(): QueueTokenRow[] {
    return this.statements.allQueueTokens.all() as QueueTokenRow[];
  }

  allOnSales(): OnSaleRow[] {
    return (this.statements.allOnSales.all() as (Omit<OnSaleRow, "paused"> & { paused: number })[]).map((row) => ({
      ...row,
      paused: row.paused === 1,
    }));
  }

  /**
   * The entry ids of a concert's draw in drawn order (undefined before its draw): stored as 32
   * raw bytes each, end to end (a BLOB), or by servers before that as 64 hex characters each.
   */
  drawEntries(concertId: number): string[] | undefined {
    const row = this.statements.drawEntries.get(concertId) as { entries: string | Buffer } | undefined;
    if (row === undefined) return undefined;
    const entries: string[] = [];
    const { entries: stored } = row;
    if (typeof stored === "string") {
      for (let at = 0; at < stored.length; at += 64) entries.push(stored.slice(at, at + 64));
    } else {
      for (let at = 0; at < stored.length; at += 32) entries.push(stored.toString("hex", at, at + 32));
    }
    return entries;
  }

  /** Users whose balance is not the sum of their ledger rows (none in a sound database). */
  balancesOffLedger(): BalanceOffLedger[] {
    return (this.statements.balancesOffLedger.all() as (BalanceOffLedger & { hasRow: number })[]).map(
      ({ userId, hasRow, balance, ledger }) => ({ userId, balance: hasRow ? balance : null, ledger }),
    );
  }

  maxIds(): { concert: number; schedule: number; reservation: number; payment: number } {
    return this.statements.maxIds.get() as { concert: number; schedule: number; reservation: number; payment: number };
  }

  // ---- writes: recorded here, applied in one transaction by the writer thread ----
  // (see commitQueue.ts), or in place at start-up (writeNow).

  /** Hands over the writes recorded since the last call. */
  takeWrites(): WriteOp[] {
    const ops = this.recorded;
    this.recorded = [];
    return ops;
  }

  /** Runs `write` and applies what it records at once, in one transaction (start-up, before the writer runs). */
  writeNow(write: () => void): void {
    if (this.recorded.length > 0) throw new Error("writeNow inside a group commit");
    write();
    this.localWrites ??= new WriteStatements(this.db);
    this.localWrites.apply(this.takeWrites());
  }

  /** Records the time of this start in `meta`, at once: a write that fails here on a full disk, not on the first charge. */
  recordStart(now: number): void {
    this.writeNow(() => this.recorded.push(["setMeta", "last_start", new Date(now).toISOString()]));
  }

  insertConcert(concert: ConcertRow, now: number): void {
    this.recorded.push(["insertConcert", concert.id, concert.title, concert.timeZone, now]);
  }

  insertSchedule(s: ScheduleRow): void {
    this.recorded.push(["insertSchedule", s.id, s.concertId, s.startsAt, s.seatCount, s.price]);
  }

  /** A new reservation, status held. */
  insertHold(r: NewHold): void {
    this.recorded.push([
      "insertReservation",
      r.reservationId,
      r.userId,
      r.scheduleId,
      r.seatNo,
      r.price,
      r.expiresAt,
      r.createdAt,
    ]);
  }

  /** held -> expired | released. */
  endHold(reservationId: number, status: "expired" | "released"): void {
    this.recorded.push(["endHold", status, reservationId]);
  }

  /** held -> paid; the writer fails the whole batch if the row was not held on disk. */
  payReservation(reservationId: number, paymentId: number): void {
    this.recorded.push(["payReservation", paymentId, reservationId]);
  }

  setBalance(userId: string, balance: number): void {
    this.recorded.push(["setBalance", userId, balance]);
  }

  appendLedger(
    userId: string,
    amount: number,
    kind: "charge" | "payment",
    paymentId: number | null,
    now: number,
  ): void {
    this.recorded.push(["insertLedger", userId, amount, kind, paymentId, now]);
  }

  insertPayment(id: number, userId: string, amount: number, now: number): void {
    this.recorded.push(["insertPayment", id, userId, amount, now]);
  }

  insertIdempotency(row: IdempotencyRow): void {
    const r = row;
    this.recorded.push(["insertIdempotency", r.userId, r.key, r.fingerprint, r.status, r.response, r.createdAt]);
  }

  deleteIdempotencyBefore(cutoff: number): void {
    this.recorded.push(["deleteIdempotencyBefore", cutoff]);
  }

  insertQueueToken(r: QueueTokenRow): void {
    this.recorded.push([
      "insertQueueToken",
      r.token,
      r.room,
      r.userId,
      r.seq,
      r.status,
      r.drawKey,
      r.joinedAt,
      r.lastSeenAt,
      r.activatedAt,
      r.expiresAt,
    ]);
  }

  /** A pre-queue token was seen: the draw counts it if it was seen within the idle allowance of the opening. */
  seeQueueToken(token: string, lastSeenAt: number): void {
    this.recorded.push(["seeQueueToken", lastSeenAt, token]);
  }

  insertOnSale(r: OnSaleRow): void {
    this.recorded.push(["insertOnSale", r.concertId, r.opensAt, r.activeMax, r.paused ? 1 : 0, r.seed, r.commitment]);
  }

  updateOnSale(concertId: number, opensAt: number | null, activeMax: number | null, paused: boolean): void {
    this.recorded.push(["updateOnSale", opensAt, activeMax, paused ? 1 : 0, concertId]);
  }

  /**
   * The draw ran: its order and when. `entryIds` are the entry ids' 32 bytes each as latin1
   * strings (draw.ts, drawEntryOf); they are written end to end as a BLOB, half the pages of hex.
   */
  recordDraw(concertId: number, entryIds: readonly string[], drawnAt: number): void {
    const entries = Buffer.from(entryIds.join(""), "latin1");
    this.recorded.push(["insertDraw", concertId, entries]);
    this.recorded.push(["markDrawn", drawnAt, concertId]);
  }

  activateQueueToken(token: string, activatedAt: number, expiresAt: number): void {
    this.recorded.push(["activateQueueToken", activatedAt, expiresAt, token]);
  }

  deleteQueueToken(token: string): void {
    this.recorded.push(["deleteQueueToken", token]);
  }
}
