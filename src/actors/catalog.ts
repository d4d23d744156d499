// Concerts, their on-sales and their schedule actors, addressed by id.

import { commitmentOf, newSeed } from "../draw.js";
import { ApiError } from "../errors.js";
import { immutable } from "../immutable.js";
import type { Commits } from "../store/commitQueue.js";
import type { ConcertRow, OnSaleRow, ScheduleRow, Store, VenueRow } from "../store/store.js";
import { layoutFromDocument } from "../venues/document.js";
import { type SeatLayout, singleRowLayout } from "../venues/layout.js";
import { layoutDocument } from "../venues/snapshot.js";
import type { IdSource } from "./ids.js";
import type { ScheduleActor } from "./schedule.js";

/** A new schedule: one row of `seatCount` seats at `price`, or laid out in a venue. */
export type NewSchedule = { startsAt: string; timeZone?: string } & (
  | { seatCount: number; price: number }
  | { venue: SeatLayout }
);

export interface NewConcert {
  title: string;
  /** IANA time zone of the venue; default UTC. */
  timeZone?: string;
  schedules: NewSchedule[];
  /** An on-sale: its own waiting room, opening at `opensAt` (epoch ms) with a draw when that is in the future. */
  onSale?: { opensAt?: number; activeMax?: number };
}

export interface ConcertView {
  id: number;
  title: string;
  schedules: { id: number; startsAt: string; totalSeats: number }[];
}

/** Seats of a concert over all its dates. */
export interface Inventory {
  available: number;
  held: number;
}

export class Catalog {
  private readonly concerts = new Map<number, ConcertRow>();
  private readonly schedules = new Map<number, ScheduleActor>();
  private readonly schedulesByConcert = new Map<number, ScheduleActor[]>();
  private readonly onSales = new Map<number, OnSaleRow>();
  /** Venue layouts by ETag, shared by the schedules laid out in the same venue. */
  private readonly layouts = new Map<string, SeatLayout>();
  private cachedConcerts: { concerts: { id: number; title: string }[] } | null = null;

  constructor(
    private readonly store: Store,
    private readonly commits: Commits,
    private readonly ids: { concert: IdSource; schedule: IdSource },
    private readonly makeSchedule: (row: ScheduleRow, seats: Uint8Array, layout: SeatLayout) => ScheduleActor,
  ) {}

  /** A venue layout read from disk; its ETag is checked against its content. */
  addVenue(row: VenueRow): void {
    if (this.layouts.has(row.etag)) return;
    const layout = layoutFromDocument(JSON.parse(row.layout));
    const { etag } = layoutDocument(layout);
    if (etag !== row.etag) throw new Error(`venue ${row.etag}: its layout hashes to ${etag}`);
    this.layouts.set(etag, layout);
  }

  addConcert(concert: ConcertRow): void {
    this.cachedConcerts = null;
    this.concerts.set(concert.id, concert);
    this.schedulesByConcert.set(concert.id, []);
  }

  /** A schedule with its seat map; a venue it names must have been added first. */
  addSchedule(row: ScheduleRow, seats: Uint8Array): ScheduleActor {
    const layout = row.venue === null ? singleRowLayout(row.seatCount, row.price) : this.layouts.get(row.venue);
    if (layout === undefined) throw new Error(`schedule ${row.id}: venue ${row.venue} is not stored`);
    const actor = this.makeSchedule(row, seats, layout);
    this.schedules.set(row.id, actor);
    this.schedulesByConcert.get(row.concertId)?.push(actor);
    return actor;
  }

  /** An on-sale read from disk (start-up). */
  addOnSale(row: OnSaleRow): void {
    this.onSales.set(row.concertId, row);
  }

  /** The on-sale of `concertId` (404 for an unknown concert; undefined for a concert without one). */
  onSaleOf(concertId: number): OnSaleRow | undefined {
    this.concert(concertId);
    return this.onSales.get(concertId);
  }

  /** Concerts with an on-sale, in id order. */
  onSaleConcertIds(): number[] {
    return [...this.onSales.keys()].sort((a, b) => a - b);
  }

  hasConcert(concertId: number): boolean {
    return this.concerts.has(concertId);
  }

  concert(concertId: number): ConcertRow {
    const concert = this.concerts.get(concertId);
    if (!concert) throw new ApiError("NOT_FOUND", `concert ${concertId} not found`);
    return concert;
  }

  /** The concert's seats over all its dates, now. */
  inventory(concertId: number): Inventory {
    let available = 0;
    let held = 0;
    for (const schedule of this.schedulesOf(concertId)) {
      available += schedule.availableSeats;
      held += schedule.totalSeats - schedule.availableSeats - schedule.soldSeats;
    }
    return { available, held };
  }

  /** Changes an on-sale (admin); resolves once durable. The caller has validated the change. */
  async updateOnSale(row: OnSaleRow): Promise<void> {
    await this.commits.commit(() => this.store.updateOnSale(row.concertId, row.opensAt, row.activeMax, row.paused));
    this.onSales.set(row.concertId, row);
  }

