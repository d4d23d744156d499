// The seat map's DOM: one button per seat, rendered once, then patched per change; one tab stop
// (roving tabindex) with arrow-key movement, so 2,000 seats stay fast and keyboard-friendly. The
// grid wraps to the width of its box (CSS auto-fill), so arrow keys read the column count from it.
import type { SeatChange, SeatMap, SeatStatus } from "../client/index.js";
import { count, won } from "./format.js";

export class SeatGrid {
  private buttons: HTMLButtonElement[] = [];
  private focused = 0;
  private map: SeatMap | undefined;
  private readonly mine = new Set<number>();
  private readonly pending = new Set<number>();

  constructor(
    private readonly container: HTMLElement,
    private readonly summary: HTMLElement,
    private readonly onPick: (seatNo: number) => void,
  ) {
    container.addEventListener("click", (event) => {
      // The second click of a double click would undo the first (release what was just held).
      if (event.detail > 1) return;
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-seat]");
      if (button) this.pick(Number(button.dataset.seat));
    });
    container.addEventListener("keydown", (event) => this.onKey(event));
  }

  get scheduleId(): number | undefined {
    return this.map?.scheduleId;
  }

  show(map: SeatMap, mine: Iterable<number>): void {
    this.map = map;
    this.mine.clear();
    this.pending.clear();
    for (const no of mine) this.mine.add(no);
    const html: string[] = new Array(map.size);
    for (let i = 0; i < map.size; i++) {
      const no = i + 1;
      html[i] =
        `<button type="button" class="seat" data-seat="${no}" tabindex="${i === 0 ? 0 : -1}"` +
        ` data-status="${map.status[i]}">${no}</button>`;
    }
    this.container.innerHTML = html.join("");
    this.buttons = Array.from(this.container.querySelectorAll<HTMLButtonElement>("button[data-seat]"));
    this.focused = 0;
    for (let i = 0; i < this.buttons.length; i++) this.describe(i + 1);
    this.updateSummary();
  }

  /** No map (the window ended before one could be loaded): say why instead. */
  clear(reason: string): void {
    this.map = undefined;
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

  private describe(no: number): void {
    const button = this.buttons[no - 1];
    const map = this.map;
    if (!button || !map) return;
    const status = map.status[no - 1] as SeatStatus;
    const mine = this.mine.has(no) && status === "held";
    const pending = this.pending.has(no);
    button.dataset.status = status;
    button.toggleAttribute("data-mine", mine);
    button.toggleAttribute("data-pending", pending);
    const state = pending
      ? "waiting for the server"
      : mine
        ? "held by you, press to release"
        : status === "held"
          ? "held by someone else"
          : status;
    button.setAttribute("aria-label", `Seat ${no}, ${state}, ${won(map.price[no - 1] ?? 0)}`);
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

  /** Seats per row as laid out now (the grid wraps to its box). */
  private columns(): number {
    const template = getComputedStyle(this.container).gridTemplateColumns;
    return Math.max(1, template.split(" ").filter(Boolean).length);
  }

  private onKey(event: KeyboardEvent): void {
    const columns = this.columns();
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
    let target: number | undefined;
    if (event.key in moves) target = this.focused + moves[event.key]!;
    else if (event.key === "Home") target = 0;
    else if (event.key === "End") target = this.buttons.length - 1;
    if (target === undefined) return;
    event.preventDefault();
    this.moveFocus(Math.max(0, Math.min(this.buttons.length - 1, target)), true);
  }

  private moveFocus(index: number, focus: boolean): void {
    const previous = this.buttons[this.focused];
    const next = this.buttons[index];
    if (!next) return;
    if (previous) previous.tabIndex = -1;
    next.tabIndex = 0;
    this.focused = index;
    if (focus) next.focus();
  }
}
