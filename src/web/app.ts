// The demo page: sign in (kept across reloads in sessionStorage), the waiting room and the booking
// window, seats, holds and payment. This file wires the parts and decides which sections show;
// each part owns its piece of the DOM. dev.login goes over HTTP, everything else over one WebSocket.
import { HttpClient, type QueuePush, type QueueStatus, type SessionEvent } from "../client/index.js";
import { Booking } from "./booking.js";
import { BookingWindow, type WindowState } from "./bookingWindow.js";
import { Catalog } from "./catalog.js";
import { Checkout } from "./checkout.js";
import { Connection } from "./connection.js";
import { $, alertError, clearAlert, notify } from "./dom.js";
import { Holds } from "./holds.js";
import { clearSession, loadSession, type SavedSession, saveSession, sessionRanOut } from "./sessionStore.js";

const RENEW_BEFORE_MS = 60_000;

const http = new HttpClient({ baseUrl: "" });
const catalog = new Catalog();
const connection = new Connection();
const bookingWindow = new BookingWindow(() => windowEnded("expired"));
const holds = new Holds(catalog, (hold) => void booking.release(hold));
const booking = new Booking(connection, holds, catalog, bookingWindow, () => windowEnded("expired"));
const checkout = new Checkout(connection, holds, catalog, resyncHolds);
let saved: SavedSession | undefined;
let signingIn = false;
let joining = false;
let renewTimer: ReturnType<typeof setTimeout> | undefined;
/** The window state last drawn, to announce changes once. */
let shownWindow: WindowState["kind"] = "none";

holds.onChange(render);

function render(): void {
  const state = bookingWindow.state.kind;
  const holding = holds.size;
  bookingWindow.announceChange(shownWindow, holding);
  shownWindow = state;
  $("booking").dataset.window = state;
  $("login").hidden = saved !== undefined;
  $("queue").hidden = !saved || !(state === "waiting" || state === "checking" || (state !== "active" && holding === 0));
  $("booking").hidden = !saved || !(state === "active" || holding > 0);
  $("sign-out").hidden = !saved;
  $("who").textContent = saved ? `Signed in as ${saved.userId}` : "";
  bookingWindow.render(holding);
  booking.renderWindow();
}

/** Keeps the in-memory and the stored session in step. */
function remember(patch: Partial<SavedSession>): void {
  if (!saved) return;
  saved = { ...saved, ...patch };
  saveSession(saved);
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  void signIn();
});

async function signIn(): Promise<void> {
  if (signingIn || saved) return; // a double click opens one session
  const submit = $<HTMLButtonElement>("login-submit");
  signingIn = true;
  submit.disabled = true;
  clearAlert();
  try {
    const login = await http.call("dev.login", { name: $<HTMLInputElement>("login-name").value.trim() });
    saved = { jwt: login.token, jwtExpiresAt: Date.parse(login.expiresAt), userId: login.userId };
    saveSession(saved);
  } catch (error) {
    alertError(error, "login");
    return;
  } finally {
    signingIn = false;
    submit.disabled = false;
  }
  start();
  await joinQueue();
}

/** A signed-in page: the socket, the holds and balance as the server has them. */
function start(): void {
  connection.open(() => saved?.jwt ?? "", onSessionEvent);
  scheduleRenewal();
  render();
  resyncHolds().catch((error) => alertError(error, "list"));
  checkout.refreshBalance().catch((error) => alertError(error));
}

/** After a reload: the saved sign-in, the same place in line or window, the holds from the server. */
function resume(): void {
  const found = loadSession();
  if (!found) {
    if (sessionRanOut()) notify("Your demo sign-in ran out. Sign in with the same name to see the seats you hold.");
    clearSession();
    render();
    return;
  }
  saved = found;
  start();
  const { queueToken, queueStatus, queueExpiresAt = 0 } = found;
  // An active window that ran out meanwhile is not renewed by itself: checking in again would be a
  // new place at the back of the line, which the fan is offered instead.
  if (queueToken && (queueStatus !== "active" || queueExpiresAt > Date.now())) void joinQueue(queueToken);
  else if (queueToken || queueStatus === "ended") windowEnded("expired");
  else render();
}