  /** The draw of `concertId` ran at `drawnAt`: its order (entry ids as latin1 byte strings) is written with the on-sale. */
  recordDraw(concertId: number, entries: string[], drawnAt: number): Promise<void> {
    const row = this.onSales.get(concertId);
    if (row) row.drawnAt = drawnAt;
    return this.commits.commit(() => this.store.recordDraw(concertId, entries, drawnAt));
  }

  listConcerts(): ConcertRow[] {
    return [...this.concerts.values()];
  }

  /** The concerts.list body; one immutable object until a concert is added. */
  concertsView(): { concerts: { id: number; title: string }[] } {
    this.cachedConcerts ??= immutable({ concerts: this.listConcerts().map(({ id, title }) => ({ id, title })) });
    return this.cachedConcerts;
  }

  schedulesOf(concertId: number): ScheduleActor[] {
    const list = this.schedulesByConcert.get(concertId);
    if (!list) throw new ApiError("NOT_FOUND", `concert ${concertId} not found`);
    return list;
  }

  schedule(scheduleId: number): ScheduleActor {
    const actor = this.schedules.get(scheduleId);
    if (!actor) throw new ApiError("NOT_FOUND", `schedule ${scheduleId} not found`);
    return actor;
  }

  allSchedules(): IterableIterator<ScheduleActor> {
    return this.schedules.values();
  }

  /**
   * Adds a concert with its schedules (ids allocated now); it joins the catalog once it is
   * durable, so nobody can see or book what a crash could still take back.
   */
  async create(input: NewConcert, now: number): Promise<ConcertView> {
    const rows = newConcertRows(input, this.ids, now);
    const { concert, schedules, onSale } = rows;
    await this.commits.commit(() => writeConcert(this.store, rows, now));
    for (const [etag, layout] of rows.layouts) if (!this.layouts.has(etag)) this.layouts.set(etag, layout);
    this.addConcert(concert);
    for (const row of schedules) this.addSchedule(row, new Uint8Array(row.seatCount));
    if (onSale) this.onSales.set(concert.id, onSale);
    return concertView(concert, schedules);
  }
}

/** The rows of a new concert, its ids allocated now. */
export interface ConcertRows {
  concert: ConcertRow;
  schedules: ScheduleRow[];
  /** The distinct venue layouts of its schedules, stored by ETag. */
  venues: VenueRow[];
  /** The same layouts, by ETag. */
  layouts: Map<string, SeatLayout>;
  onSale: OnSaleRow | undefined;
}

export function newConcertRows(
  input: NewConcert,
  ids: { concert: IdSource; schedule: IdSource },
  now: number,
): ConcertRows {
  const concert: ConcertRow = { id: ids.concert.next(), title: input.title, timeZone: input.timeZone ?? "UTC" };
  const venues: VenueRow[] = [];
  const layouts = new Map<string, SeatLayout>();
  const schedules: ScheduleRow[] = input.schedules.map((s) => {
    const row = { id: ids.schedule.next(), concertId: concert.id, startsAt: s.startsAt, timeZone: s.timeZone ?? null };
    if (!("venue" in s)) return { ...row, seatCount: s.seatCount, price: s.price, venue: null };
    const { etag, document } = layoutDocument(s.venue);
    if (!layouts.has(etag)) {
      layouts.set(etag, s.venue);
      venues.push({ etag, layout: JSON.stringify(document) });
    }
    const price = Math.min(...s.venue.categories.map((c) => c.price));
    return { ...row, seatCount: s.venue.seatCount, price, venue: etag };
  });
  const onSale = input.onSale === undefined ? undefined : newOnSale(concert.id, input.onSale, now);
  return { concert, schedules, venues, layouts, onSale };
}

/** Records the writes of a new concert. */
export function writeConcert(store: Store, { concert, schedules, venues, onSale }: ConcertRows, now: number): void {
  store.insertConcert(concert, now);
  for (const venue of venues) store.insertVenue(venue);
  for (const schedule of schedules) store.insertSchedule(schedule);
  if (onSale) store.insertOnSale(onSale);
}

/** What admin.concerts.create answers about the concert. */
export function concertView(concert: ConcertRow, schedules: readonly ScheduleRow[]): ConcertView {
  return {
    id: concert.id,
    title: concert.title,
    schedules: schedules.map((s) => ({ id: s.id, startsAt: s.startsAt, totalSeats: s.seatCount })),
  };
}

/**
 * A new on-sale. An opening in the future gets a draw: its seed is secret until then, and only
 * the seed's commitment is published. Otherwise the on-sale opens at once, with no draw.
 */
function newOnSale(concertId: number, given: { opensAt?: number; activeMax?: number }, now: number): OnSaleRow {
  const opensAt = given.opensAt !== undefined && given.opensAt > now ? given.opensAt : null;
  const seed = opensAt === null ? null : newSeed();
  return {
    concertId,
    opensAt,
    activeMax: given.activeMax ?? null,
    paused: false,
    seed,
    commitment: seed === null ? null : commitmentOf(seed),
    drawnAt: null,
  };
}
