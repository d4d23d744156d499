// Names for ids: concert titles, venue time zones and dates seen while browsing, kept in
// sessionStorage so that holds and receipts still say which concert and date, in the venue's time,
// after the booking window (which browsing needs) ends.
import { clock, dateTime, UTC } from "./format.js";
import { type CatalogLabels, loadCatalog, saveCatalog } from "./sessionStore.js";

export class Catalog {
  private labels: CatalogLabels = loadCatalog();

  rememberConcerts(concerts: readonly { id: number; title: string }[]): void {
    for (const concert of concerts) this.labels.concerts[concert.id] = concert.title;
    saveCatalog(this.labels);
  }

  /** On-sales name their concert and its zone before any queue token (onsales.list). */
  rememberOnSales(onSales: readonly { concertId: number; title: string; timeZone: string }[]): void {
    for (const onSale of onSales) {
      this.labels.concerts[onSale.concertId] = onSale.title;
      this.labels.zones[onSale.concertId] = onSale.timeZone;
    }
    saveCatalog(this.labels);
  }

  rememberSchedules(schedules: readonly { id: number; concertId: number; startsAt: string }[]): void {
    for (const s of schedules) this.labels.schedules[s.id] = { concertId: s.concertId, startsAt: s.startsAt };
    saveCatalog(this.labels);
  }

  concertTitle(concertId: number): string {
    return this.labels.concerts[concertId] ?? `Concert ${concertId}`;
  }

  /** The venue's zone: only on-sales publish it (concerts.list does not), so UTC for the others. */
  zoneOf(concertId: number | undefined): string {
    return (concertId !== undefined && this.labels.zones[concertId]) || UTC;
  }

  /** A date of `concertId` in its venue's time: "Sat, 16 Jan 2027, 19:00 Seoul time (GMT+9)". */
  date(startsAt: string, concertId: number | undefined): string {
    return dateTime(startsAt, this.zoneOf(concertId));
  }

  /** A time of day (a hold's end) in the venue's time of `concertId`. */
  clock(instant: number, concertId: number | undefined): string {
    return clock(instant, this.zoneOf(concertId));
  }

  /** "Big Hall, Tue, 1 Jun 2027, 19:00 UTC" (or the ids, for a date never seen here). */
  describeSchedule(scheduleId: number, concertId?: number): string {
    const schedule = this.labels.schedules[scheduleId];
    const concert = schedule?.concertId ?? concertId ?? 0;
    const title = this.concertTitle(concert);
    return schedule ? `${title}, ${this.date(schedule.startsAt, concert)}` : `${title}, date ${scheduleId}`;
  }

  forget(): void {
    this.labels = { concerts: {}, zones: {}, schedules: {} };
  }
}
