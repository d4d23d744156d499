// The fan's place in a waiting room (the site's, or an on-sale's, named with its opening in the
// venue's time) and their booking window (the active queue token): the countdown to the opening
// before the draw, the line while waiting, the time left while active, sold out, and once it ends,
// that holds can still be paid and that rejoining the line is an offer, never automatic.
import type { QueuePush, QueueStatus } from "../client/index.js";
import { $, announce } from "./dom.js";
import { clock, count, countdown, dateTime } from "./format.js";

export type WindowState =
  | { kind: "none" }
  | { kind: "checking" }
  | { kind: "pre"; opensAt: number }
  | { kind: "waiting"; position: number; waiting: number; etaSeconds: number }
  | { kind: "active"; expiresAt: number }
  | { kind: "ended"; reason: string }
  | { kind: "soldout" };

/** The on-sale whose room the page is in, as onsales.list describes it. */
export interface RoomView {
  concertId: number;
  title: string;
  timeZone: string;
  state: "scheduled" | "open" | "paused" | "soldout";
  opensAt: string | null;
}

const ENDED_TEXT: Record<string, string> = {
  expired: "Your booking window has ended.",
  ended: "Your booking is done.",
  idle: "You left the line while away from this page.",
};

export class BookingWindow {
  state: WindowState = { kind: "none" };
  /** The on-sale's room the page is in; undefined for the site room. */
  room: RoomView | undefined;

  constructor(
    /** The window ran out by the clock (the server's push may come a tick later). */
    private readonly onTimeUp: () => void,
  ) {
    setInterval(() => this.tick(), 1000);
  }

  get active(): boolean {
    return this.state.kind === "active";
  }

  /** A queue.check reply or a queue push: returns the new state. */
  apply(status: QueueStatus | QueuePush): WindowState {
    if (status.status === "expired") this.state = { kind: "ended", reason: (status as QueuePush).reason ?? "expired" };
    else if (status.status === "soldout") this.state = { kind: "soldout" };
    else if (status.status === "active")
      this.state = { kind: "active", expiresAt: Date.parse(status.expiresAt ?? "") || Date.now() };
    else if (status.status === "pre") this.state = { kind: "pre", opensAt: Date.parse(status.opensAt ?? "") };
    else
      this.state = {
        kind: "waiting",
        position: status.position ?? 0,
        waiting: status.waiting ?? 0,
        etaSeconds: status.etaSeconds ?? 0,
      };
    return this.state;
  }

  set(state: WindowState): void {
    this.state = state;
  }

  /** The banner's countdown is not a live region (it would speak every second): changes are said once. */
  announceChange(before: WindowState["kind"], holding: number): void {
    const state = this.state;
    if (state.kind === before) return;
    const where = this.room ? ` for ${this.room.title}` : "";
    if (state.kind === "active") announce(`You're in${where}. Your booking window is open. Pick your seats.`);
    else if (state.kind === "soldout") announce(`Sold out${where}.`);
    else if (before === "pre" && state.kind === "waiting")
      announce(`The draw ran: you are number ${count(state.position)} in line.`);
    else if (before === "active" && state.kind === "ended")
      announce(`Your booking window has ended.${holding > 0 ? " You can still pay for the seats you hold." : ""}`);
  }

