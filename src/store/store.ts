// The server's storage API, the same over SQLite and PostgreSQL: reads are asynchronous (a
// StoreReads of either database answers them), writes are recorded as data
// (writeStatements.ts) for the group commit to apply in one transaction per event-loop turn.
import type { Declined, WriteOp, WriteUnit } from "./writeStatements.js";

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
  /** Without a venue, every seat's price; with one, its lowest category's. */
  price: number;
  /** The ETag of the schedule's venue layout (a row of `venues`), or null: one row of seatCount seats. */
  venue: string | null;
  /** The schedule's own IANA time zone, or null: its concert's. */
  timeZone: string | null;
}

/** A venue layout as stored: its layout document's JSON, under that document's ETag (src/venues/snapshot.ts). */
export interface VenueRow {
  etag: string;
  layout: string;
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

export interface MaxIds {
  concert: number;
  schedule: number;
  reservation: number;
  payment: number;
}

/** Everything the actors are rebuilt from at start-up. */
export interface StartupState {
  concerts: ConcertRow[];
  schedules: ScheduleRow[];
  /** The venue layouts those schedules refer to. */
  venues: VenueRow[];
  /** Held and paid reservations (held ones with their absolute expiresAt). */
  liveReservations: ReservationRow[];
  balances: { id: string; balance: number }[];
  queueTokens: QueueTokenRow[];
  onSales: OnSaleRow[];
  maxIds: MaxIds;
}

/** The reads of one database (sqliteReads.ts, postgres/reads.ts). */
export interface StoreReads {
  startupState(): Promise<StartupState>;
  concertCount(): Promise<number>;
  maxIds(): Promise<MaxIds>;
  reservationById(id: number): Promise<ReservationRow | undefined>;
  /** A user's reservations, newest first, at most `limit`; held means held on disk and not past its expiry. */
  reservationsOf(userId: string, filter: ReservationFilter, now: number, limit: number): Promise<ReservationRow[]>;
  idempotencyRecord(userId: string, key: string): Promise<IdempotencyRow | undefined>;
  /** How many of the user's records were made at or after `since`, and when the first of them was (none: undefined). */
  idempotencyLiveCount(userId: string, since: number): Promise<{ live: number; oldest: number } | undefined>;
  /** The entry ids of a concert's draw in drawn order, as hex (undefined before its draw). */
  drawEntries(concertId: number): Promise<string[] | undefined>;
  /** Users whose balance is not the sum of their ledger rows (none in a sound database). */
  balancesOffLedger(): Promise<BalanceOffLedger[]>;
}

/** Applies units at once in one transaction (start-up writes, before the group commit runs). */
export type ApplyNow = (units: WriteUnit[]) => Promise<Declined[]>;

/** A draw's order as stored: 32 raw bytes per entry id, end to end (or, by servers before that, 64 hex characters each). */
export function drawEntriesOf(stored: string | Uint8Array): string[] {
  const entries: string[] = [];
  if (typeof stored === "string") {
    for (let at = 0; at < stored.length; at += 64) entries.push(stored.slice(at, at + 64));
  } else {
    const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    for (let at = 0; at < bytes.length; at += 32) entries.push(bytes.toString("hex", at, at + 32));
  }
  return entries;
}

export class Store {
  private recorded: WriteOp[] = [];

  constructor(
    readonly reads: StoreReads,
    private readonly applyNow: ApplyNow,
  ) {}

  // ---- writes: recorded here, applied in one transaction by the writer thread ----
  // (see commitQueue.ts), or in place at start-up (writeNow).

  /** Hands over the writes recorded since the last call. */
  takeWrites(): WriteOp[] {
    const ops = this.recorded;
    this.recorded = [];
    return ops;
  }

  /** Runs `write` and applies what it records at once, in one transaction (start-up, before the writer runs). */
  async writeNow(write: () => void): Promise<void> {
    if (this.recorded.length > 0) throw new Error("writeNow inside a group commit");
    write();
    const declined = await this.applyNow([this.takeWrites()]);
    if (declined.length > 0) throw new Error(declined[0]!.message);
  }

  /** Records the time of this start in `meta`, at once: a write that fails here on a full disk, not on the first charge. */
  recordStart(now: number): Promise<void> {
    return this.writeNow(() => this.setMeta("last_start", new Date(now).toISOString()));
  }

  /** A fact about the database itself (meta). */
  setMeta(key: string, value: string): void {
    this.recorded.push(["setMeta", key, value]);
  }

  insertConcert(concert: ConcertRow, now: number): void {
    this.recorded.push(["insertConcert", concert.id, concert.title, concert.timeZone, now]);
  }

  insertSchedule(s: ScheduleRow): void {
    this.recorded.push(["insertSchedule", s.id, s.concertId, s.startsAt, s.seatCount, s.price, s.venue, s.timeZone]);
  }

  /** A venue layout, unless one with its ETag (so the same content) is stored already. */
  insertVenue(v: VenueRow): void {
    this.recorded.push(["insertVenue", v.etag, v.layout]);
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

  /** A charge: a ledger row of +amount, unless the balance would pass `balanceMax` (the database declines it). */
  credit(userId: string, amount: number, balanceMax: number, now: number): void {
    this.recorded.push(["credit", userId, amount, now, userId, amount, balanceMax]);
  }

  /** A payment's debit: a ledger row of -amount, unless the balance is below it (the database declines it). */
  debit(userId: string, amount: number, paymentId: number, now: number): void {
    this.recorded.push(["debit", userId, amount, paymentId, now, userId, amount]);
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
