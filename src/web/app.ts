// The demo page: sign in (kept across reloads in sessionStorage), the on-sales and the waiting room
// the fan is in (the site's, or an on-sale's with its pre-queue and draw), the booking window,
// seats, holds and payment. This file wires the parts, decides which sections show and which room
// the page is in; each part owns its piece of the DOM. dev.login goes over HTTP, everything else
// over one WebSocket.
import { HttpClient, type QueuePush, type QueueStatus, type SessionEvent } from "../client/index.js";
import { Booking } from "./booking.js";
import { BookingWindow, type RoomView, type WindowState } from "./bookingWindow.js";
import { Catalog } from "./catalog.js";
import { Checkout } from "./checkout.js";
import { Connection } from "./connection.js";
import { $, alertError, clearAlert, notify } from "./dom.js";
import { DrawPanel } from "./drawPanel.js";
import { Holds } from "./holds.js";
import { errorCode } from "./messages.js";
import { OnSales } from "./onSales.js";
import { clearSession, loadSession, type SavedSession, saveSession, sessionRanOut } from "./sessionStore.js";

const RENEW_BEFORE_MS = 60_000;

const http = new HttpClient({ baseUrl: "" });
const catalog = new Catalog();
const connection = new Connection();
const bookingWindow = new BookingWindow(() => windowEnded("expired"));
const holds = new Holds(catalog, (hold) => void booking.release(hold));
const onSales = new OnSales(connection, catalog, (next) => void enterRoom(next));
const booking = new Booking(connection, holds, catalog, bookingWindow, onSales, () => windowEnded("expired"));
const checkout = new Checkout(connection, holds, catalog, resyncHolds);
const drawPanel = new DrawPanel(connection, () => saved?.userId);
let saved: SavedSession | undefined;
/** The room the page is in: an on-sale's concert id, or null for the site room. */
let room: number | null = null;
let signingIn = false;
/** The room a check-in is on its way for (a second click sends nothing). */
let joining: number | null | undefined;
let renewTimer: ReturnType<typeof setTimeout> | undefined;
/** The window state last drawn, to announce changes once. */
let shownWindow: WindowState["kind"] = "none";

holds.onChange(render);
onSales.onChange(render);

function render(): void {
  bookingWindow.room = roomView();
  const state = bookingWindow.state.kind;
  const holding = holds.size;
  bookingWindow.announceChange(shownWindow, holding);
  shownWindow = state;
  $("booking").dataset.window = state;
  $("login").hidden = saved !== undefined;
  const inLine = state === "waiting" || state === "checking" || state === "pre" || state === "soldout";
  $("queue").hidden = !saved || !(inLine || (state !== "active" && holding === 0));
  $("booking").hidden = !saved || !(state === "active" || holding > 0);
  $("sign-out").hidden = !saved;
  $("who").textContent = saved ? `Signed in as ${saved.userId}` : "";
  bookingWindow.render(holding);
  booking.renderWindow();
  const onSale = room === null ? undefined : onSales.get(room);
  const opensAt = onSale?.opensAt ? Date.parse(onSale.opensAt) : 0;
  drawPanel.render(saved ? onSale : undefined, opensAt <= Date.now() && state !== "pre");
}

