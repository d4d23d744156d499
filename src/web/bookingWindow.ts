// The fan's place in the waiting room and their booking window (the active queue token): the line
// while waiting, the time left while active, and once it ends, that holds can still be paid and
// that rejoining the line is an offer, never automatic.
import type { QueuePush, QueueStatus } from "../client/index.js";
import { $, announce } from "./dom.js";
import { clock, count, countdown } from "./format.js";

export type WindowState =
  | { kind: "none" }
  | { kind: "checking" }
  | { kind: "waiting"; position: number; waiting: number; etaSeconds: number }
  | { kind: "active"; expiresAt: number }
  | { kind: "ended"; reason: string };

const ENDED_TEXT: Record<string, string> = {
  expired: "Your booking window has ended.",
  ended: "Your booking is done.",
  idle: "You left the line while away from this page.",
};

export class BookingWindow {
  state: WindowState = { kind: "none" };

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
    else if (status.status === "active")
      this.state = { kind: "active", expiresAt: Date.parse(status.expiresAt ?? "") || Date.now() };
    else
      this.state = {
        kind: "waiting",
        // The site room has no pre-queue: its positions and estimates are numbers.
        position: status.position ?? 0,
        waiting: status.waiting,
        etaSeconds: status.etaSeconds ?? 0,
      };
    return this.state;
  }

  set(state: WindowState): void {
    this.state = state;
  }

  /** The banner's countdown is not a live region (it would speak every second): changes are said once. */
  announceChange(before: WindowState["kind"], holding: number): void {
    const now = this.state.kind;
    if (now === before) return;
    if (now === "active") announce("Your booking window is open. Pick your seats.");
    else if (before === "active" && now === "ended")
      announce(`Your booking window has ended.${holding > 0 ? " You can still pay for the seats you hold." : ""}`);
  }

  /** Draws the waiting-room section and the banner over the map, for a fan with `holding` holds. */
  render(holding: number): void {
    const state = this.state;
    const rejoin = state.kind === "ended" || state.kind === "none";
    $("queue-rejoin").hidden = !rejoin;
    $("window-rejoin").hidden = !rejoin;
    $("queue").dataset.state = state.kind;
    $("queue-figures").hidden = state.kind !== "waiting";
    $("window").dataset.state = state.kind;
    if (state.kind === "waiting") {
      $("queue-status").textContent =
        holding > 0
          ? "You are back in line for more seats. Meanwhile you can still pay for the seats you hold."
          : "You are in line. This page lets you in by itself when it is your turn.";
      $("queue-position").textContent = count(state.position);
      $("queue-waiting").textContent = count(state.waiting);
      $("queue-eta").textContent =
        state.etaSeconds < 60 ? `${state.etaSeconds} s` : `${Math.ceil(state.etaSeconds / 60)} min`;
    } else {
      for (const id of ["queue-position", "queue-waiting", "queue-eta"]) $(id).textContent = "–";
      $("queue-status").textContent =
        state.kind === "ended"
          ? `${ENDED_TEXT[state.reason] ?? ENDED_TEXT.expired} Join the line again to book more seats.`
          : state.kind === "checking"
            ? "Checking your place in line…"
            : "Join the line to book seats.";
    }
    $("queue-rejoin").textContent = state.kind === "none" ? "Join the line" : "Join the line again";
    this.renderBanner(holding);
  }

  private renderBanner(holding: number): void {
    const state = this.state;
    const text = $("window-text");
    if (state.kind === "active") {
      text.textContent = `Your booking window: ${countdown(state.expiresAt)} left (until ${clock(state.expiresAt)}).`;
      return;
    }
    const pay = holding > 0 ? " You can still pay for or release the seats you hold." : "";
    text.textContent =
      state.kind === "waiting"
        ? `Your booking window has ended; you are in line again (position ${count(state.position)}).${pay}`
        : state.kind === "checking"
          ? `Checking your place in line…${pay}`
          : `Your booking window has ended.${pay} To hold more seats, join the line again.`;
  }

  private tick(): void {
    if (this.state.kind !== "active") return;
    if (this.state.expiresAt <= Date.now()) this.onTimeUp();
    else this.renderBanner(0);
  }
}
