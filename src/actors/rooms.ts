// The waiting rooms: the site room, and one room per on-sale, made the first time it is needed
// (virtual actors: an on-sale nobody visits costs nothing). Which room gates which concert, one
// tick for all of them, the on-sale status and its draw.
import type { AddressLimiter } from "../api/rateLimit.js";
import { ApiError } from "../errors.js";
import type { Logger } from "../log.js";
import type { OnSaleRow, QueueTokenRow, Store } from "../store/store.js";
import type { Catalog } from "./catalog.js";
import { QueueActor, type QueueHooks, type QueueListener, type QueueSettings } from "./queue.js";

export interface RoomsDeps {
  settings: QueueSettings;
  store: Store;
  commits: ConstructorParameters<typeof QueueActor>[2];
  joinsPerAddress: AddressLimiter;
  hooks?: QueueHooks | undefined;
  catalog: Catalog;
  /** Where each opening's timing is logged (`draw committed`). */
  log?: Logger | undefined;
}

export interface OnSaleStatus {
  concertId: number;
  title: string;
  timeZone: string;
  state: "scheduled" | "open" | "paused" | "soldout";
  opensAt: string | null;
  activeMax: number;
  waiting: number;
  active: number;
  availableSeats: number;
  heldSeats: number;
  commitment: string | null;
  seed: string | null;
}

export interface OnSaleChange {
  opensAt?: number | null;
  activeMax?: number;
  paused?: boolean;
}

