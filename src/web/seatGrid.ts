// The seat map's DOM: one button per seat, rendered once, then patched per change; one tab stop
// (roving tabindex) with arrow-key movement, so 2,000 seats stay fast and keyboard-friendly.
import type { SeatChange, SeatMap, SeatStatus } from "../client/index.js";

const won = new Intl.NumberFormat("en");

export class SeatGrid {
  private buttons: HTMLButtonElement[] = [];
  private focused = 0;
  private columns = 10;
  private map: SeatMap | undefined;
  private readonly mine = new Set<number>();

  constructor(
    private readonly container: HTMLElement,
    private readonly summary: HTMLElement,
    private readonly onPick: (seatNo: number) => void,
  ) {
    container.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-seat]");
      if (button) this.pick(Number(button.dataset.seat));
    });
    container.addEventListener("keydown", (event) => this.onKey(event));
  }

  show(map: SeatMap, mine: Iterable<number>): void {
    this.map = map;
    this.mine.clear();
    for (const no of mine) this.mine.add(no);
    this.columns = map.size <= 100 ? 10 : 40;
    this.container.style.setProperty("--cols", String(this.columns));
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

  apply(changes: readonly SeatChange[]): void {
    for (const { no } of changes) this.describe(no);
    this.updateSummary();
  }

  setMine(seatNo: number, mine: boolean): void {
    if (mine) this.mine.add(seatNo);
    else this.mine.delete(seatNo);
    this.describe(seatNo);
  }

  private describe(no: number): void {
    const button = this.buttons[no - 1];
    const map = this.map;
    if (!button || !map) return;
    const status = map.status[no - 1] as SeatStatus;
    const mine = this.mine.has(no) && status === "held";
    button.dataset.status = status;
    if (mine) button.dataset.mine = "true";
    else delete button.dataset.mine;
    const state = mine ? "held by you, press to release" : status === "available" ? "available" : `${status}`;
    button.setAttribute("aria-label", `Seat ${no}, ${state}, ${won.format(map.price[no - 1] ?? 0)} won`);
    button.setAttribute("aria-disabled", String(status !== "available" && !mine));
  }

  private updateSummary(): void {
    const map = this.map;
    if (!map) return;
    this.summary.textContent = `— ${won.format(map.count("available"))} available, ${won.format(
      map.count("held"),
    )} held, ${won.format(map.count("sold"))} sold`;
  }

  private pick(no: number): void {
    this.moveFocus(no - 1, false);
    this.onPick(no);
  }

  private onKey(event: KeyboardEvent): void {
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: this.columns,
      ArrowUp: -this.columns,
    };
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
