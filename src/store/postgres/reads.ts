// The reads of the PostgreSQL store, on their own small pool (the writer's connection is busy
// with transactions). Aliases are quoted: PostgreSQL folds unquoted names to lower case.

import { ApiError } from "../../errors.js";
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
  type StoreReads,
} from "../store.js";
import type { Sql } from "./connect.js";

const RESERVATION_COLUMNS = `id, user_id AS "userId", schedule_id AS "scheduleId", seat_no AS "seatNo", price,
  status, expires_at AS "expiresAt", created_at AS "createdAt", payment_id AS "paymentId"`;

const CONCERT_COLUMNS = `id, title, time_zone AS "timeZone"`;
const SCHEDULE_COLUMNS = `id, concert_id AS "concertId", starts_at AS "startsAt", seat_count AS "seatCount", price, venue,
  time_zone AS "timeZone"`;
/** The layouts of the schedules a WHERE over `schedules` selects. */
const venuesOf = (schedulesWhere: string) =>
  `SELECT etag, layout FROM venues WHERE etag IN (SELECT venue FROM schedules WHERE ${schedulesWhere})`;
const ONSALE_COLUMNS = `concert_id AS "concertId", opens_at AS "opensAt", active_max AS "activeMax", paused, seed,
  commitment, drawn_at AS "drawnAt"`;

const FILTERS: Record<ReservationFilter, string> = {
  all: "",
  // Held means held on disk and not past its expiry.
  held: "AND status = 'held' AND expires_at > $2",
  paid: "AND status = 'paid'",
};

export class PostgresReads implements StoreReads {
  constructor(private readonly sql: Sql) {}

  private async rows<T>(query: string, params: (string | number)[] = []): Promise<T[]> {
    try {
      return (await this.sql.unsafe(query, params, { prepare: true })) as unknown as T[];
    } catch (error) {
      throw unavailableIfDisconnected(error);
    }
  }

  /**
   * Everything the actors are rebuilt from, in one snapshot (a repeatable-read, read-only
   * transaction). With `room` (cluster mode), only that placement's part: the site room (0) with
   * every concert that has no on-sale, or on-sale concert `room` with its room; no balances and no
   * max ids (money is decided in PostgreSQL and ids come from its sequences).
   */
  async startupState(room?: number): Promise<StartupState> {
    if (room !== undefined && !(Number.isSafeInteger(room) && room >= 0)) throw new RangeError(`bad room ${room}`);
    const scoped = room !== undefined;
    const concertsIn =
      room === undefined ? "TRUE" : room === 0 ? "id NOT IN (SELECT concert_id FROM onsales)" : `id = ${room}`;
    const schedulesIn = `concert_id IN (SELECT id FROM concerts WHERE ${concertsIn})`;
    return this.sql.begin("isolation level repeatable read read only", async (tx) => {
      const rows = <T>(query: string) => tx.unsafe(query) as unknown as Promise<T[]>;
      const [concerts, schedules, venues, liveReservations, balances, queueTokens, onSales, [maxIds]] =
        await Promise.all([
          rows<StartupState["concerts"][number]>(
            `SELECT ${CONCERT_COLUMNS} FROM concerts WHERE ${concertsIn} ORDER BY id`,
          ),
          rows<StartupState["schedules"][number]>(
            `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE ${schedulesIn} ORDER BY id`,
          ),
          rows<StartupState["venues"][number]>(venuesOf(schedulesIn)),
          rows<ReservationRow>(
            `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE status IN ('held', 'paid')
           ${scoped ? `AND schedule_id IN (SELECT id FROM schedules WHERE ${schedulesIn})` : ""}`,
          ),
          scoped ? Promise.resolve([]) : rows<StartupState["balances"][number]>("SELECT id, balance FROM users"),
          rows<QueueTokenRow>(
            `SELECT token, room, user_id AS "userId", seq, status, draw_key AS "drawKey", joined_at AS "joinedAt",
             last_seen_at AS "lastSeenAt", activated_at AS "activatedAt", expires_at AS "expiresAt"
           FROM queue_tokens ${scoped ? `WHERE room = ${room}` : ""} ORDER BY seq`,
          ),
          rows<Omit<OnSaleRow, "paused"> & { paused: number }>(
            `SELECT ${ONSALE_COLUMNS} FROM onsales ${scoped ? `WHERE concert_id = ${room}` : ""}`,
          ),
          scoped ? Promise.resolve([{ concert: 0, schedule: 0, reservation: 0, payment: 0 }]) : rows<MaxIds>(MAX_IDS),
        ]);
      return {
        concerts: [...concerts],
        schedules: [...schedules],
        venues: [...venues],
        liveReservations: [...liveReservations],
        balances: [...balances],
        queueTokens: [...queueTokens],
        onSales: onSales.map((row) => ({ ...row, paused: row.paused === 1 })),
        maxIds: { ...maxIds! },
      };
    });
  }