export class WaitingRooms {
  readonly site: QueueActor;
  private readonly onSaleRooms = new Map<number, QueueActor>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: RoomsDeps) {
    this.site = this.make(null);
  }

  /** Every room made so far: the site room first. */
  all(): QueueActor[] {
    return [this.site, ...this.onSaleRooms.values()];
  }

  /** The room that gates `concertId`: its on-sale's, or the site room. An unknown concert is 404. */
  gateOf(concertId: number): QueueActor {
    const onSale = this.deps.catalog.onSaleOf(concertId);
    if (onSale === undefined) return this.site;
    const made = this.onSaleRooms.has(concertId);
    const room = this.roomOf(onSale);
    // A room first visited after its opening, which nobody waited for: its (empty) draw runs
    // now, so that this visitor joins the line rather than a pre-queue that already closed.
    const now = Date.now();
    if (!made && onSale.drawnAt === null && onSale.opensAt !== null && now >= onSale.opensAt) room.tick(now);
    return room;
  }

  /** The room a check-in goes to: the gate of `concertId`, or the site room without one. */
  checkInRoom(concertId: number | undefined): QueueActor {
    return concertId === undefined ? this.site : this.gateOf(concertId);
  }

  /**
   * The gate of [active] ops about a concert: the token must be an active one of the room that
   * gates it (a token of another room is FORBIDDEN).
   */
  assertActive(userId: string, token: string | undefined, concertId: number, now: number): void {
    if (!token) throw new ApiError("TOKEN_INVALID", "a Queue-Token header is required");
    const gate = this.gateOf(concertId);
    if (!gate.has(token) && this.all().some((room) => room !== gate && room.has(token))) {
      throw new ApiError("FORBIDDEN", "this queue token is for another waiting room");
    }
    gate.assertActive(userId, token, now);
  }

  /**
   * The gate of [active] ops about no concert (the concert list): an active token of any room.
   * Passes when one of `tokens` is; otherwise the first one's refusal is the answer.
   */
  assertActiveInAnyRoom(userId: string, tokens: string[], now: number): void {
    if (tokens.length === 0) throw new ApiError("TOKEN_INVALID", "a Queue-Token header is required");
    let refusal: unknown;
    for (const token of tokens) {
      const room = this.all().find((any) => any.has(token));
      try {
        if (room === undefined) throw new ApiError("TOKEN_INVALID", "unknown or expired queue token");
        room.assertActive(userId, token, now);
        return;
      } catch (error) {
        refusal ??= error;
      }
    }
    throw refusal;
  }

  /** Ends the user's token in the rooms that gate `concertIds` (a payment); `joinedBefore`: see QueueActor.endFor. */
  endFor(userId: string, concertIds: Iterable<number>, now: number, joinedBefore?: number): void {
    const rooms = new Set<QueueActor>();
    for (const concertId of concertIds) rooms.add(this.gateOf(concertId));
    for (const room of rooms) room.endFor(userId, now, joinedBefore);
  }

  /** A connection left: every room it followed a token of is told. */
  unfollow(listener: QueueListener, now: number): void {
    for (const room of this.all()) room.unfollow(listener, now);
  }

  /** The on-sale's status; 404 for a concert without one. */
  status(concertId: number, now: number): OnSaleStatus {
    const onSale = this.onSaleOf(concertId);
    const room = this.onSaleRooms.get(concertId);
    const { available, held } = this.deps.catalog.inventory(concertId);
    const scheduled = isScheduled(onSale, now);
    const state =
      available === 0 && held === 0 ? "soldout" : onSale.paused ? "paused" : scheduled ? "scheduled" : "open";
    const { title, timeZone } = this.deps.catalog.concert(concertId);
    return {
      concertId,
      title,
      timeZone,
      state,
      opensAt: onSale.opensAt === null ? null : new Date(onSale.opensAt).toISOString(),
      activeMax: onSale.activeMax ?? this.deps.settings.activeMax,
      waiting: room?.waiting ?? 0,
      active: room?.active ?? 0,
      availableSeats: available,
      heldSeats: held,
      commitment: onSale.commitment,
      seed: scheduled ? null : onSale.seed,
    };
  }

  /** Every on-sale's status, by concert id (the doors a fan can line up at before any token). */
  statuses(now: number): OnSaleStatus[] {
    return this.deps.catalog.onSaleConcertIds().map((concertId) => this.status(concertId, now));
  }

  /** The draw as published: the seed from the opening, and the entry ids in drawn order once it ran. */
  async draw(
    concertId: number,
    now: number,
  ): Promise<{ concertId: number; commitment: string | null; seed: string | null; entries: string[] }> {
    const onSale = this.onSaleOf(concertId);
    const open = !isScheduled(onSale, now);
    return {
      concertId,
      commitment: onSale.commitment,
      seed: open ? onSale.seed : null,
      entries: open ? ((await this.deps.store.reads.drawEntries(concertId)) ?? []) : [],
    };
  }

  /**
   * Changes an on-sale (admin): `opensAt` only while scheduled, to another future time (the seed
   * and the commitment stay); `activeMax`; `paused` (nobody loses their place). Durable first.
   */
  async configure(concertId: number, change: OnSaleChange, now: number): Promise<OnSaleStatus> {
    const onSale = this.onSaleOf(concertId);
    if (change.opensAt !== undefined) {
      if (!isScheduled(onSale, now))
        throw new ApiError("INVALID_ARGUMENT", "opensAt can be changed only before the opening");
      if (change.opensAt === null || change.opensAt <= now) {
        throw new ApiError("INVALID_ARGUMENT", "opensAt must be a future time");
      }
    }
    const next: OnSaleRow = {
      ...onSale,
      opensAt: change.opensAt ?? onSale.opensAt,
      activeMax: change.activeMax ?? onSale.activeMax,
      paused: change.paused ?? onSale.paused,
    };
    await this.deps.catalog.updateOnSale(next);
    this.onSaleRooms.get(concertId)?.configure({
      ...(change.opensAt != null ? { opensAt: change.opensAt } : {}),
      ...(change.activeMax !== undefined ? { activeMax: change.activeMax } : {}),
      ...(change.paused !== undefined ? { paused: change.paused } : {}),
    });
    return this.status(concertId, now);
  }

  /** Puts back the tokens on disk, each in its room (start-up). */
  restore(rows: QueueTokenRow[], now: number): void {
    const byRoom = new Map<number, QueueTokenRow[]>();
    for (const row of rows) {
      const list = byRoom.get(row.room);
      if (list) list.push(row);
      else byRoom.set(row.room, [row]);
    }
    for (const [room, list] of byRoom) {
      const onSale = room === 0 ? undefined : this.deps.catalog.onSaleOf(room);
      (onSale === undefined ? this.site : this.roomOf(onSale)).restore(list, now);
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const room of this.all()) room.tick(now);
    }, this.deps.settings.tickMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const room of this.all()) room.stop();
  }

  get waiting(): number {
    return this.all().reduce((sum, room) => sum + room.waiting, 0);
  }

  get active(): number {
    return this.all().reduce((sum, room) => sum + room.active, 0);
  }

  private onSaleOf(concertId: number) {
    const onSale = this.deps.catalog.onSaleOf(concertId);
    if (onSale === undefined) throw new ApiError("NOT_FOUND", `concert ${concertId} has no on-sale`);
    return onSale;
  }

  private roomOf(onSale: OnSaleRow): QueueActor {
    let room = this.onSaleRooms.get(onSale.concertId);
    if (room === undefined) {
      room = this.make(onSale);
      this.onSaleRooms.set(onSale.concertId, room);
    }
    return room;
  }

  private make(onSale: OnSaleRow | null): QueueActor {
    const { settings, store, commits, joinsPerAddress, hooks, catalog } = this.deps;
    if (onSale === null) return new QueueActor(settings, store, commits, joinsPerAddress, hooks);
    const { concertId } = onSale;
    return new QueueActor(
      { ...settings, activeMax: onSale.activeMax ?? settings.activeMax },
      store,
      commits,
      joinsPerAddress,
      hooks,
      {
        concertId,
        opensAt: onSale.opensAt,
        opened: onSale.drawnAt !== null,
        paused: onSale.paused,
        seed: onSale.seed,
        inventory: () => catalog.inventory(concertId),
        onDrawn: (entries, drawnAt) => void catalog.recordDraw(concertId, entries, drawnAt),
        onDrawCommitted: (report) => this.deps.log?.info(report, "draw committed"),
      },
    );
  }
}

/** Before the opening: its time has not come and its draw has not run (the seed is still secret). */
function isScheduled(onSale: OnSaleRow, now: number): boolean {
  return onSale.opensAt !== null && now < onSale.opensAt && onSale.drawnAt === null;
}
