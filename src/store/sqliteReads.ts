// The reads of the SQLite store, on the main thread's connection: synchronous underneath, they
// answer the asynchronous StoreReads at once.
import type { Db } from "./db.js";
import {
  type BalanceOffLedger,
  drawEntriesOf,
  type IdempotencyRow,
  type MaxIds,
  type OnSaleRow,
  type QueueTokenRow,
  type ReservationFilter,
  type ReservationRow,
  type StartupState,
  Store,
  type StoreReads,
} from "./store.js";
import { WriteStatements } from "./writeStatements.js";

const RESERVATION_COLUMNS = `id, user_id AS userId, schedule_id AS scheduleId, seat_no AS seatNo, price,
  status, expires_at AS expiresAt, created_at AS createdAt, payment_id AS paymentId`;

/** The Store of a SQLite connection: its reads here, its start-up writes applied on the same connection. */
export function sqliteStore(db: Db): Store {
  let writes: WriteStatements | undefined;
  return new Store(new SqliteReads(db), async (units) => {
    writes ??= new WriteStatements(db);
    return writes.apply(units);
  });
}

export class SqliteReads implements StoreReads {
  private readonly statements;

  constructor(db: Db) {
    const prepare = (sql: string) => db.prepare(sql);
    this.statements = {
      allConcerts: prepare("SELECT id, title, time_zone AS timeZone FROM concerts ORDER BY id"),
      concertCount: prepare("SELECT COUNT(*) AS n FROM concerts"),
      allSchedules: prepare(
        `SELECT id, concert_id AS concertId, starts_at AS startsAt, seat_count AS seatCount, price, venue,
          time_zone AS timeZone FROM schedules ORDER BY id`,
      ),
      allVenues: prepare("SELECT etag, layout FROM venues"),
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

  async startupState(): Promise<StartupState> {
    const s = this.statements;
    return {
      concerts: s.allConcerts.all() as StartupState["concerts"],
      schedules: s.allSchedules.all() as StartupState["schedules"],
      venues: s.allVenues.all() as StartupState["venues"],
      liveReservations: s.liveReservations.all() as ReservationRow[],
      balances: s.allBalances.all() as StartupState["balances"],
      queueTokens: s.allQueueTokens.all() as QueueTokenRow[],
      onSales: (s.allOnSales.all() as (Omit<OnSaleRow, "paused"> & { paused: number })[]).map((row) => ({
        ...row,
        paused: row.paused === 1,
      })),
      maxIds: s.maxIds.get() as MaxIds,
    };
  }

  async concertCount(): Promise<number> {
    return (this.statements.concertCount.get() as { n: number }).n;
  }

  async maxIds(): Promise<MaxIds> {
    return this.statements.maxIds.get() as MaxIds;
  }

  async reservationById(id: number): Promise<ReservationRow | undefined> {
    return this.statements.reservationById.get(id) as ReservationRow | undefined;
  }

  async reservationsOf(
    userId: string,
    filter: ReservationFilter,
    now: number,
    limit: number,
  ): Promise<ReservationRow[]> {
    const { reservationsOf } = this.statements;
    const rows =
      filter === "held" ? reservationsOf.held.all(userId, now, limit) : reservationsOf[filter].all(userId, limit);
    return rows as ReservationRow[];
  }

  async idempotencyRecord(userId: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.statements.idempotencyRecord.get(userId, key) as IdempotencyRow | undefined;
  }

  async idempotencyLiveCount(userId: string, since: number): Promise<{ live: number; oldest: number } | undefined> {
    const row = this.statements.idempotencyLiveCount.get(userId, since) as { live: number; oldest: number | null };
    return row.oldest === null ? undefined : { live: row.live, oldest: row.oldest };
  }

  async drawEntries(concertId: number): Promise<string[] | undefined> {
    const row = this.statements.drawEntries.get(concertId) as { entries: string | Buffer } | undefined;
    return row === undefined ? undefined : drawEntriesOf(row.entries);
  }

  async balancesOffLedger(): Promise<BalanceOffLedger[]> {
    return (this.statements.balancesOffLedger.all() as (BalanceOffLedger & { hasRow: number })[]).map(
      ({ userId, hasRow, balance, ledger }) => ({ userId, balance: hasRow ? balance : null, ledger }),
    );
  }
}
