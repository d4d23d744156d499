// The fan's live holds: the list (which concert, date, seat, price, time left; times in the venue's
// zone), the totals shown by the checkout bar, and the countdowns; a hold that runs out is dropped
// with a notice.
import type { Catalog } from "./catalog.js";
import { $, element, notify } from "./dom.js";
import { countdown, seats, won } from "./format.js";

export interface Hold {
  reservationId: number;
  scheduleId: number;
  concertId: number;
  seatNo: number;
  /** "seat B-12, Stalls" where the seat's venue is known (best-available replies, the map shown). */
  name?: string;
  price: number;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Below this much time left a hold is marked as running out. */
const EXPIRING_MS = 60_000;

export class Holds {
  private readonly byId = new Map<number, Hold>();
  private readonly items = new Map<
    number,
    { item: HTMLLIElement; left: HTMLElement; what: HTMLElement; release: HTMLElement; name: string }
  >();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly catalog: Catalog,
    private readonly onRelease: (hold: Hold) => void,
  ) {
    setInterval(() => this.tick(), 1000);
  }

  get size(): number {
    return this.byId.size;
  }

  get total(): number {
    let sum = 0;
    for (const hold of this.byId.values()) sum += hold.price;
    return sum;
  }

  all(): Hold[] {
    return [...this.byId.values()];
  }

  find(scheduleId: number, seatNo: number): Hold | undefined {
    for (const hold of this.byId.values()) if (hold.scheduleId === scheduleId && hold.seatNo === seatNo) return hold;
    return undefined;
  }

  /** Called after every change (added, removed, replaced, expired). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  add(...holds: Hold[]): void {
    for (const hold of holds) this.byId.set(hold.reservationId, hold);
    this.render();
  }

  /** Names seats whose hold does not say (after a reload the server's list gives numbers only). */
  nameSeats(namer: (scheduleId: number, seatNo: number) => string | undefined): void {
    this.namer = namer;
  }

  private namer: ((scheduleId: number, seatNo: number) => string | undefined) | undefined;

  /** "seat B-12, Stalls" where the seat's venue is known, else "seat 12". */
  nameOf(hold: Hold): string {
    return hold.name ?? this.namer?.(hold.scheduleId, hold.seatNo) ?? `seat ${hold.seatNo}`;
  }

  /** The namer knows more seats now (a date's layout came): the list says their labels. */
  refreshNames(): void {
    for (const hold of this.byId.values()) {
      const entry = this.items.get(hold.reservationId);
      const name = this.nameOf(hold);
      if (!entry || entry.name === name) continue;
      entry.name = name;
      entry.what.textContent = this.seatText(hold, name);
      entry.release.setAttribute("aria-label", `Release ${name}`);
    }
  }

  private seatText(hold: Hold, name: string): string {
    return `${name[0]!.toUpperCase()}${name.slice(1)} · ${won(hold.price)}`;
  }

  remove(reservationIds: Iterable<number>): void {
    for (const id of reservationIds) this.byId.delete(id);
    this.render();
  }

  /** The server's list replaces ours (after a reload or a reconnect). */
  replaceAll(holds: readonly Hold[]): void {
    this.byId.clear();
    for (const hold of holds) this.byId.set(hold.reservationId, hold);
    this.render();
  }

  private render(): void {
    const list = $("holds");
    for (const [id, { item }] of this.items) {
      if (this.byId.has(id)) continue;
      item.remove();
      this.items.delete(id);
    }
    const ordered = this.all().sort((a, b) => a.scheduleId - b.scheduleId || a.seatNo - b.seatNo);
    for (const hold of ordered) list.append(this.items.get(hold.reservationId)?.item ?? this.createItem(hold));
    $("holds-empty").hidden = this.size > 0;
    this.tick();
    for (const listener of this.listeners) listener();
  }

  private createItem(hold: Hold): HTMLLIElement {
    const item = element("li", "hold");
    item.dataset.reservation = String(hold.reservationId);
    const name = this.nameOf(hold);
    const what = element("span", "hold-seat", this.seatText(hold, name));
    const where = element("span", "hold-where", this.catalog.describeSchedule(hold.scheduleId, hold.concertId));
    const left = element("span", "countdown");
    const release = element("button", "secondary", "Release");
    release.type = "button";
    release.setAttribute("aria-label", `Release ${name}`);
    release.addEventListener("click", () => this.onRelease(hold));
    const row = element("span", "hold-row");
    row.append(what, release);
    item.append(row, where, left);
    this.items.set(hold.reservationId, { item, left, what, release, name });
    return item;
  }

  /** Countdowns once a second; holds past their end are dropped (their seats come back by push). */
  private tick(now = Date.now()): void {
    const ran: Hold[] = [];
    for (const hold of this.byId.values()) {
      if (hold.expiresAt <= now) ran.push(hold);
      const entry = this.items.get(hold.reservationId);
      if (!entry) continue;
      const expiring = hold.expiresAt - now < EXPIRING_MS;
      entry.item.toggleAttribute("data-expiring", expiring);
      entry.left.textContent = `${countdown(hold.expiresAt, now)} left${expiring ? ", pay soon" : ""} · ends ${this.catalog.clock(hold.expiresAt, hold.concertId)}`;
    }
    this.updateSummary(now);
    if (ran.length === 0) return;
    const names = ran.map((h) => `${this.nameOf(h)} (${this.catalog.describeSchedule(h.scheduleId, h.concertId)})`);
    notify(`Your hold on ${names.join(" and ")} ran out, so the seat was released.`, 15_000);
    this.remove(ran.map((h) => h.reservationId));
  }

  private updateSummary(now: number): void {
    const summary = $("checkout-summary");
    summary.hidden = this.size === 0;
    if (this.size === 0) return;
    const first = Math.min(...this.all().map((h) => h.expiresAt));
    summary.textContent = `${seats(this.size)} · ${won(this.total)} · first hold ends in ${countdown(first, now)}`;
  }
}
