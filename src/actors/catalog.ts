// Concerts and their schedule actors, addressed by id.

import { ApiError } from "../errors.js";
import { immutable } from "../immutable.js";
import type { Commits } from "../store/commitQueue.js";
import type { ConcertRow, ScheduleRow, Store } from "../store/store.js";
import type { IdSequence } from "./ids.js";
import type { ScheduleActor } from "./schedule.js";

export interface NewConcert {
  title: string;
  schedules: { startsAt: string; seatCount: number; price: number }[];
}

export interface ConcertView {
  id: number;
  title: string;
  schedules: { id: number; startsAt: string; totalSeats: number }[];
}

export class Catalog {
  private readonly concerts = new Map<number, ConcertRow>();
  private readonly schedules = new Map<number, ScheduleActor>();
  private readonly schedulesByConcert = new Map<number, ScheduleActor[]>();
  private cachedConcerts: { concerts: { id: number; title: string }[] } | null = null;

  constructor(
    private readonly store: Store,
    private readonly commits: Commits,
    private readonly ids: { concert: IdSequence; schedule: IdSequence },
    private readonly makeSchedule: (row: ScheduleRow, seats: Uint8Array) => ScheduleActor,
  ) {}

  addConcert(concert: ConcertRow): void {
    this.cachedConcerts = null;
    this.concerts.set(concert.id, concert);
    this.schedulesByConcert.set(concert.id, []);
  }

  addSchedule(row: ScheduleRow, seats: Uint8Array): ScheduleActor {
    const actor = this.makeSchedule(row, seats);
    this.schedules.set(row.id, actor);
    this.schedulesByConcert.get(row.concertId)?.push(actor);
    return actor;
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
    const concert: ConcertRow = { id: this.ids.concert.next(), title: input.title };
    const schedules: ScheduleRow[] = input.schedules.map((s) => ({
      id: this.ids.schedule.next(),
      concertId: concert.id,
      startsAt: s.startsAt,
      seatCount: s.seatCount,
      price: s.price,
    }));
    await this.commits.commit(() => {
      this.store.insertConcert(concert, now);
      for (const schedule of schedules) this.store.insertSchedule(schedule);
    });
    this.addConcert(concert);
    for (const row of schedules) this.addSchedule(row, new Uint8Array(row.seatCount));
    return {
      id: concert.id,
      title: concert.title,
      schedules: schedules.map((s) => ({ id: s.id, startsAt: s.startsAt, totalSeats: s.seatCount })),
    };
  }
}
