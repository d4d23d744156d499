// The seat map's DOM: a stage, then sections and rows in the organiser's order, one button per seat
// (its position in the row shown, its full label, state, price and category in its accessible
// name), patched per change; one tab stop (roving tabindex) with arrow-key movement. A schedule
// without a venue is today's wrapping grid of numbered seats. Buttons are real DOM for keyboards
// and screen readers; a large venue makes a row's buttons only when the row comes near the visible
// part of the map (IntersectionObserver), and rows skip layout and paint off screen
// (content-visibility), so a 50,000-seat stadium opens as fast as a hall; a row far from the view
// drops its buttons again, so panning across the whole stadium does not pile them up. A large
// schedule without a venue is drawn in lines of a fixed number of seats, made the same way.
import type { LayoutDocument, SeatChange, SeatMap, SeatStatus } from "../client/index.js";
import { count, won } from "./format.js";
import { LARGE_VENUE, type MapZoom } from "./mapZoom.js";
import { labelOf, linedPlan, type Plan, planOf, positionOf } from "./venuePlan.js";

/** Category colours in app.css: data-cat 0..7, repeating after that. */
export const CATEGORY_COLOURS = 8;

/** Seats per line of a large schedule without a venue (a fixed width, so that a line can be made alone). */
const SEATS_PER_LINE = 40;
/** A made row this far outside the map box (in box sizes) drops its buttons; rows are made 300 px before they show. */
const DROP_BEYOND = "200%";

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => escapes[c]!);

/** The layout of a map subscribed without one: one row at the first seat's price. */
function singleRowLayout(map: SeatMap): LayoutDocument {
  return {
    seatCount: map.size,
    categories: [{ name: "standard", price: map.price[0] ?? 0 }],
    sections: [{ name: "", rows: [{ name: "", first: 1, count: map.size, category: 0 }] }],
  };
}

export class SeatGrid {
  private buttons: (HTMLButtonElement | undefined)[] = [];
  private rowBoxes: HTMLElement[] = [];
  private filled = new Uint8Array(0);
  /** Makes rows near the view; drops made rows far from it (large schedules only). */
  private observer: IntersectionObserver | undefined;
  private recycler: IntersectionObserver | undefined;
  private focused = 0;
  private map: SeatMap | undefined;
  plan: Plan | undefined;
  private readonly mine = new Set<number>();
  private readonly pending = new Set<number>();