  /** Every concert, schedule and on-sale (a cluster node's directory of where things are). */
  async catalog(): Promise<Pick<StartupState, "concerts" | "schedules" | "onSales">> {
    const [concerts, schedules, onSales] = await Promise.all([
      this.rows<StartupState["concerts"][number]>(`SELECT ${CONCERT_COLUMNS} FROM concerts ORDER BY id`),
      this.rows<StartupState["schedules"][number]>(`SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY id`),
      this.rows<Omit<OnSaleRow, "paused"> & { paused: number }>(`SELECT ${ONSALE_COLUMNS} FROM onsales`),
    ]);
    return {
      concerts: [...concerts],
      schedules: [...schedules],
      onSales: onSales.map((row) => ({ ...row, paused: row.paused === 1 })),
    };
  }

  /** One concert with its schedules and on-sale, and the held and paid reservations of its schedules (undefined if it does not exist). */
  async concertState(
    concertId: number,
  ): Promise<Pick<StartupState, "concerts" | "schedules" | "venues" | "onSales" | "liveReservations"> | undefined> {
    const [concerts, schedules, venues, onSales, liveReservations] = await Promise.all([
      this.rows<StartupState["concerts"][number]>(`SELECT ${CONCERT_COLUMNS} FROM concerts WHERE id = $1`, [concertId]),
      this.rows<StartupState["schedules"][number]>(
        `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE concert_id = $1 ORDER BY id`,
        [concertId],
      ),
      this.rows<StartupState["venues"][number]>(venuesOf("concert_id = $1"), [concertId]),
      this.rows<Omit<OnSaleRow, "paused"> & { paused: number }>(
        `SELECT ${ONSALE_COLUMNS} FROM onsales WHERE concert_id = $1`,
        [concertId],
      ),
      this.rows<ReservationRow>(
        `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE status IN ('held', 'paid')
         AND schedule_id IN (SELECT id FROM schedules WHERE concert_id = $1)`,
        [concertId],
      ),
    ]);
    if (concerts.length === 0) return undefined;
    return {
      concerts: [...concerts],
      schedules: [...schedules],
      venues: [...venues],
      onSales: onSales.map((row) => ({ ...row, paused: row.paused === 1 })),
      liveReservations: [...liveReservations],
    };
  }

