// Names for ids: concert titles and dates seen while browsing, kept in sessionStorage so that holds
// and receipts still say which concert and date after the booking window (which browsing needs) ends.
import { dateTime } from "./format.js";
import { type CatalogLabels, loadCatalog, saveCatalog } from "./sessionStore.js";

export class Catalog {
  private labels: CatalogLabels = loadCatalog();

  rememberConcerts(concerts: readonly { id: number; title: string }[]): void {
    for (const concert of concerts) this.labels.concerts[concert.id] = concert.title;
    saveCatalog(this.labels);
  }

  rememberSchedules(schedules: readonly { id: number; concertId: number; startsAt: string }[]): void {
    for (const s of schedules) this.labels.schedules[s.id] = { concertId: s.concertId, startsAt: s.startsAt };
    saveCatalog(this.labels);
  }

  concertTitle(concertId: number): string {
    return this.labels.concerts[concertId] ?? `Concert ${concertId}`;
  }

  /** "Big Hall, Tue 1 Jun 2027, 19:00 UTC" (or the ids, for a date never seen here). */
  describeSchedule(scheduleId: number, concertId?: number): string {
    const schedule = this.labels.schedules[scheduleId];
    const title = this.concertTitle(schedule?.concertId ?? concertId ?? 0);
    return schedule ? `${title}, ${dateTime(schedule.startsAt)}` : `${title}, date ${scheduleId}`;
  }

  forget(): void {
    this.labels = { concerts: {}, schedules: {} };
  }
}
