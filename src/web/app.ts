// The demo page: sign in, wait in line (live), pick a date, watch and hold seats, pay. All calls
// go through the typed client (src/client): dev.login over HTTP, everything else over one WebSocket.
import { HttpClient, type QueuePush, type QueueStatus, type SeatMap, WsSession } from "../client/index.js";
import { readableError } from "./messages.js";
import { SeatGrid } from "./seatGrid.js";

interface Hold {
  reservationId: number;
  scheduleId: number;
  seatNo: number;
  price: number;
  expiresAt: number;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const won = new Intl.NumberFormat("en");
const http = new HttpClient({ baseUrl: "" });
let session: WsSession | undefined;
let inBooking = false;
let seatMap: SeatMap | undefined;
let stopSeatMap: (() => void) | undefined;
const holds = new Map<number, Hold>();
const grid = new SeatGrid($("seats"), $("map-summary"), (no) => void onSeat(no));

function show(section: "login" | "queue" | "booking"): void {
  for (const id of ["login", "queue", "booking"]) $(id).hidden = id !== section;
}

function alertError(error: unknown): void {
  const alert = $("alert");
  alert.textContent = readableError(error);
  alert.hidden = false;
}

function clearAlert(): void {
  $("alert").hidden = true;
}

function idempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearAlert();
  const name = $<HTMLInputElement>("login-name").value.trim();
  try {
    const login = await http.call("dev.login", { name });
    $("who").textContent = `Signed in as ${login.userId}`;
    connect(login.token);
    await joinQueue();
  } catch (error) {
    alertError(error);
  }
});

