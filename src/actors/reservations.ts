// Reservations: live holds (virtual seat actors judged by the seat machine, their expiries on one
// timer heap), their end by release, expiry or sale, and lookups of any reservation ever made.
import { ApiError } from "../errors.js";
import { type Commits, ignoreFailedCommit, noWrite, type Write } from "../store/commitQueue.js";
import type { ReservationFilter, ReservationRow, ReservationStatus, Store } from "../store/store.js";
import type { Catalog } from "./catalog.js";
import { ExpiryHeap } from "./expiries.js";
import { type Hold, seatRules } from "./holds.js";
import type { IdSource } from "./ids.js";
import type { ScheduleActor } from "./schedule.js";

export interface ReservationView {
  reservationId: number;
  scheduleId: number;
  seatNo: number;
  price: number;
  status: ReservationStatus;
  expiresAt: string;
}

/** reservations.list answers at most this many, newest first. */
export const RESERVATIONS_LISTED = 200;

export class Reservations {
  private readonly live = new Map<number, Hold>();
  private readonly liveByUser = new Map<string, Set<number>>();
  /** Holds that ended in memory whose change is not committed yet: lookups must not read stale rows. */
  private readonly settling = new Map<number, { hold: Hold; status: ReservationStatus }>();
  private readonly expiries = new ExpiryHeap<Hold>((hold, now) => this.expire(hold, now));
  /**
   * Holds locked for a payment decided elsewhere (a cluster node's coordinator and PostgreSQL),
   * until when: no release, no expiry and no other payment meanwhile (lockForPayment).
   */
  private readonly locked = new Map<number, { until: number; lockedAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly catalog: Catalog,
    private readonly ids: IdSource,
    private readonly commits: Commits,
    private readonly maxHoldsPerUser: number,
    /**
     * The user's live holds that other actors keep (a cluster node owns one room; the other rooms'
     * holds are on other nodes): they count toward MAX_HOLDS_PER_USER too. None on one server.
     */
    private readonly holdsElsewhere?: (userId: string, now: number) => Promise<number>,
  ) {}

  /** Stops the expiry timer (shutdown). */
  stop(): void {
    this.expiries.stop();
  }

  get liveCount(): number {
    return this.live.size;
  }

  holdsOf(userId: string): number {
    return this.liveByUser.get(userId)?.size ?? 0;
  }

  /** Holds a seat for `userId` until now + ttl; resolves once the hold is durable. */
  async hold(userId: string, scheduleId: number, seatNo: number, ttlMs: number, now: number): Promise<ReservationView> {
    const schedule = this.catalog.schedule(scheduleId);
    if (!schedule.hasSeat(seatNo))
      throw new ApiError("NOT_FOUND", `seat ${seatNo} not found in schedule ${scheduleId}`);
    // Read before this turn's decision; what follows decides with no await.
    const elsewhere = this.holdsElsewhere === undefined ? 0 : await this.holdsElsewhere(userId, now);
    this.assertAllowance(userId, 1, elsewhere, now);
    if (!schedule.isAvailable(seatNo)) throw new ApiError("SEAT_UNAVAILABLE", `seat ${seatNo} is held or sold`);
    const [hold] = this.holdSeats(userId, schedule, [seatNo], ttlMs, now);
    await this.commits.commit(() => this.store.insertHold(hold!));
    return view(hold!, "held");
  }

  /**
   * Holds the best block of `count` adjacent seats of one row for `userId` (src/venues/
   * bestAvailable.ts), all or none, decided in one turn like a single hold: two callers never get
   * overlapping blocks. Resolves once every hold of the block is durable, in one commit.
   */
  async holdBest(
    userId: string,
    scheduleId: number,
    block: { count: number; category?: string; accessible?: boolean },
    ttlMs: number,
    now: number,
  ): Promise<(ReservationView & { status: "held"; section: string; label: string })[]> {
    const schedule = this.catalog.schedule(scheduleId);
    const { count } = block;
    if (count > this.maxHoldsPerUser) {
      throw new ApiError("INVALID_ARGUMENT", `count: must be at most ${this.maxHoldsPerUser} (MAX_HOLDS_PER_USER)`);
    }
    const category = block.category === undefined ? undefined : schedule.categoryIndex(block.category);
    if (block.category !== undefined && category === undefined) {
      const { categories } = schedule.layout;
      // A venue may have 255 categories: the message names the first few.
      const names = categories.slice(0, 10).map((c) => JSON.stringify(c.name));
      const more = categories.length > 10 ? ` and ${categories.length - 10} more` : "";
      throw new ApiError(
        "INVALID_ARGUMENT",
        `category: schedule ${scheduleId} has ${names.join(", ")}${more}, not ${JSON.stringify(block.category)}`,
      );
    }
    const elsewhere = this.holdsElsewhere === undefined ? 0 : await this.holdsElsewhere(userId, now);
    this.assertAllowance(userId, count, elsewhere, now);
    const seatNos = schedule.bestBlock(count, {
      ...(category !== undefined ? { category } : {}),
      ...(block.accessible === true ? { accessible: true } : {}),
    });
    if (seatNos === undefined) {
      throw new ApiError("SEAT_UNAVAILABLE", `no ${count} adjacent seats of one row are available as asked`);
    }
    const holds = this.holdSeats(userId, schedule, seatNos, ttlMs, now);
    await this.commits.commit(() => {
      for (const hold of holds) this.store.insertHold(hold);
    });
    return holds.map((hold) => {
      const place = schedule.placeOf(hold.seatNo);
      return {
        ...view(hold, "held"),
        status: "held" as const,
        section: place?.section ?? "",
        label: place?.label ?? String(hold.seatNo),
      };
    });
  }

