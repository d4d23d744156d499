// Where everything is, on every node of a cluster: the concerts, their schedules and on-sales as
// PostgreSQL has them, and from that the room each concert is placed with (the unit of placement
// is a waiting room with the concerts it gates: on-sale concert c with its own room c, and the
// site room 0 with every concert that has no on-sale; an on-sale is made with its concert and
// never removed, so a concert's room never changes). Rows are immutable once written except an
// on-sale's settings, which only its room's owner reads. A node that meets an id it does not know
// looks that one up in PostgreSQL (another node may just have created it) before it answers 404:
// one indexed read, as any lookup of a reservation costs. A node that creates a concert also
// tells every node on NATS (node.ts), and they read the whole catalog again.
import { ApiError } from "../errors.js";
import type { PostgresReads } from "../store/postgres/reads.js";
import type { ConcertRow, ScheduleRow, StartupState } from "../store/store.js";

/** The site room: it gates every concert without an on-sale (and is placed with them). */
export const SITE_ROOM = 0;

export class Directory {
  private concerts = new Map<number, ConcertRow>();
  private schedules = new Map<number, ScheduleRow>();
  private onSales = new Set<number>();
  private reloading: Promise<void> | null = null;
  /** The read that follows the one in flight (reload()). */
  private reloadingAgain: Promise<void> | null = null;
  private cachedList: { concerts: { id: number; title: string }[] } | null = null;

  constructor(private readonly reads: PostgresReads) {}

  /**
   * Reads every concert, schedule and on-sale again, one read at a time. A caller that comes while
   * a read is in flight is answered by the NEXT read, which starts after it (callers meanwhile
   * share that one): the read in flight may have begun before the change the caller was told of,
   * and a room it misses would be placed on no node until the catalog changed again.
   */
  reload(): Promise<void> {
    if (this.reloading !== null) {
      this.reloadingAgain ??= this.reloading
        .catch(() => {})
        .then(() => {
          this.reloadingAgain = null;
          return this.reload();
        });
      return this.reloadingAgain;
    }
    this.reloading = this.reads
      .catalog()
      .then((catalog) => {
        this.concerts = new Map();
        this.schedules = new Map();
        this.onSales = new Set();
        this.add(catalog);
      })
      .finally(() => {
        this.reloading = null;
      });
    return this.reloading;
  }

  /** Every room to place: the site room and one per on-sale. */
  rooms(): number[] {
    return [SITE_ROOM, ...this.onSaleConcertIds()];
  }

  /** The room `concertId` is placed with; 404 for a concert nobody made. */
  async roomOfConcert(concertId: number): Promise<number> {
    if (!this.concerts.has(concertId)) await this.lookUp(concertId);
    return this.onSales.has(concertId) ? concertId : SITE_ROOM;
  }

  /** The concert of `scheduleId`; 404 for a schedule nobody made. */
  async concertOfSchedule(scheduleId: number): Promise<number> {
    const known = this.schedules.get(scheduleId)?.concertId;
    if (known !== undefined) return known;
    const concertId = await this.reads.concertOfSchedule(scheduleId);
    if (concertId === undefined) throw new ApiError("NOT_FOUND", `schedule ${scheduleId} not found`);
    await this.lookUp(concertId);
    return concertId;
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

  /** Reads one concert this node has not seen yet (made on another node); 404 when there is none. */
  private async lookUp(concertId: number): Promise<void> {
    const state = await this.reads.concertState(concertId);
    if (state === undefined) throw new ApiError("NOT_FOUND", `concert ${concertId} not found`);
    this.add(state);
  }

  private add({ concerts, schedules, onSales }: Pick<StartupState, "concerts" | "schedules" | "onSales">): void {
    for (const row of concerts) {
      this.concerts.set(row.id, row);
    }
    for (const row of schedules) {
      this.schedules.set(row.id, row);
    }
    for (const row of onSales) this.onSales.add(row.concertId);
    this.cachedList = null;
  }
}