/** The on-sale the page is in, named even before onsales.list answers (from the labels of earlier visits). */
function roomView(): RoomView | undefined {
  if (room === null) return undefined;
  const onSale = onSales.get(room);
  if (onSale) return onSale;
  return {
    concertId: room,
    title: catalog.concertTitle(room),
    timeZone: catalog.zoneOf(room),
    state: "open",
    opensAt: null,
  };
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

/** A signed-in page: the socket, the on-sales, the holds and balance as the server has them. */
function start(): void {
  connection.open(() => saved?.jwt ?? "", onSessionEvent);
  scheduleRenewal();
  onSales.setCurrent(room);
  onSales.start().catch((error) => alertError(error, "list"));
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
  room = found.room ?? null;
  start();
  const { queueToken, queueStatus, queueExpiresAt = 0 } = found;
  // An active window that ran out meanwhile is not renewed by itself: checking in again would be a
  // new place at the back of the line, which the fan is offered instead. A pre-queue or a place in
  // line is checked in again with its token: the same place.
  if (queueStatus === "soldout") showSoldOut();
  else if (queueToken && (queueStatus !== "active" || queueExpiresAt > Date.now())) void joinQueue(queueToken);
  else if (queueToken || queueStatus === "ended") windowEnded("expired");
  else render();
}

/** Checks in to the page's room (with the token it has there, if any). */
async function joinQueue(token?: string): Promise<void> {
  const asked = room;
  if (joining === asked) return;
  joining = asked;
  const state = bookingWindow.state.kind;
  if (state !== "active" && state !== "waiting" && state !== "pre") bookingWindow.set({ kind: "checking" });
  render();
  try {
    const status = await connection.request("queue.check", {
      ...(token ? { token } : {}),
      ...(asked !== null ? { concertId: asked } : {}),
    });
    // The fan went to another room meanwhile: this one is not followed after a reconnect.
    if (asked !== room) connection.forgetQueueToken(asked);
    else onQueue(status);
  } catch (error) {
    if (asked !== room) return;
    if (errorCode(error) === "SOLD_OUT") {
      if (state === "soldout") notify("Still sold out.");
      return showSoldOut();
    }
    alertError(error, "queue");
    if (bookingWindow.state.kind === "checking") bookingWindow.set({ kind: "none" });
    render();
  } finally {
    if (joining === asked) joining = undefined;
  }
}

/** The fan picked an on-sale (or the other concerts): the page moves to that room and checks in there. */
async function enterRoom(next: number | null): Promise<void> {
  if (!saved) return;
  if (next === room) {
    // Back at a sold-out (or left) room's door: ask again (the server answers for the room as it is now).
    const state = bookingWindow.state.kind;
    if (state === "soldout" || state === "none" || state === "ended") await joinQueue();
    return;
  }
  clearAlert();
  // The room left is not re-checked after a reconnect; the server keeps the fan's token there
  // anyway (one per user per room), so coming back finds the same place while it lives.
  connection.forgetQueueToken(room);
  room = next;
  remember({ room: next ?? undefined, queueToken: undefined, queueStatus: undefined, queueExpiresAt: undefined });
  onSales.setCurrent(next);
  bookingWindow.set({ kind: "none" });
  await joinQueue();
  $("queue").scrollIntoView({ block: "nearest" });
}

/** The on-sale sold out (a push, or 410 SOLD_OUT at check-in): no token, no line. */
function showSoldOut(): void {
  connection.forgetQueueToken(room);
  bookingWindow.set({ kind: "soldout" });
  remember({ queueToken: undefined, queueStatus: "soldout", queueExpiresAt: undefined });
  render();
  onSales.refresh().catch(() => {});
}

for (const id of ["queue-rejoin", "window-rejoin"]) {
  $(id).addEventListener("click", () => {
    clearAlert();
    $("confirmation").hidden = true;
    void joinQueue();
  });
}

function onQueue(status: QueueStatus | QueuePush): void {
  // News of another room (the connection still follows a token of a room the fan left) is not ours.
  if ((status.concertId ?? null) !== room) return;
  // A late push about a token this page has moved on from says nothing about the current one.
  const ends = status.status === "expired" || status.status === "soldout";
  if (ends && status.token !== saved?.queueToken) return;
  if (status.status === "soldout") {
    showSoldOut();
    return;
  }
  const before = bookingWindow.state.kind;
  const state = bookingWindow.apply(status);
  if (state.kind === "ended") {
    connection.forgetQueueToken(room);
    remember({ queueToken: undefined, queueStatus: "ended", queueExpiresAt: undefined });
  } else if (state.kind === "active" || state.kind === "waiting" || state.kind === "pre") {
    const expiresAt = status.expiresAt ? Date.parse(status.expiresAt) : undefined;
    remember({ queueToken: status.token, queueStatus: state.kind, queueExpiresAt: expiresAt });
  }
  render();
  // After the draw the seed is public and the on-sale open: the list and the draw panel say so.
  if (before === "pre" && state.kind !== "pre") onSales.refresh().catch(() => {});
  if (state.kind === "active" && before !== "active") {
    booking.enter({ room, concertId: saved?.concertId, scheduleId: saved?.scheduleId }).catch((error) => {
      alertError(error, "browse");
    });
  }
}

/** The window is over (by the clock, or the server said so): holds stay, rejoining is offered. */
function windowEnded(reason: string): void {
  if (bookingWindow.state.kind === "ended") return;
  connection.forgetQueueToken(room);
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
  await Promise.all([resyncHolds(), checkout.refreshBalance(), onSales.refresh()]).catch(() => {});
  const token = saved?.queueToken;
  const state = bookingWindow.state.kind;
  if (token && (state === "active" || state === "waiting" || state === "pre")) await joinQueue(token);
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
