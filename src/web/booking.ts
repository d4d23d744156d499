// Browsing and holding: the concert and date pickers (with live free-seat counts), the live seat
// map, and what a click on a seat does (hold, release, or say why not). The concerts offered are
// those of the room the fan was admitted to: an on-sale's own concert, or every other one.
import type { SeatMap } from "../client/index.js";
import { BestAvailable, type BestRequest } from "./bestAvailable.js";
import type { BookingWindow } from "./bookingWindow.js";
import type { Catalog } from "./catalog.js";
import type { Connection } from "./connection.js";
import { $, alertError, clearAlert, notify } from "./dom.js";
import { count, wallDateTime, zonePlace } from "./format.js";
import type { Hold, Holds } from "./holds.js";
import { Layouts } from "./layouts.js";
import { MapZoom } from "./mapZoom.js";
import { errorCode } from "./messages.js";
import { SeatGrid } from "./seatGrid.js";
import { updateSession } from "./sessionStore.js";
import { type Plan, planOf, seatName } from "./venuePlan.js";

/** Where the fan books: an on-sale's room (its concert id) or the site room (null), and their last picks. */
export interface BookingPlace {
  room: number | null;
  concertId?: number | undefined;
  scheduleId?: number | undefined;
}

/** What booking needs to know of the on-sales: their concerts are booked in their own rooms only. */
export interface OnSaleDirectory {
  loaded(): Promise<void>;
  has(concertId: number): boolean;
}

/** Plans kept to name held seats on dates not on screen (a stadium's is a few hundred kilobytes). */
const KEEP_PLANS = 6;

/** Other dates' counts come from schedules.list; the shown date's from its live map. */
const COUNTS_REFRESH_MS = 10_000;

export class Booking {
  private readonly zoom = new MapZoom(
    $("seats"),
    {
      in: $<HTMLButtonElement>("zoom-in"),
      out: $<HTMLButtonElement>("zoom-out"),
      fit: $<HTMLButtonElement>("zoom-fit"),
    },
    $("zoom-hint"),
  );
  private readonly grid = new SeatGrid($("seats"), $("map-summary"), this.zoom, (no) => void this.onSeat(no));
  private readonly best = new BestAvailable((request) => this.holdBest(request));
  private readonly layouts: Layouts;
  private seatMap: SeatMap | undefined;
  private stopSeatMap: (() => void) | undefined;
  private concertId: number | undefined;
  /** The room whose concerts the pickers offer (undefined before the first entry). */
  private room: number | null | undefined;
  private schedules: { id: number; startsAt: string; totalSeats: number; availableSeats: number }[] = [];
  private loading: Promise<void> | undefined;
  private readonly releasing = new Set<number>();
  /** Plans of dates the fan holds seats on, most recent last: after a reload the server names seats by number only. */
  private readonly plans = new Map<number, Plan>();
  private readonly askedPlans = new Set<number>();

  constructor(
    private readonly connection: Connection,
    private readonly holds: Holds,
    private readonly catalog: Catalog,
    private readonly window: BookingWindow,
    private readonly onSales: OnSaleDirectory,
    /** The server said the booking window is over (TOKEN_INVALID). */
    private readonly onWindowGone: () => void,
  ) {
    $("concert").addEventListener("change", (event) => {
      this.pickConcert(Number((event.target as HTMLSelectElement).value)).catch((e) => this.fail(e));
    });
    $("schedule").addEventListener("change", (event) => {
      this.pickSchedule(Number((event.target as HTMLSelectElement).value)).catch((e) => this.fail(e));
    });
    this.layouts = new Layouts(connection);
    holds.onChange(() => {
      this.syncMine();
      this.learnHeldPlans();
    });
    holds.nameSeats((scheduleId, seatNo) => {
      const plan = scheduleId === this.grid.scheduleId ? this.grid.plan : this.plans.get(scheduleId);
      return plan ? seatName(plan, seatNo) : undefined;
    });
    setInterval(() => {
      if (this.window.active && this.concertId !== undefined && !document.hidden) void this.refreshCounts();
    }, COUNTS_REFRESH_MS);
  }