  /**
   * 409 HOLD_LIMIT unless `userId` may hold `more` seats besides those held here and `elsewhere`.
   * A hold past its expiresAt is expired now, whether or not its timer has run yet: it does not count.
   */
  private assertAllowance(userId: string, more: number, elsewhere: number, now: number): void {
    for (const id of [...(this.liveByUser.get(userId) ?? [])]) {
      const mine = this.live.get(id);
      if (mine !== undefined && mine.expiresAt <= now) this.expire(mine, now);
    }
    const held = this.holdsOf(userId) + elsewhere;
    if (held + more > this.maxHoldsPerUser) {
      throw new ApiError(
        "HOLD_LIMIT",
        more === 1
          ? `you already hold ${this.maxHoldsPerUser} seats`
          : `you hold ${held} seats; ${more} more would pass the limit of ${this.maxHoldsPerUser}`,
      );
    }
  }

  /** available -> held for each of `seatNos` (checked available in this turn), tracked until their expiry. */
  private holdSeats(userId: string, schedule: ScheduleActor, seatNos: number[], ttlMs: number, now: number): Hold[] {
    return seatNos.map((seatNo) => {
      const hold: Hold = {
        reservationId: this.ids.next(),
        userId,
        scheduleId: schedule.id,
        seatNo,
        price: schedule.priceOf(seatNo),
        expiresAt: now + ttlMs,
        createdAt: now,
      };
      schedule.hold(seatNo);
      this.track(hold);
      return hold;
    });
  }

  /** Puts back a held reservation read from disk (start-up). */
  restore(row: ReservationRow): void {
    const hold: Hold = {
      reservationId: row.id,
      userId: row.userId,
      scheduleId: row.scheduleId,
      seatNo: row.seatNo,
      price: row.price,
      expiresAt: row.expiresAt,
      createdAt: row.createdAt,
    };
    this.track(hold);
  }

  /** Any reservation, live or not, as its owner sees it; checks ownership. */
  async get(userId: string, reservationId: number, now: number): Promise<ReservationView> {
    const live = this.live.get(reservationId);
    if (live) {
      assertOwner(live, userId);
      return view(live, live.expiresAt <= now ? "expired" : "held");
    }
    const settling = this.settling.get(reservationId);
    if (settling) {
      assertOwner(settling.hold, userId);
      return view(settling.hold, settling.status);
    }
    const row = await this.store.reads.reservationById(reservationId);
    if (!row) throw new ApiError("NOT_FOUND", `reservation ${reservationId} not found`);
    assertOwner(row, userId);
    return view({ ...row, reservationId: row.id }, this.statusNow(row, now));
  }

  /**
   * The user's reservations, newest first (at most RESERVATIONS_LISTED), as `get` would show
   * each: a hold that ended in memory shows its new status before its row is written.
   */
  async list(
    userId: string,
    filter: ReservationFilter,
    now: number,
  ): Promise<(ReservationView & { concertId: number })[]> {
    const listed: (ReservationView & { concertId: number })[] = [];
    for (const row of await this.store.reads.reservationsOf(userId, filter, now, RESERVATIONS_LISTED)) {
      const status = this.statusNow(row, now);
      if (filter !== "all" && status !== filter) continue;
      const { concertId } = this.catalog.schedule(row.scheduleId);
      listed.push({ ...view({ ...row, reservationId: row.id }, status), concertId });
    }
    return listed;
  }

  /** A stored reservation's status at `now`, memory first (live and settling holds). */
  private statusNow(row: ReservationRow, now: number): ReservationStatus {
    const settling = this.settling.get(row.id);
    if (settling) return settling.status;
    const live = this.live.get(row.id);
    if (live) return live.expiresAt <= now ? "expired" : "held";
    return storedStatusAt(row, now);
  }