async function joinQueue(token?: string): Promise<void> {
  if (joining) return;
  joining = true;
  const state = bookingWindow.state.kind;
  if (state !== "active" && state !== "waiting") bookingWindow.set({ kind: "checking" });
  render();
  try {
    onQueue(await connection.request("queue.check", token ? { token } : {}));
  } catch (error) {
    alertError(error, "queue");
    if (bookingWindow.state.kind === "checking") bookingWindow.set({ kind: "none" });
    render();
  } finally {
    joining = false;
  }
}

for (const id of ["queue-rejoin", "window-rejoin"]) {
  $(id).addEventListener("click", () => {
    clearAlert();
    $("confirmation").hidden = true;
    void joinQueue();
  });
}

function onQueue(status: QueueStatus | QueuePush): void {
  // A late push about a token this page has moved on from says nothing about the current one.
  if (status.status === "expired" && status.token !== saved?.queueToken) return;
  const before = bookingWindow.state.kind;
  const state = bookingWindow.apply(status);
  if (state.kind === "ended") {
    connection.forgetQueueToken();
    remember({ queueToken: undefined, queueStatus: "ended", queueExpiresAt: undefined });
  } else if (state.kind === "active" || state.kind === "waiting") {
    const expiresAt = status.expiresAt ? Date.parse(status.expiresAt) : undefined;
    remember({ queueToken: status.token, queueStatus: state.kind, queueExpiresAt: expiresAt });
  }
  render();
  if (state.kind === "active" && before !== "active") {
    booking.enter({ concertId: saved?.concertId, scheduleId: saved?.scheduleId }).catch((error) => {
      alertError(error, "browse");
    });
  }
}

/** The window is over (by the clock, or the server said so): holds stay, rejoining is offered. */
function windowEnded(reason: string): void {
  if (bookingWindow.state.kind === "ended") return;
  connection.forgetQueueToken();
  bookingWindow.set({ kind: "ended", reason });
  remember({ queueToken: undefined, queueStatus: "ended", queueExpiresAt: undefined });
  render();
}

function onSessionEvent(event: SessionEvent): void {
  if (event.type === "queue") onQueue(event.push);
  else if (event.type === "restored") void afterReconnect();
}

/** Requests in flight when the connection dropped may or may not have happened: re-read. */
async function afterReconnect(): Promise<void> {
  await Promise.all([resyncHolds(), checkout.refreshBalance()]).catch(() => {});
  const token = connection.queueToken;
  const state = bookingWindow.state.kind;
  if (token && (state === "active" || state === "waiting")) await joinQueue(token);
}

async function resyncHolds(): Promise<void> {
  const { reservations } = await connection.request("reservations.list", { status: "held" });
  holds.replaceAll(reservations.map((r) => ({ ...r, expiresAt: Date.parse(r.expiresAt) })));
}

/** The demo sign-in lasts an hour: a fresh one shortly before, and the socket reconnects with it. */
function scheduleRenewal(): void {
  clearTimeout(renewTimer);
  if (!saved) return;
  renewTimer = setTimeout(() => void renewSignIn(), Math.max(0, saved.jwtExpiresAt - Date.now() - RENEW_BEFORE_MS));
}

async function renewSignIn(): Promise<void> {
  if (!saved) return;
  try {
    const login = await http.call("dev.login", { name: saved.userId.replace(/^demo:/, "") });
    remember({ jwt: login.token, jwtExpiresAt: Date.parse(login.expiresAt) });
    connection.reconnect();
    scheduleRenewal();
  } catch (error) {
    alertError(error, "login");
  }
}

$("sign-out").addEventListener("click", () => {
  // Holds stay on the server until they run out; signing in with the same name shows them again.
  connection.close();
  clearSession();
  location.reload();
});

resume();
