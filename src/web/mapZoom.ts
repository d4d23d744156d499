// Zoom and pan of the seat map: seat sizes in steps (−, +, Fit, Ctrl+wheel or a touchpad pinch),
// panning by the map box's own scrolling (touch, wheel, scroll bars) or by dragging with a mouse.
// A two-finger pinch on the map zooms the map (touch-action leaves only panning to the browser), in
// the same steps, around the point between the fingers.
// Below the size where a seat is a fair target, a click zooms in on the seat instead of holding it.
import type { Plan } from "./venuePlan.js";

/** Seat sizes in CSS px, smallest first. */
export const SEAT_SIZES = [6, 10, 16, 24, 28, 36] as const;
/** Seats under this are drawn without their numbers or row names (an overview). */
const LABELS_FROM = 16;
/** Space between seats: less when they are small, so that a hall's widest row fits a desktop box at 16 px. */
const gapFor = (px: number) => (px >= 24 ? 3 : px >= LABELS_FROM ? 2 : 1);
/** Schedules above this many seats open zoomed out to fit; smaller ones at a size that can be tapped. */
export const LARGE_VENUE = 5000;

export class MapZoom {
  private level = 4;
  private plan: Plan | undefined;
  private drag: { x: number; y: number; left: number; top: number; moved: boolean } | undefined;
  /** A two-finger pinch in progress: the fingers' distance and the seat size when it started, where they are now. */
  private pinch: { distance: number; seatPx: number; at: { x: number; y: number } } | undefined;
  /** A drag that panned ends in a click that must not pick a seat. */
  private swallowClick = false;