  /** Draws the waiting-room section and the banner over the map, for a fan with `holding` holds. */
  render(holding: number): void {
    const state = this.state;
    const rejoin = state.kind === "ended" || state.kind === "none";
    $("queue-rejoin").hidden = !rejoin && state.kind !== "soldout";
    $("window-rejoin").hidden = !rejoin;
    $("queue").dataset.state = state.kind;
    $("queue-figures").hidden = state.kind !== "waiting";
    $("window").dataset.state = state.kind;
    this.renderRoom();
    if (state.kind === "waiting") {
      $("queue-status").textContent =
        holding > 0
          ? "You are back in line for more seats. Meanwhile you can still pay for the seats you hold."
          : this.room?.state === "paused"
            ? "You are in line. Admission is paused for now; you keep your place, and this page lets you in by itself once it resumes."
            : "You are in line. This page lets you in by itself when it is your turn.";
      $("queue-position").textContent = count(state.position);
      $("queue-waiting").textContent = count(state.waiting);
      $("queue-eta").textContent =
        this.room?.state === "paused"
          ? "paused"
          : state.etaSeconds < 60
            ? `${state.etaSeconds} s`
            : `${Math.ceil(state.etaSeconds / 60)} min`;
    } else {
      for (const id of ["queue-position", "queue-waiting", "queue-eta"]) $(id).textContent = "–";
      $("queue-status").textContent = this.statusText();
    }
    $("queue-rejoin").textContent =
      state.kind === "soldout" ? "Check again" : state.kind === "none" ? "Join the line" : "Join the line again";
    this.renderBanner(holding);
  }

  private statusText(): string {
    const state = this.state;
    const title = this.room?.title ?? "this concert";
    switch (state.kind) {
      case "pre":
        return state.opensAt > Date.now()
          ? "You are in the pre-queue. At the opening a random draw puts everyone here in order, so arriving early " +
              "or reloading gains nothing and loses nothing. Keep this page open: it follows the draw by itself."
          : "Opening now: the draw is putting everyone in the pre-queue in order…";
      case "soldout":
        // The server calls an on-sale sold out only when no seat is free and none is held: every
        // seat is paid for, so none can come back.
        return `Sold out: every seat of ${title} has been sold.`;
      case "ended":
        return `${ENDED_TEXT[state.reason] ?? ENDED_TEXT.expired} Join the line again to book more seats.`;
      case "checking":
        return "Checking your place in line…";
      default:
        return "Join the line to book seats.";
    }
  }

  /** The on-sale's name and opening, and before the opening the countdown to it. */
  private renderRoom(): void {
    const room = this.room;
    $("queue-title").textContent = room ? `Waiting room: ${room.title}` : "Waiting room";
    const opening = $("queue-opening");
    opening.hidden = !room?.opensAt;
    if (room?.opensAt) {
      const before = Date.parse(room.opensAt) > Date.now();
      opening.textContent = `${before ? "Opens" : "Opened"} ${dateTime(room.opensAt, room.timeZone)}`;
    }
    this.renderOpeningCountdown();
  }

  private renderOpeningCountdown(): void {
    const state = this.state;
    const counting = state.kind === "pre" && state.opensAt > Date.now();
    $("queue-countdown").hidden = !counting;
    if (counting) $("queue-opens-in").textContent = countdown(state.opensAt);
  }

  private renderBanner(holding: number): void {
    const state = this.state;
    const text = $("window-text");
    if (state.kind === "active") {
      const room = this.room;
      text.textContent = room
        ? `You're in for ${room.title}: ${countdown(state.expiresAt)} of booking time left (until ${clock(state.expiresAt, room.timeZone)}).`
        : `Your booking window: ${countdown(state.expiresAt)} left (until ${clock(state.expiresAt)}).`;
      return;
    }
    const pay = holding > 0 ? " You can still pay for or release the seats you hold." : "";
    text.textContent =
      state.kind === "waiting"
        ? `Your booking window has ended; you are in line again (position ${count(state.position)}).${pay}`
        : state.kind === "checking"
          ? `Checking your place in line…${pay}`
          : state.kind === "pre"
            ? `You are in the pre-queue of ${this.room?.title ?? "an on-sale"}.${pay}`
            : state.kind === "soldout"
              ? `${this.room?.title ?? "This concert"} is sold out.${pay}`
              : `Your booking window has ended.${pay} To hold more seats, join the line again.`;
  }

  private tick(): void {
    const state = this.state;
    if (state.kind === "pre") {
      this.renderRoom();
      if (state.opensAt <= Date.now()) $("queue-status").textContent = this.statusText();
      return;
    }
    if (state.kind !== "active") return;
    if (state.expiresAt <= Date.now()) this.onTimeUp();
    else this.renderBanner(0);
  }
}