  /**
   * The live hold `reservationId` of `userId`, for release or payment, decided in this turn:
   * 403 for another user's, 410 HOLD_EXPIRED for one past its expiresAt whose timer has not fired
   * yet (it is expired here and now), undefined when it is not live (`refuse` says why).
   */
  liveHold(userId: string, reservationId: number, now: number): Hold | undefined {
    const live = this.live.get(reservationId);
    if (live === undefined) return undefined;
    assertOwner(live, userId);
    if (live.expiresAt > now) return live;
    this.expire(live, now);
    throw new ApiError("HOLD_EXPIRED", `reservation ${reservationId} has expired`);
  }

  /** Why `reservationId` is not a live hold of `userId`: 404, 403, 409 ALREADY_PAID or 410 HOLD_EXPIRED. */
  async refuse(userId: string, reservationId: number, now: number): Promise<never> {
    const { status } = await this.get(userId, reservationId, now);
    if (status === "paid") throw new ApiError("ALREADY_PAID", `reservation ${reservationId} is already paid`);
    throw new ApiError("HOLD_EXPIRED", `reservation ${reservationId} has ${status}`);
  }

  async release(
    userId: string,
    reservationId: number,
    now: number,
  ): Promise<{ reservationId: number; status: "released" }> {
    const hold = this.liveHold(userId, reservationId, now);
    if (hold === undefined) return this.refuse(userId, reservationId, now);
    this.assertNotLocked(reservationId, now);
    if (!seatRules.release(hold, userId)) throw new Error(`seat machine refused RELEASE of ${reservationId}`);
    await this.end(hold, "released");
    return { reservationId, status: "released" };
  }

  /** A hold found due at `now` (>= its expiresAt) by the timer heap or a request: the seat machine ends it. */
  private expire(hold: Hold, now: number): void {
    if (this.live.get(hold.reservationId) !== hold) return;
    const lock = this.locked.get(hold.reservationId);
    if (lock !== undefined) {
      // Its payment is being decided: it expires after that, if it was not sold (settlePayment).
      this.expiries.add(Math.max(lock.until, now + 1), hold);
      return;
    }
    if (!seatRules.expire(hold, now)) throw new Error(`seat machine refused EXPIRE of ${hold.reservationId}`);
    this.end(hold, "expired").catch(ignoreFailedCommit);
  }

  /** Sells live holds (already checked in this turn); returns the write that records the sale. */
  sell(holds: Hold[], paymentId: number, now: number): Write {
    for (const hold of holds) {
      if (!seatRules.pay(hold, hold.userId, now)) throw new Error(`seat machine refused PAY of ${hold.reservationId}`);
    }
    for (const hold of holds) {
      this.catalog.schedule(hold.scheduleId).sell(hold.seatNo);
      this.untrack(hold, "paid").catch(ignoreFailedCommit);
    }
    return () => {
      for (const hold of holds) this.store.payReservation(hold.reservationId, paymentId);
    };
  }

  /**
   * Locks the live holds `reservationIds` of `userId` for a payment that another node decides
   * (src/cluster/payments.ts), for `lockMs`: checked in this turn as a payment here would be (404,
   * 403, 409, 410), and one already locked is 503 (another payment of it is in flight; retry).
   * Answers what the payment transaction checks again: each hold's price, and when they were found
   * live. The outcome comes with settlePayment; without it the lock lapses (settleLapsed).
   */
  async lockForPayment(
    userId: string,
    reservationIds: readonly number[],
    now: number,
    lockMs: number,
  ): Promise<{ holds: { reservationId: number; price: number }[]; heldAt: number }> {
    const holds: Hold[] = [];
    for (const id of reservationIds) {
      const hold = this.liveHold(userId, id, now);
      if (hold === undefined) return this.refuse(userId, id, now);
      this.assertNotLocked(id, now);
      if (!seatRules.pay(hold, userId, now)) throw new ApiError("HOLD_EXPIRED", `reservation ${id} has expired`);
      holds.push(hold);
    }
    for (const hold of holds) this.locked.set(hold.reservationId, { until: now + lockMs, lockedAt: now });
    return { holds: holds.map(({ reservationId, price }) => ({ reservationId, price })), heldAt: now };
  }

  /**
   * The outcome of a locked payment: paid (PostgreSQL already recorded the sale, so only memory
   * changes: the seats are sold and their diffs published) or not (the holds are live again and
   * expire at their own time, at once if that passed). Returns the concerts of the seats sold.
   */
  settlePayment(reservationIds: readonly number[], paid: boolean, now: number): Set<number> {
    const concerts = new Set<number>();
    for (const id of reservationIds) {
      if (!this.locked.delete(id)) continue;
      const hold = this.live.get(id);
      if (hold === undefined) continue;
      if (!paid) {
        if (hold.expiresAt <= now) this.expire(hold, now);
        continue;
      }
      this.catalog.schedule(hold.scheduleId).sell(hold.seatNo);
      concerts.add(this.catalog.schedule(hold.scheduleId).concertId);
      this.untrack(hold, "paid").catch(ignoreFailedCommit);
    }
    return concerts;
  }