  /** On entering the booking window: the room's concerts, the fan's last picks, a live map. */
  enter(preferred: BookingPlace): Promise<void> {
    this.loading ??= this.load(preferred).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Pickers work only inside the window (browsing needs an active token). */
  renderWindow(): void {
    const active = this.window.active;
    $<HTMLSelectElement>("concert").disabled = !active;
    $<HTMLSelectElement>("schedule").disabled = !active;
    if (!active && !this.seatMap) this.grid.clear("the map shows while your booking window is open");
    // No pickers, legend or empty box until there is a map to show.
    $("booking").dataset.map = this.seatMap ? "shown" : "none";
  }

  private async load(preferred: BookingPlace): Promise<void> {
    if (this.seatMap && this.concertId !== undefined && this.room === preferred.room) {
      // Back in the window with a map already shown: a fresh snapshot, in case a reconnect while
      // outside the window could not re-subscribe it.
      await this.refreshCounts();
      await this.pickSchedule(this.seatMap.scheduleId);
      return;
    }
    this.room = preferred.room;
    const concerts = await this.concertsOf(preferred.room);
    $<HTMLSelectElement>("concert").replaceChildren(...concerts.map((c) => new Option(c.title, String(c.id))));
    const concert = concerts.find((c) => c.id === preferred.concertId) ?? concerts[0];
    if (concert) await this.pickConcert(concert.id, preferred.scheduleId);
  }

  /** An on-sale's room books its own concert; the site room every concert without an on-sale. */
  private async concertsOf(room: number | null): Promise<{ id: number; title: string }[]> {
    if (room !== null) return [{ id: room, title: this.catalog.concertTitle(room) }];
    const [{ concerts }] = await Promise.all([
      this.connection.request("concerts.list", {}),
      this.onSales.loaded().catch(() => {}),
    ]);
    this.catalog.rememberConcerts(concerts);
    return concerts.filter((concert) => !this.onSales.has(concert.id));
  }

  private async pickConcert(concertId: number, scheduleId?: number): Promise<void> {
    this.concertId = concertId;
    $<HTMLSelectElement>("concert").value = String(concertId);
    // The dates are wall-clock times of the venue, whose zone the picker's label names once.
    $("schedule-zone").textContent = `(${zonePlace(this.catalog.zoneOf(concertId))})`;
    await this.refreshCounts();
    const schedule = this.schedules.find((s) => s.id === scheduleId) ?? this.schedules[0];
    if (schedule) await this.pickSchedule(schedule.id);
  }

  private async pickSchedule(scheduleId: number): Promise<void> {
    const previous = this.seatMap;
    this.stopSeatMap?.();
    if (previous && previous.scheduleId !== scheduleId) await this.connection.unsubscribeSeats(previous.scheduleId);
    const layout = await this.layouts.get(scheduleId, this.concertId);
    const map = await this.connection.subscribeSeats(scheduleId, layout);
    const arrived = performance.now();
    this.seatMap = map;
    $("booking").dataset.map = "shown";
    $<HTMLSelectElement>("schedule").value = String(scheduleId);
    this.grid.show(map, this.mineOn(scheduleId));
    if (this.grid.plan) {
      this.best.show(this.grid.plan);
      this.keepPlan(scheduleId, this.grid.plan);
      this.holds.refreshNames();
    }
    this.markDrawn(scheduleId, arrived);
    this.stopSeatMap = map.onChange((changes) => {
      this.grid.apply(changes);
      this.showCount(map.scheduleId, map.count("available"));
    });
    this.showCount(scheduleId, map.count("available"));
    updateSession({ concertId: this.concertId, scheduleId });
  }

  /**
   * From the snapshot's arrival to the first frame painted with the map: kept on the map box
   * (data-render-ms) and as a performance measure, for the tests and for anyone profiling.
   */
  private markDrawn(scheduleId: number, arrived: number): void {
    const box = $("seats");
    delete box.dataset.renderMs;
    // Two frames: a large venue makes the buttons of the rows in view in the first frame's
    // intersection step, and they are painted in the second.
    const afterFrame = (then: () => void) => requestAnimationFrame(() => setTimeout(then, 0));
    afterFrame(() =>
      afterFrame(() => {
        if (this.grid.scheduleId !== scheduleId) return;
        const ms = performance.now() - arrived;
        box.dataset.renderMs = ms.toFixed(0);
        box.dataset.layoutSource = this.layouts.lastSource ?? "";
        performance.measure?.("seat map drawn", { start: arrived, duration: ms });
      }),
    );
  }

  /** schedules.list for the shown concert: the dates and their free seats. */
  private async refreshCounts(): Promise<void> {
    const concertId = this.concertId;
    if (concertId === undefined) return;
    const { schedules } = await this.connection.request("schedules.list", { concertId });
    if (concertId !== this.concertId) return;
    this.catalog.rememberSchedules(schedules);
    const select = $<HTMLSelectElement>("schedule");
    const chosen = select.value;
    this.schedules = schedules;
    select.replaceChildren(...schedules.map((s) => new Option(this.optionText(s), String(s.id))));
    if (chosen) select.value = chosen;
    if (this.seatMap) this.showCount(this.seatMap.scheduleId, this.seatMap.count("available"));
  }

  private showCount(scheduleId: number, available: number): void {
    const schedule = this.schedules.find((s) => s.id === scheduleId);
    if (!schedule) return;
    schedule.availableSeats = available;
    const option = Array.from($<HTMLSelectElement>("schedule").options).find((o) => o.value === String(scheduleId));
    if (option) option.textContent = this.optionText(schedule);
  }

  private optionText(s: { startsAt: string; availableSeats: number }): string {
    return `${wallDateTime(s.startsAt, this.catalog.zoneOf(this.concertId))} · ${count(s.availableSeats)} free`;
  }

  private mineOn(scheduleId: number): number[] {
    return this.holds
      .all()
      .filter((h) => h.scheduleId === scheduleId)
      .map((h) => h.seatNo);
  }

  /** Holds on dates whose layout is not known yet (restored after a reload): fetch it (ETag cache) to name them. */
  private learnHeldPlans(): void {
    for (const hold of this.holds.all()) {
      const id = hold.scheduleId;
      if (hold.name || id === this.grid.scheduleId || this.plans.has(id) || this.askedPlans.has(id)) continue;
      this.askedPlans.add(id);
      this.layouts
        .get(id, hold.concertId, false)
        .then((layout) => {
          this.keepPlan(id, planOf(layout));
          this.holds.refreshNames();
        })
        .catch(() => {}) // named by number meanwhile; asked again after the next change of holds
        .finally(() => this.askedPlans.delete(id));
    }
  }

  private keepPlan(scheduleId: number, plan: Plan): void {
    this.plans.delete(scheduleId);
    this.plans.set(scheduleId, plan);
    for (const old of this.plans.keys()) if (this.plans.size > KEEP_PLANS) this.plans.delete(old);
  }

  private syncMine(): void {
    const scheduleId = this.grid.scheduleId;
    if (scheduleId !== undefined) this.grid.syncMine(this.mineOn(scheduleId));
  }

  private async onSeat(seatNo: number): Promise<void> {
    const map = this.seatMap;
    if (!map || this.grid.isPending(seatNo)) return; // a double click sends one request
    clearAlert();
    const held = this.holds.find(map.scheduleId, seatNo);
    if (held) return this.release(held);
    const status = map.status[seatNo - 1];
    const name = seatName(this.grid.plan, seatNo);
    const Name = `${name[0]!.toUpperCase()}${name.slice(1)}`;
    if (status === "sold") return notify(`${Name} is sold. Pick a seat marked available.`);
    if (status === "held")
      return notify(`${Name} is held by someone else. It comes free if they release it or their hold runs out.`);
    if (!this.window.active) {
      return notify(
        this.window.state.kind === "waiting"
          ? "You are in line: you can hold seats once it is your turn."
          : "Your booking window has ended. Join the line again to hold more seats.",
      );
    }
    this.grid.setPending(seatNo, true);
    try {
      const hold = await this.connection.request("reservations.create", { scheduleId: map.scheduleId, seatNo });
      this.holds.add({ ...hold, name, concertId: this.concertId ?? 0, expiresAt: Date.parse(hold.expiresAt) });
    } catch (error) {
      this.fail(error, "hold");
    } finally {
      this.grid.setPending(seatNo, false);
    }
  }

  async release(hold: Hold): Promise<void> {
    if (this.releasing.has(hold.reservationId)) return;
    clearAlert();
    this.releasing.add(hold.reservationId);
    const onMap = this.grid.scheduleId === hold.scheduleId;
    if (onMap) this.grid.setPending(hold.seatNo, true);
    try {
      await this.connection.request("reservations.release", { reservationId: hold.reservationId });
      this.holds.remove([hold.reservationId]);
      const name = hold.name ?? `seat ${hold.seatNo}`;
      notify(`${name[0]!.toUpperCase()}${name.slice(1)} released.`);
    } catch (error) {
      // Gone already (ran out, or released in another tab): it is not held any more either way.
      if (errorCode(error) === "HOLD_EXPIRED") this.holds.remove([hold.reservationId]);
      this.fail(error, "release");
    } finally {
      this.releasing.delete(hold.reservationId);
      if (onMap) this.grid.setPending(hold.seatNo, false);
    }
  }

  /** Best available: the server picks and holds a block of adjacent seats, which join the holds. */
  private async holdBest(request: BestRequest): Promise<void> {
    const map = this.seatMap;
    if (!map) return;
    clearAlert();
    if (!this.window.active) return notify("Your booking window has ended. Join the line again to hold more seats.");
    try {
      const { reservations } = await this.connection.request("reservations.best", {
        scheduleId: map.scheduleId,
        ...request,
      });
      const concertId = this.concertId ?? 0;
      this.holds.add(
        ...reservations.map((r) => ({
          reservationId: r.reservationId,
          scheduleId: r.scheduleId,
          seatNo: r.seatNo,
          price: r.price,
          concertId,
          expiresAt: Date.parse(r.expiresAt),
          name: r.section ? `seat ${r.label}, ${r.section}` : `seat ${r.label}`,
        })),
      );
      const labels = reservations.map((r) => r.label).join(", ");
      const where = reservations[0]?.section ? ` in ${reservations[0].section}` : "";
      notify(`Held for you: ${reservations.length === 1 ? "seat" : "seats"} ${labels}${where}.`);
    } catch (error) {
      // Over the allowance per request: the server says the most (MAX_HOLDS_PER_USER); so does the form from now on.
      const max = errorCode(error) === "INVALID_ARGUMENT" && /at most (\d+)/.exec((error as Error).message)?.[1];
      if (max) {
        this.best.limit(Number(max));
        alertError(error, "best");
        $("alert").textContent = `One person may hold at most ${max} seats at a time. Ask for ${max} or fewer.`;
        return;
      }
      this.fail(error, "best");
    }
  }

  private fail(error: unknown, action: "hold" | "best" | "release" | "browse" = "browse"): void {
    alertError(error, action);
    if (errorCode(error) === "TOKEN_INVALID") this.onWindowGone();
  }
}