  constructor(
    private readonly container: HTMLElement,
    private readonly summary: HTMLElement,
    private readonly zoom: MapZoom,
    private readonly onPick: (seatNo: number) => void,
  ) {
    container.addEventListener("click", (event) => {
      // The second click of a double click would undo the first (release what was just held).
      if (event.detail > 1 || zoom.panned) return;
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-seat]");
      if (!button) return;
      // Too small to aim at: a click (not Enter or Space, detail 0) zooms in on the seat instead.
      if (event.detail > 0 && !zoom.selectable) return zoom.zoomTo(button);
      this.pick(Number(button.dataset.seat));
    });
    container.addEventListener("keydown", (event) => this.onKey(event));
  }

  get scheduleId(): number | undefined {
    return this.map?.scheduleId;
  }

  show(map: SeatMap, mine: Iterable<number>): void {
    this.observer?.disconnect();
    this.recycler?.disconnect();
    this.observer = this.recycler = undefined;
    this.map = map;
    let plan = planOf(map.layout ?? singleRowLayout(map));
    if (plan.single && plan.seatCount > LARGE_VENUE) plan = linedPlan(plan, SEATS_PER_LINE);
    this.plan = plan;
    const wrapping = plan.single && !plan.lined;
    this.mine.clear();
    this.pending.clear();
    for (const no of mine) this.mine.add(no);
    this.focused = 0;
    this.buttons = new Array(plan.seatCount);
    this.filled = new Uint8Array(plan.rows.length);
    this.container.dataset.kind = wrapping ? "single" : "venue";
    this.container.toggleAttribute("data-lined", plan.lined === true);
    const stage = `<div class="stage" aria-hidden="true">Stage</div>`;
    this.container.innerHTML = wrapping
      ? `${stage}<div class="single-grid" data-row="0"></div>`
      : `<div class="venue">${stage}${this.venueHtml(plan)}</div>`;
    // The venue is at least as wide as its widest row, so that the stage stays centred over it.
    this.container.style.setProperty("--widest", String(plan.widestRow));
    this.rowBoxes = Array.from(this.container.querySelectorAll<HTMLElement>("[data-row]"));
    const lazy = plan.seatCount > LARGE_VENUE && !wrapping;
    if (lazy) {
      this.observer = new IntersectionObserver((entries) => this.onVisible(entries), {
        root: this.container,
        rootMargin: "300px",
      });
      this.recycler = new IntersectionObserver((entries) => this.onFar(entries), {
        root: this.container,
        rootMargin: DROP_BEYOND,
      });
    }
    for (const [index, box] of this.rowBoxes.entries()) {
      box.style.setProperty("--n", String(plan.rows[index]!.count));
      if (!lazy) this.fill(index);
      else this.observer?.observe(box);
    }
    this.fill(0); // the tab stop is always there
    // Once every row has its width: the size the map opens at, and centred.
    this.zoom.reset(plan);
    this.updateSummary();
  }

  /** No map (the window ended before one could be loaded): say why instead. */
  clear(reason: string): void {
    this.observer?.disconnect();
    this.recycler?.disconnect();
    this.map = undefined;
    this.plan = undefined;
    this.buttons = [];
    this.container.replaceChildren();
    this.summary.textContent = `— ${reason}`;
  }

  apply(changes: readonly SeatChange[]): void {
    for (const { no } of changes) this.describe(no);
    this.updateSummary();
  }

  /** Marks exactly these seats as the fan's own holds. */
  syncMine(seatNos: Iterable<number>): void {
    const next = new Set(seatNos);
    const changed = [...this.mine].filter((no) => !next.has(no)).concat([...next].filter((no) => !this.mine.has(no)));
    this.mine.clear();
    for (const no of next) this.mine.add(no);
    for (const no of changed) this.describe(no);
  }

  /** A request about this seat is on its way (or queued while reconnecting). */
  setPending(seatNo: number, pending: boolean): void {
    if (pending) this.pending.add(seatNo);
    else this.pending.delete(seatNo);
    this.describe(seatNo);
  }

  isPending(seatNo: number): boolean {
    return this.pending.has(seatNo);
  }

  private venueHtml(plan: Plan): string {
    const html: string[] = [`<div class="sections">`];
    for (const section of plan.sections) {
      const name = escapeHtml(section.name);
      html.push(`<section class="vsection"${name ? ` aria-label="${name}"` : ""}>`);
      if (name) html.push(`<h4 class="section-name" aria-hidden="true">${name}</h4>`);
      for (const row of section.rows) {
        const rowName = escapeHtml(row.name);
        if (plan.lined) {
          const group = `seats ${row.first} to ${row.first + row.count - 1}`;
          html.push(`<div class="row-seats" role="group" aria-label="${group}" data-row="${row.index}"></div>`);
          continue;
        }
        const group = [name, rowName ? `row ${rowName}` : ""].filter(Boolean).join(", ");
        html.push(
          `<div class="vrow"><span class="row-name" aria-hidden="true">${rowName}</span>`,
          `<div class="row-seats" role="group" aria-label="${group}" data-row="${row.index}"></div>`,
          `<span class="row-name" aria-hidden="true">${rowName}</span></div>`,
        );
      }
      html.push("</section>");
    }
    html.push("</div>");
    return html.join("");
  }

  private onVisible(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const index = Number((entry.target as HTMLElement).dataset.row);
      this.fill(index);
      this.observer?.unobserve(entry.target);
    }
  }

  private onFar(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      if (!entry.isIntersecting) this.drop(Number((entry.target as HTMLElement).dataset.row));
    }
  }

  /**
   * A row far from the view gives its buttons back (its box keeps its size); it is made again, in
   * the seats' state then, when it nears the view. Never the row of the tab stop or of the focus.
   */
  private drop(index: number): void {
    const plan = this.plan;
    const row = plan?.rows[index];
    const box = this.rowBoxes[index];
    if (!plan || !row || !box || !this.filled[index]) return;
    const first = row.first - 1;
    if (this.focused >= first && this.focused < first + row.count) return;
    if (box.contains(document.activeElement)) return;
    box.replaceChildren();
    this.buttons.fill(undefined, first, first + row.count);
    this.filled[index] = 0;
    this.recycler?.unobserve(box);
    this.observer?.observe(box);
  }

  /** Makes a row's buttons, in the seats' current state. */
  private fill(index: number): void {
    const plan = this.plan;
    const row = plan?.rows[index];
    const box = this.rowBoxes[index];
    if (!plan || !row || !box || this.filled[index]) return;
    this.filled[index] = 1;
    const html: string[] = new Array(row.count);
    for (let k = 0; k < row.count; k++) html[k] = this.seatHtml(plan, row.first + k);
    box.innerHTML = html.join("");
    const made = box.children;
    for (let k = 0; k < made.length; k++) this.buttons[row.first - 1 + k] = made[k] as HTMLButtonElement;
    this.recycler?.observe(box);
  }

  private seatHtml(plan: Plan, no: number): string {
    const i = no - 1;
    const { status, mine, pending } = this.stateOf(no);
    const text = plan.single ? String(no) : String(positionOf(plan, no));
    return (
      `<button type="button" class="seat" data-seat="${no}" data-cat="${plan.category[i]! % CATEGORY_COLOURS}"` +
      `${plan.accessible[i] ? " data-acc" : ""}${text.length > 3 ? " data-long" : ""}` +
      ` data-status="${status}"${mine ? " data-mine" : ""}${pending ? " data-pending" : ""}` +
      ` tabindex="${i === this.focused ? 0 : -1}" aria-label="${escapeHtml(this.nameOf(no))}"` +
      ` aria-disabled="${pending || (status !== "available" && !mine)}">${text}</button>`
    );
  }

  private stateOf(no: number): { status: SeatStatus; mine: boolean; pending: boolean } {
    const status = (this.map?.status[no - 1] ?? "available") as SeatStatus;
    return { status, mine: this.mine.has(no) && status === "held", pending: this.pending.has(no) };
  }

  /** "Seat 5, available, 50,000 won", or with a venue "Seat B-12, Stalls, available, 150,000 won, Premium, accessible". */
  private nameOf(no: number): string {
    const plan = this.plan!;
    const { status, mine, pending } = this.stateOf(no);
    const state = pending
      ? "waiting for the server"
      : mine
        ? "held by you, press to release"
        : status === "held"
          ? "held by someone else"
          : status;
    const price = won(this.map?.price[no - 1] ?? 0);
    if (plan.single) return `Seat ${no}, ${state}, ${price}`;
    const section = plan.sections[plan.rows[plan.rowOf[no - 1]!]!.section]!.name;
    const category = plan.categories[plan.category[no - 1]!]?.name;
    return [`Seat ${labelOf(plan, no)}`, section, state, price, category, plan.accessible[no - 1] ? "accessible" : ""]
      .filter(Boolean)
      .join(", ");
  }

  private describe(no: number): void {
    const button = this.buttons[no - 1];
    if (!button || !this.map) return;
    const { status, mine, pending } = this.stateOf(no);
    button.dataset.status = status;
    button.toggleAttribute("data-mine", mine);
    button.toggleAttribute("data-pending", pending);
    button.setAttribute("aria-label", this.nameOf(no));
    button.setAttribute("aria-disabled", String(pending || (status !== "available" && !mine)));
  }

  private updateSummary(): void {
    const map = this.map;
    if (!map) return;
    this.summary.textContent = `— ${count(map.count("available"))} available, ${count(map.count("held"))} held, ${count(
      map.count("sold"),
    )} sold`;
  }

  private pick(no: number): void {
    this.moveFocus(no - 1, false);
    this.onPick(no);
  }

  /** Seats per line of the wrapping grid of a schedule without a venue. */
  private columns(): number {
    const grid = this.rowBoxes[0];
    if (!grid) return 1;
    return Math.max(1, getComputedStyle(grid).gridTemplateColumns.split(" ").filter(Boolean).length);
  }

  private onKey(event: KeyboardEvent): void {
    const plan = this.plan;
    if (!plan) return;
    const at = this.focused;
    const row = plan.rows[plan.rowOf[at]!]!;
    let target: number | undefined;
    if (event.key === "ArrowRight") target = at + 1;
    else if (event.key === "ArrowLeft") target = at - 1;
    else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const up = event.key === "ArrowUp";
      if (plan.single && !plan.lined) target = at + (up ? -1 : 1) * this.columns();
      else {
        // Rows are centred: the seat above is at the same distance from the middle.
        const next = plan.rows[row.index + (up ? -1 : 1)];
        const k = at - (row.first - 1) + Math.round(((next?.count ?? 0) - row.count) / 2);
        target = next ? next.first - 1 + Math.max(0, Math.min(next.count - 1, k)) : at;
      }
    } else if (event.key === "Home") target = plan.single && !plan.lined ? 0 : row.first - 1;
    else if (event.key === "End")
      target = plan.single && !plan.lined ? plan.seatCount - 1 : row.first - 1 + row.count - 1;
    if (target === undefined) return;
    event.preventDefault();
    this.moveFocus(Math.max(0, Math.min(plan.seatCount - 1, target)), true);
  }

  private moveFocus(index: number, focus: boolean): void {
    const plan = this.plan;
    if (plan) this.fill(plan.rowOf[index]!);
    const previous = this.buttons[this.focused];
    const next = this.buttons[index];
    if (!next) return;
    if (previous) previous.tabIndex = -1;
    next.tabIndex = 0;
    this.focused = index;
    if (focus) next.focus();
  }
}
