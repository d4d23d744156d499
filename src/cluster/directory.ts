// Where everything is, on every node of a cluster: the concerts, their schedules and on-sales as
// PostgreSQL has them, and from that the room each concert is placed with (the unit of placement
// is a waiting room with the concerts it gates: on-sale concert c with its own room c, and the
// site room 0 with every concert that has no on-sale; an on-sale is made with its concert and
// never removed, so a concert's room never changes). Rows are immutable once written except an
// on-sale's settings, which only its room's owner reads. A node that meets an id it does not know
// reads PostgreSQL again (another node may just have created it) before it answers 404, at most
// once a second however many unknown ids are asked for; a node that creates a concert also tells
// every node on NATS (node.ts), so that second is not what a new concert waits for.
import { ApiError } from "../errors.js";
import type { PostgresReads } from "../store/postgres/reads.js";
import type { ConcertRow, OnSaleRow, ScheduleRow } from "../store/store.js";

/** The site room: it gates every concert without an on-sale (and is placed with them). */
export const SITE_ROOM = 0;

/** Unknown ids read PostgreSQL again at most this often (a flood of made-up ids costs one read a second). */
const MISS_RELOAD_MS = 1000;

export class Directory {
  private concerts = new Map<number, ConcertRow>();
  private schedules = new Map<number, ScheduleRow>();
  private schedulesByConcert = new Map<number, ScheduleRow[]>();
  private onSales = new Set<number>();
  private reloading: Promise<void> | null = null;
  private reloadedAt = Number.NEGATIVE_INFINITY;
  private cachedList: { concerts: { id: number; title: string }[] } | null = null;

  constructor(private readonly reads: PostgresReads) {}

  /** Reads every concert, schedule and on-sale again (one read at a time; callers share it). */
  reload(): Promise<void> {
    if (this.reloading === null) this.reloadedAt = performance.now();
    this.reloading ??= this.reads
      .catalog()
      .then(({ concerts, schedules, onSales }) => {
        this.concerts = new Map(concerts.map((row) => [row.id, row]));
        this.schedules = new Map(schedules.map((row) => [row.id, row]));
        this.schedulesByConcert = new Map(concerts.map((row) => [row.id, []]));
        for (const row of schedules) this.schedulesByConcert.get(row.concertId)?.push(row);
        this.onSales = new Set(onSales.map((row: OnSaleRow) => row.concertId));
        this.cachedList = null;
      })
      .finally(() => {
        this.reloading = null;
      });
    return this.reloading;
  }

  /** Every room to place: the site room and one per on-sale. */
  rooms(): number[] {
    return [SITE_ROOM, ...[...this.onSales].sort((a, b) => a - b)];
  }

  /** The room `concertId` is placed with; 404 for a concert nobody made. */
  async roomOfConcert(concertId: number): Promise<number> {
    await this.known(() => this.concerts.has(concertId), `concert ${concertId} not found`);
    return this.onSales.has(concertId) ? concertId : SITE_ROOM;
  }

  /** The concert of `scheduleId`; 404 for a schedule nobody made. */
  async concertOfSchedule(scheduleId: number): Promise<number> {
    await this.known(() => this.schedules.has(scheduleId), `schedule ${scheduleId} not found`);
    return this.schedules.get(scheduleId)!.concertId;
  }

  /** The concert of a schedule this node has seen (a reservation's, which exists). */
  concertOfKnownSchedule(scheduleId: number): number | undefined {
    return this.schedules.get(scheduleId)?.concertId;
  }

  concert(concertId: number): ConcertRow | undefined {
    return this.concerts.get(concertId);
  }

  schedulesOf(concertId: number): readonly ScheduleRow[] {
    return this.schedulesByConcert.get(concertId) ?? [];
  }

  /** Concerts with an on-sale, in id order. */
  onSaleConcertIds(): number[] {
    return [...this.onSales].sort((a, b) => a - b);
  }

  /** The concerts.list body, one object until the catalog changes. */
  concertsView(): { concerts: { id: number; title: string }[] } {
    this.cachedList ??= {
      concerts: [...this.concerts.values()].sort((a, b) => a.id - b.id).map(({ id, title }) => ({ id, title })),
    };
    return this.cachedList;
  }

  /** Resolves when `present()` holds, reading PostgreSQL again if it does not (at most once a second); else 404. */
  private async known(present: () => boolean, missing: string): Promise<void> {
    if (present()) return;
    if (this.reloading !== null) await this.reloading;
    else if (performance.now() - this.reloadedAt >= MISS_RELOAD_MS) await this.reload();
    if (!present()) throw new ApiError("NOT_FOUND", missing);
  }
}