  /** When the earliest of these holds' payment locks was taken (undefined when none is locked). */
  lockedAt(reservationIds: readonly number[]): number | undefined {
    const times = reservationIds.flatMap((id) => this.locked.get(id)?.lockedAt ?? []);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /**
   * Locks past their time whose outcome never came: PostgreSQL says whether each hold was paid.
   * Returns, per payer, the concerts of the seats found sold and when the lock was taken (their
   * booking windows end: the tokens taken before the payment).
   */
  async settleLapsed(now: number): Promise<Map<string, { concerts: Set<number>; lockedAt: number }>> {
    const sold = new Map<string, { concerts: Set<number>; lockedAt: number }>();
    const lapsed = [...this.locked].filter(([, lock]) => lock.until <= now).map(([id]) => id);
    for (const id of lapsed) {
      const row = await this.store.reads.reservationById(id);
      const hold = this.live.get(id);
      const lock = this.locked.get(id);
      if (lock === undefined || hold === undefined) continue;
      const concerts = this.settlePayment([id], row?.status === "paid", Date.now());
      if (concerts.size === 0) continue;
      const mine = sold.get(hold.userId) ?? { concerts: new Set<number>(), lockedAt: lock.lockedAt };
      for (const concertId of concerts) mine.concerts.add(concertId);
      mine.lockedAt = Math.min(mine.lockedAt, lock.lockedAt);
      sold.set(hold.userId, mine);
    }
    return sold;
  }

  private assertNotLocked(reservationId: number, now: number): void {
    const until = this.locked.get(reservationId)?.until;
    if (until !== undefined) {
      throw new ApiError(
        "UNAVAILABLE",
        `reservation ${reservationId} is being paid; retry`,
        Math.max(1, Math.ceil((until - now) / 1000)),
      );
    }
  }

  /**
   * The database declined the payment that sold `holds`: each is held again by its holder until
   * its own expiresAt (one already past it expires at once).
   */
  unsell(holds: Hold[]): void {
    for (const hold of holds) {
      this.catalog.schedule(hold.scheduleId).unsell(hold.seatNo);
      this.settling.delete(hold.reservationId);
      this.track(hold);
    }
  }

  private end(hold: Hold, status: "released" | "expired"): Promise<void> {
    this.catalog.schedule(hold.scheduleId).free(hold.seatNo);
    return this.untrack(hold, status, () => this.store.endHold(hold.reservationId, status));
  }

  private track(hold: Hold): void {
    this.live.set(hold.reservationId, hold);
    this.expiries.add(hold.expiresAt, hold);
    let mine = this.liveByUser.get(hold.userId);
    if (!mine) this.liveByUser.set(hold.userId, (mine = new Set()));
    mine.add(hold.reservationId);
  }

  private untrack(hold: Hold, status: ReservationStatus, write: Write = noWrite): Promise<void> {
    this.live.delete(hold.reservationId);
    this.expiries.remove(hold);
    const mine = this.liveByUser.get(hold.userId);
    mine?.delete(hold.reservationId);
    if (mine?.size === 0) this.liveByUser.delete(hold.userId);
    this.settling.set(hold.reservationId, { hold, status });
    return this.commits.commit(write).then(() => {
      this.settling.delete(hold.reservationId);
    });
  }
}

/** A stored reservation's status at `now`, from its row alone: a held one past its expiresAt is expired. */
export function storedStatusAt(row: ReservationRow, now: number): ReservationStatus {
  return row.status === "held" && row.expiresAt <= now ? "expired" : row.status;
}

/** A stored reservation as its owner sees it at `now`, from its row alone (a cluster node reads PostgreSQL). */
export function storedView(row: ReservationRow, now: number): ReservationView {
  return view({ ...row, reservationId: row.id }, storedStatusAt(row, now));
}

/** Throws 403 unless `userId` made the reservation. */
export function assertOwner(reservation: { userId: string }, userId: string): void {
  if (reservation.userId !== userId) throw new ApiError("FORBIDDEN", "this reservation belongs to another user");
}

function view(hold: Omit<Hold, "userId" | "createdAt">, status: ReservationStatus): ReservationView {
  return {
    reservationId: hold.reservationId,
    scheduleId: hold.scheduleId,
    seatNo: hold.seatNo,
    price: hold.price,
    status,
    expiresAt: new Date(hold.expiresAt).toISOString(),
  };
}