function connect(jwt: string): void {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/ws`;
  session = new WsSession({ url, token: jwt });
  const connection = $("connection");
  session.on((event) => {
    if (event.type === "open" || event.type === "restored") {
      connection.dataset.state = "online";
      connection.textContent = "Live";
    } else if (event.type === "close") {
      connection.dataset.state = "offline";
      connection.textContent = event.willReconnect ? "Reconnecting…" : "Disconnected";
    } else if (event.type === "queue") {
      onQueue(event.push);
    }
  });
}

async function joinQueue(): Promise<void> {
  show("queue");
  $("queue-rejoin").hidden = true;
  onQueue(await session!.request("queue.check", {}));
}

$("queue-rejoin").addEventListener("click", () => {
  clearAlert();
  joinQueue().catch(alertError);
});

function onQueue(status: QueueStatus | QueuePush): void {
  if (status.status === "expired") {
    inBooking = false;
    show("queue");
    $("queue-status").textContent =
      "Your time in the booking area has ended (it ends when you pay, or after a while). Join again to book more.";
    $("queue-rejoin").hidden = false;
    for (const id of ["queue-position", "queue-waiting", "queue-eta"]) $(id).textContent = "–";
    return;
  }
  if (status.status === "active") {
    if (!inBooking) enterBooking().catch(alertError);
    return;
  }
  show("queue");
  $("queue-status").textContent = "You are in line. This page lets you in by itself when it is your turn.";
  $("queue-position").textContent = won.format(status.position ?? 0);
  $("queue-waiting").textContent = won.format(status.waiting);
  const eta = status.etaSeconds ?? 0;
  $("queue-eta").textContent = eta < 60 ? `${eta} s` : `${Math.ceil(eta / 60)} min`;
}

async function enterBooking(): Promise<void> {
  inBooking = true;
  show("booking");
  $("confirmation").hidden = true;
  const [{ concerts }] = await Promise.all([session!.request("concerts.list", {}), refreshBalance()]);
  const select = $<HTMLSelectElement>("concert");
  select.replaceChildren(...concerts.map((c) => new Option(c.title, String(c.id))));
  if (concerts.length > 0) await pickConcert(concerts[0]!.id);
}

$("concert").addEventListener("change", (event) => {
  pickConcert(Number((event.target as HTMLSelectElement).value)).catch(alertError);
});
$("schedule").addEventListener("change", (event) => {
  pickSchedule(Number((event.target as HTMLSelectElement).value)).catch(alertError);
});

async function pickConcert(concertId: number): Promise<void> {
  const { schedules } = await session!.request("schedules.list", { concertId });
  const format = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });
  $<HTMLSelectElement>("schedule").replaceChildren(
    ...schedules.map(
      (s) =>
        new Option(
          `${format.format(new Date(s.startsAt))} — ${s.availableSeats} of ${s.totalSeats} free`,
          String(s.id),
        ),
    ),
  );
  if (schedules.length > 0) await pickSchedule(schedules[0]!.id);
}

async function pickSchedule(scheduleId: number): Promise<void> {
  const previous = seatMap;
  stopSeatMap?.();
  if (previous && previous.scheduleId !== scheduleId) await session!.unsubscribeSeats(previous.scheduleId);
  seatMap = await session!.subscribeSeats(scheduleId);
  const mine = [...holds.values()].filter((h) => h.scheduleId === scheduleId).map((h) => h.seatNo);
  grid.show(seatMap, mine);
  stopSeatMap = seatMap.onChange((changes) => grid.apply(changes));
}

async function onSeat(seatNo: number): Promise<void> {
  if (!seatMap) return;
  clearAlert();
  const held = [...holds.values()].find((h) => h.scheduleId === seatMap!.scheduleId && h.seatNo === seatNo);
  try {
    if (held) {
      await session!.request("reservations.release", { reservationId: held.reservationId });
      dropHold(held);
      return;
    }
    if (seatMap.status[seatNo - 1] !== "available") return;
    const hold = await session!.request("reservations.create", { scheduleId: seatMap.scheduleId, seatNo });
    holds.set(hold.reservationId, { ...hold, expiresAt: Date.parse(hold.expiresAt) });
    grid.setMine(seatNo, true);
    renderHolds();
  } catch (error) {
    alertError(error);
  }
}

function dropHold(hold: Hold): void {
  holds.delete(hold.reservationId);
  if (seatMap?.scheduleId === hold.scheduleId) grid.setMine(hold.seatNo, false);
  renderHolds();
}

function renderHolds(): void {
  const list = $("holds");
  const now = Date.now();
  list.replaceChildren(
    ...[...holds.values()].map((hold) => {
      const item = document.createElement("li");
      const left = Math.max(0, Math.round((hold.expiresAt - now) / 1000));
      item.innerHTML = `Seat ${hold.seatNo} · ${won.format(hold.price)} won · <span class="countdown"></span> `;
      (item.querySelector(".countdown") as HTMLElement).textContent =
        `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left`;
      const release = document.createElement("button");
      release.type = "button";
      release.textContent = "Release";
      release.setAttribute("aria-label", `Release seat ${hold.seatNo}`);
      release.addEventListener("click", () => void onSeat(hold.seatNo));
      item.append(release);
      return item;
    }),
  );
  const total = [...holds.values()].reduce((sum, h) => sum + h.price, 0);
  $("holds-empty").hidden = holds.size > 0;
  $("holds-total").textContent = holds.size > 0 ? `Total ${won.format(total)} won` : "";
  const pay = $<HTMLButtonElement>("pay");
  pay.disabled = holds.size === 0;
  pay.textContent = holds.size > 0 ? `Pay ${won.format(total)} won for ${holds.size} seat(s)` : "Pay";
}

// Countdowns: a hold that runs out is dropped here; its seat turns available through the push.
setInterval(() => {
  if (holds.size === 0) return;
  for (const hold of [...holds.values()]) if (hold.expiresAt <= Date.now()) dropHold(hold);
  renderHolds();
}, 1000);

async function refreshBalance(): Promise<void> {
  const { balance } = await session!.request("balance.get", {});
  $("balance").textContent = `${won.format(balance)} won`;
}

$("charge-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearAlert();
  const amount = Number($<HTMLInputElement>("charge-amount").value);
  try {
    const { balance } = await session!.request("balance.charge", { amount, idempotencyKey: idempotencyKey() });
    $("balance").textContent = `${won.format(balance)} won`;
  } catch (error) {
    alertError(error);
  }
});

$("pay").addEventListener("click", async () => {
  clearAlert();
  const paying = [...holds.values()];
  try {
    const payment = await session!.request("payments.create", {
      reservationIds: paying.map((h) => h.reservationId),
      idempotencyKey: idempotencyKey(),
    });
    for (const hold of paying) holds.delete(hold.reservationId);
    for (const hold of paying) if (seatMap?.scheduleId === hold.scheduleId) grid.setMine(hold.seatNo, false);
    renderHolds();
    $("balance").textContent = `${won.format(payment.balance)} won`;
    const confirmation = $("confirmation");
    confirmation.textContent =
      `Paid ${won.format(payment.amount)} won for seat(s) ${paying.map((h) => h.seatNo).join(", ")} ` +
      `(payment #${payment.paymentId}). Balance: ${won.format(payment.balance)} won.`;
    confirmation.hidden = false;
  } catch (error) {
    alertError(error);
  }
});
