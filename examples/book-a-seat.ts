// Books a seat end to end with the typed client: sign in, wait in the waiting room until admitted,
// pick a concert, a date and a free seat on the live seat map, hold it, charge the balance, pay,
// and see the seat turn sold on the map. Against a running server (docs/client.md):
//
//   npm run build && node dist/examples/book-a-seat.js
//   TICKETING_URL=https://tickets.example TICKETING_TOKEN=<user JWT> node dist/examples/book-a-seat.js
//
// Without TICKETING_TOKEN it signs in with the demo login (servers with DEV_LOGIN on, as a plain
// `npm start` is). Exits 0 once the seat is paid, 1 with the reason otherwise.
import { randomUUID } from "node:crypto";
import {
  ClientError,
  HttpClient,
  type ResultOf,
  type SeatMap,
  type SessionEvent,
  WsSession,
} from "../src/client/index.js";

const baseUrl = (process.env.TICKETING_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const wsUrl = `${baseUrl.replace(/^http/, "ws")}/v1/ws`;

const log = (line: string) => console.log(line);

async function signIn(): Promise<string> {
  if (process.env.TICKETING_TOKEN) return process.env.TICKETING_TOKEN;
  const login = await new HttpClient({ baseUrl }).call("dev.login", { name: `example-${process.pid}` });
  log(`signed in as ${login.userId} (demo login)`);
  return login.token;
}

/** Resolves at the first queue push that admits us; rejects if the token ends first. */
function admission(session: WsSession): { admitted: Promise<void>; cancel: () => void } {
  let cancel = () => {};
  const admitted = new Promise<void>((done, fail) => {
    const stop = session.on((event: SessionEvent) => {
      if (event.type !== "queue") return;
      const { status, position, etaSeconds, reason } = event.push;
      if (status === "active") {
        stop();
        done();
      } else if (status === "expired") {
        stop();
        fail(new Error(`the queue token ended (${reason ?? "expired"})`));
      } else log(`waiting: position ${position}, about ${etaSeconds} s`);
    });
    cancel = stop;
  });
  admitted.catch(() => {});
  return { admitted, cancel };
}

/** Resolves once `seatNo` shows `status` on the live map (pushes, or a snapshot after a gap). */
function seatBecomes(map: SeatMap, seatNo: number, status: string, timeoutMs = 5000): Promise<void> {
  return new Promise((done, fail) => {
    if (map.status[seatNo - 1] === status) return done();
    const timer = setTimeout(() => fail(new Error(`seat ${seatNo} did not turn ${status}`)), timeoutMs);
    const stop = map.onChange(() => {
      if (map.status[seatNo - 1] !== status) return;
      clearTimeout(timer);
      stop();
      done();
    });
  });
}

/** Retries a call whose outcome is unknown (connection lost) or that the server asks to retry later. */
async function withRetries<T>(call: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retryable =
        error instanceof ClientError &&
        (error.outcomeUnknown || error.code === "RATE_LIMITED" || error.code === "UNAVAILABLE");
      if (!retryable || attempt >= attempts) throw error;
      const seconds = error.retryAfter ?? attempt;
      log(`${error.code}; retrying in ${seconds} s`);
      await new Promise((done) => setTimeout(done, seconds * 1000));
    }
  }
}

async function main(): Promise<void> {
  const token = await signIn();
  const http = new HttpClient({ baseUrl, token });
  // An HTTP call first: a bad token fails it at once (401), while a refused WebSocket upgrade looks
  // like a dropped connection to the session, which keeps retrying.
  const { balance } = await http.call("balance.get", {});
  const session = new WsSession({ url: wsUrl, token });
  session.on((event) => {
    if (event.type === "close" && event.willReconnect) log(`connection lost (${event.code}); reconnecting`);
    if (event.type === "restored") log("reconnected: queue token checked again, seat maps subscribed again");
    if (event.type === "gap") log(`missed seat push ${event.expected} of schedule ${event.scheduleId}: new snapshot`);
  });
  try {
    // 1. The waiting room. The session remembers the token and re-checks it after a reconnect.
    const { admitted, cancel } = admission(session);
    const entry = await session.request("queue.check", {});
    if (entry.status === "active") cancel();
    else {
      log(`in the waiting room: position ${entry.position} of ${entry.waiting}`);
      await admitted;
    }
    log("admitted");

    // 2. A concert and a date with free seats.
    const { concerts } = await session.request("concerts.list", {});
    let schedule: { id: number; startsAt: string } | undefined;
    let title = "";
    for (const concert of concerts) {
      const { schedules } = await session.request("schedules.list", { concertId: concert.id });
      schedule = schedules.find((s) => s.availableSeats > 0);
      title = concert.title;
      if (schedule) break;
    }
    if (!schedule) throw new Error("no concert has a free seat");
    log(`concert: ${title}, ${schedule.startsAt} (schedule ${schedule.id})`);

    // 3. The live seat map, and a hold on its first free seat (someone may take it first: try the next).
    const map = await session.subscribeSeats(schedule.id);
    log(`seat map: ${map.count("available")} of ${map.size} seats free (version ${map.version})`);
    let hold: ResultOf<"reservations.create"> | undefined;
    for (let seatNo = 1; seatNo <= map.size && !hold; seatNo++) {
      if (map.status[seatNo - 1] !== "available") continue;
      hold = await session.request("reservations.create", { scheduleId: schedule.id, seatNo }).catch((error) => {
        if (error instanceof ClientError && error.code === "SEAT_UNAVAILABLE") return undefined;
        throw error;
      });
    }
    if (!hold) throw new Error("every seat was taken");
    log(`held seat ${hold.seatNo} for ${hold.price} until ${hold.expiresAt} (reservation ${hold.reservationId})`);

    // 4. Money over HTTP with idempotency keys: a retry after a lost reply never charges or pays twice.
    const key = randomUUID();
    if (balance < hold.price) {
      const amount = hold.price - balance;
      await withRetries(() => http.call("balance.charge", { amount, idempotencyKey: `charge-${key}` }));
      log(`charged ${amount}`);
    }
    const reservationIds = [hold.reservationId];
    const payment = await withRetries(() =>
      http.call("payments.create", { reservationIds, idempotencyKey: `pay-${key}` }),
    );

    // 5. The seat map pushes our seat as sold.
    await seatBecomes(map, hold.seatNo, "sold");
    log(`the seat map shows seat ${hold.seatNo} sold (version ${map.version})`);
    log(
      `booked: seat ${hold.seatNo} of schedule ${hold.scheduleId}, reservation ${hold.reservationId}, ` +
        `payment ${payment.paymentId}, paid ${payment.amount}, balance ${payment.balance}`,
    );
  } finally {
    session.close();
  }
}

main().catch((error: unknown) => {
  const detail = error instanceof ClientError ? `${error.code}: ${error.message}` : String(error);
  console.error(`book-a-seat failed: ${detail}`);
  process.exit(1);
});