  constructor(
    private readonly box: HTMLElement,
    private readonly controls: { in: HTMLButtonElement; out: HTMLButtonElement; fit: HTMLButtonElement },
    private readonly hint: HTMLElement,
  ) {
    controls.in.addEventListener("click", () => this.set(this.level + 1));
    controls.out.addEventListener("click", () => this.set(this.level - 1));
    controls.fit.addEventListener("click", () => this.set(this.fitLevel()));
    box.addEventListener(
      "wheel",
      (event) => {
        if (!event.ctrlKey) return;
        event.preventDefault();
        this.set(this.level + (event.deltaY < 0 ? 1 : -1), { x: event.clientX, y: event.clientY });
      },
      { passive: false },
    );
    box.addEventListener("pointerdown", (event) => {
      if (event.pointerType !== "mouse" || event.button !== 0) return;
      this.drag = { x: event.clientX, y: event.clientY, left: box.scrollLeft, top: box.scrollTop, moved: false };
    });
    box.addEventListener("pointermove", (event) => {
      const drag = this.drag;
      if (!drag) return;
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 6) return;
      drag.moved = true;
      box.scrollLeft = drag.left - dx;
      box.scrollTop = drag.top - dy;
    });
    const endDrag = () => {
      if (this.drag?.moved) this.swallowClick = true;
      this.drag = undefined;
      setTimeout(() => {
        this.swallowClick = false;
      }, 0);
    };
    box.addEventListener("pointerup", endDrag);
    box.addEventListener("pointercancel", endDrag);
    this.listenForPinch();
  }

  /** Touch events, not pointer events: the two fingers arrive together, and preventDefault stops the browser panning meanwhile. */
  private listenForPinch(): void {
    const box = this.box;
    box.addEventListener(
      "touchstart",
      (event) => {
        if (event.touches.length !== 2) return;
        this.pinch = { distance: spread(event.touches), seatPx: this.seatPx, at: midpoint(event.touches) };
      },
      { passive: true },
    );
    box.addEventListener(
      "touchmove",
      (event) => {
        const pinch = this.pinch;
        if (!pinch || event.touches.length !== 2) return;
        // Not cancelable once the browser has begun panning with the first finger: it pans on, we still zoom.
        if (event.cancelable) event.preventDefault();
        // The step nearest to the size the fingers ask for, in proportion (a log scale, as the steps are).
        const wanted = pinch.seatPx * (spread(event.touches) / Math.max(1, pinch.distance));
        let level = 0;
        SEAT_SIZES.forEach((px, at) => {
          if (Math.abs(Math.log(px / wanted)) < Math.abs(Math.log(SEAT_SIZES[level]! / wanted))) level = at;
        });
        // Fingers that move together pan the map with them (the browser's panning is off meanwhile).
        const at = midpoint(event.touches);
        this.box.scrollLeft -= at.x - pinch.at.x;
        this.box.scrollTop -= at.y - pinch.at.y;
        pinch.at = at;
        this.set(level, at);
      },
      { passive: false },
    );
    const endPinch = (event: TouchEvent) => {
      if (event.touches.length < 2) this.pinch = undefined;
    };
    box.addEventListener("touchend", endPinch);
    box.addEventListener("touchcancel", endPinch);
  }

  get seatPx(): number {
    return SEAT_SIZES[this.level]!;
  }

  /** Whether a pointer may hold seats at this size (keyboard users always may). */
  get selectable(): boolean {
    return this.seatPx >= this.selectPx();
  }

  /** The click ended a drag: not a pick. */
  get panned(): boolean {
    return this.swallowClick;
  }

  /** A new map: the size it opens at. */
  reset(plan: Plan): void {
    this.plan = plan;
    const fit = this.fitLevel();
    let level: number;
    if (plan.single && !plan.lined) level = SEAT_SIZES.indexOf(28);
    else if (plan.seatCount > LARGE_VENUE) level = Math.min(fit, SEAT_SIZES.indexOf(28));
    else level = Math.min(Math.max(fit, this.selectLevel()), SEAT_SIZES.indexOf(28));
    this.apply(level);
    this.box.scrollTo(0, 0);
    // Rows are centred: start at the middle of a map wider than its box.
    this.box.scrollLeft = (this.box.scrollWidth - this.box.clientWidth) / 2;
  }

  /** Zooms in to where seats can be picked, with `seat` in the middle of the box. */
  zoomTo(seat: HTMLElement): void {
    this.apply(Math.max(this.level, this.selectLevel()));
    seat.scrollIntoView({ block: "center", inline: "center" });
  }

  set(level: number, anchor?: { x: number; y: number }): void {
    const next = Math.max(0, Math.min(SEAT_SIZES.length - 1, level));
    if (next === this.level) return;
    const rect = this.box.getBoundingClientRect();
    const ax = (anchor?.x ?? rect.left + rect.width / 2) - rect.left;
    const ay = (anchor?.y ?? rect.top + rect.height / 2) - rect.top;
    // The seat (or row) under the anchor stays under it: sections re-wrap and row names come and go
    // between sizes, so scaling the scroll offsets alone would drift.
    const hit = document
      .elementFromPoint(rect.left + ax, rect.top + ay)
      ?.closest<HTMLElement>("[data-seat], [data-row]");
    const held = hit && this.box.contains(hit) ? hit : undefined;
    const was = held?.getBoundingClientRect();
    const before = this.pitch();
    const x = this.box.scrollLeft + ax;
    const y = this.box.scrollTop + ay;
    this.apply(next);
    if (held && was && was.width > 0 && was.height > 0) {
      const now = held.getBoundingClientRect();
      this.box.scrollLeft += now.left + ((rect.left + ax - was.left) / was.width) * now.width - (rect.left + ax);
      this.box.scrollTop += now.top + ((rect.top + ay - was.top) / was.height) * now.height - (rect.top + ay);
      return;
    }
    // Nothing under the anchor (the stage, a gap between sections): the offsets in proportion.
    const ratio = this.pitch() / before;
    this.box.scrollLeft = x * ratio - ax;
    this.box.scrollTop = y * ratio - ay;
  }

  private apply(level: number): void {
    this.level = level;
    const px = this.seatPx;
    this.box.style.setProperty("--seat", `${px}px`);
    this.box.style.setProperty("--gap", `${gapFor(px)}px`);
    this.box.dataset.zoom = px >= LABELS_FROM ? "labels" : "overview";
    this.box.dataset.seatPx = String(px);
    this.box.toggleAttribute("data-selectable", this.selectable);
    this.controls.in.disabled = level === SEAT_SIZES.length - 1;
    this.controls.out.disabled = level === 0;
    this.hint.textContent = this.selectable ? "" : "Zoomed out: tap a block to zoom in and pick seats.";
  }

  private pitch(): number {
    return this.seatPx + gapFor(this.seatPx);
  }

  /** Mouse pointers can aim at 16 px seats; fingers and narrow screens get 24 px (WCAG 2.5.8). */
  private selectPx(): number {
    const narrow = this.box.clientWidth > 0 && this.box.clientWidth < 600;
    return narrow || matchMedia("(pointer: coarse)").matches ? 24 : 16;
  }

  private selectLevel(): number {
    return SEAT_SIZES.findIndex((px) => px >= this.selectPx());
  }

  /** The largest size at which the widest row fits the box. */
  private fitLevel(): number {
    const plan = this.plan;
    const width = this.box.clientWidth;
    if (!plan || width === 0) return this.selectLevel();
    let fit = 0;
    SEAT_SIZES.forEach((px, level) => {
      // Row names on both sides, and the section's and the box's padding and borders.
      const names = px >= LABELS_FROM ? 2 * 24 : 0;
      if (plan.widestRow * (px + gapFor(px)) + names + 28 <= width) fit = level;
    });
    return fit;
  }
}

function spread(touches: TouchList): number {
  const [a, b] = [touches[0]!, touches[1]!];
  return Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY);
}

function midpoint(touches: TouchList): { x: number; y: number } {
  const [a, b] = [touches[0]!, touches[1]!];
  return { x: (a.clientX + b.clientX) / 2, y: (a.clientY + b.clientY) / 2 };
}