  /**
   * The user's live holds (held, not past their expiry) in rooms other than `room` (cluster mode:
   * on-sale concert c is room c, every other concert room 0).
   */
  async liveHoldsOutside(userId: string, room: number, now: number): Promise<number> {
    const [row] = await this.rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM reservations r JOIN schedules s ON s.id = r.schedule_id
       WHERE r.user_id = $1 AND r.status = 'held' AND r.expires_at > $2
         AND (CASE WHEN EXISTS (SELECT 1 FROM onsales o WHERE o.concert_id = s.concert_id) THEN s.concert_id ELSE 0 END) <> $3`,
      [userId, now, room],
    );
    return row?.n ?? 0;
  }

  /** The concert of a schedule, if the schedule exists. */
  async concertOfSchedule(scheduleId: number): Promise<number | undefined> {
    const [row] = await this.rows<{ concertId: number }>(
      `SELECT concert_id AS "concertId" FROM schedules WHERE id = $1`,
      [scheduleId],
    );
    return row?.concertId;
  }

  /** The waiting room a queue token belongs to (0: the site room), if the token exists. */
  async roomOfToken(token: string): Promise<number | undefined> {
    const [row] = await this.rows<{ room: number }>("SELECT room FROM queue_tokens WHERE token = $1", [token]);
    return row?.room;
  }

  async concertCount(): Promise<number> {
    const [row] = await this.rows<{ n: number }>("SELECT COUNT(*) AS n FROM concerts");
    return row!.n;
  }

  async maxIds(): Promise<MaxIds> {
    const [row] = await this.rows<MaxIds>(MAX_IDS);
    return { ...row! };
  }

  async reservationById(id: number): Promise<ReservationRow | undefined> {
    const [row] = await this.rows<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = $1`, [
      id,
    ]);
    return row === undefined ? undefined : { ...row };
  }

  async reservationsOf(
    userId: string,
    filter: ReservationFilter,
    now: number,
    limit: number,
  ): Promise<ReservationRow[]> {
    const params = filter === "held" ? [userId, now, limit] : [userId, limit];
    const rows = await this.rows<ReservationRow>(
      `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE user_id = $1 ${FILTERS[filter]}
       ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return [...rows];
  }

  async idempotencyRecord(userId: string, key: string): Promise<IdempotencyRow | undefined> {
    const [row] = await this.rows<IdempotencyRow>(
      `SELECT user_id AS "userId", key, fingerprint, status, response, created_at AS "createdAt"
       FROM idempotency WHERE user_id = $1 AND key = $2`,
      [userId, key],
    );
    return row === undefined ? undefined : { ...row };
  }

  async idempotencyLiveCount(userId: string, since: number): Promise<{ live: number; oldest: number } | undefined> {
    const [row] = await this.rows<{ live: number; oldest: number | null }>(
      `SELECT COUNT(*) AS live, MIN(created_at) AS oldest FROM idempotency WHERE user_id = $1 AND created_at >= $2`,
      [userId, since],
    );
    return row === undefined || row.oldest === null ? undefined : { live: row.live, oldest: row.oldest };
  }

  async drawEntries(concertId: number): Promise<string[] | undefined> {
    const [row] = await this.rows<{ entries: Uint8Array }>("SELECT entries FROM draws WHERE concert_id = $1", [
      concertId,
    ]);
    return row === undefined ? undefined : drawEntriesOf(row.entries);
  }

  async balancesOffLedger(): Promise<BalanceOffLedger[]> {
    const rows = await this.rows<BalanceOffLedger & { hasRow: number }>(
      `SELECT user_id AS "userId", MAX(has_row) AS "hasRow", SUM(balance)::bigint AS balance, SUM(amount)::bigint AS ledger
       FROM (SELECT id AS user_id, balance, 0::bigint AS amount, 1 AS has_row FROM users
             UNION ALL SELECT user_id, 0, amount, 0 FROM ledger) AS money
       GROUP BY user_id HAVING SUM(balance) <> SUM(amount) ORDER BY user_id`,
    );
    return rows.map(({ userId, hasRow, balance, ledger }) => ({ userId, balance: hasRow ? balance : null, ledger }));
  }
}

/** Codes of a PostgreSQL that cannot be reached (the client's, the system's, SQLSTATE classes 08 and 57P). */
const DISCONNECTED = /^(CONNECTION_|CONNECT_TIMEOUT|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|08|57P0)/;

/** A read that failed because PostgreSQL is gone is 503 UNAVAILABLE, as a failed commit is; anything else stays itself. */
function unavailableIfDisconnected(error: unknown): unknown {
  const code = String((error as { code?: unknown }).code ?? "");
  return DISCONNECTED.test(code)
    ? new ApiError("UNAVAILABLE", "storage is unavailable; the server is restarting")
    : error;
}

const MAX_IDS = `SELECT
  (SELECT COALESCE(MAX(id), 0) FROM concerts) AS concert,
  (SELECT COALESCE(MAX(id), 0) FROM schedules) AS schedule,
  (SELECT COALESCE(MAX(id), 0) FROM reservations) AS reservation,
  (SELECT COALESCE(MAX(id), 0) FROM payments) AS payment`;
