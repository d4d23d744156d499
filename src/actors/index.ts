// The actor host: builds every actor from the database at start-up and addresses them by id.
import { AddressLimiter } from "../api/rateLimit.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { type CommitQueue, ignoreFailedCommit } from "../store/commitQueue.js";
import type { ReservationRow, StartupState, Store } from "../store/store.js";
import { Catalog } from "./catalog.js";
import { IdempotencyRecords } from "./idempotency.js";
import { IdSequence, type IdSource } from "./ids.js";
import { Payments } from "./payments.js";
import type { QueueHooks } from "./queue.js";
import { Reservations } from "./reservations.js";
import { WaitingRooms } from "./rooms.js";
import { ScheduleActor, type SeatDiff, seatMapFor } from "./schedule.js";
import { Wallets } from "./wallets.js";

export interface Actors {
  catalog: Catalog;
  reservations: Reservations;
  wallets: Wallets;
  payments: Payments;
  rooms: WaitingRooms;
  idempotency: IdempotencyRecords;
  /** Stops timers of every actor (shutdown). */
  stop(): void;
}

export interface ActorOptions {
  config: Config;
  store: Store;
  /** What the actors are rebuilt from (read once at start-up: StoreReads.startupState). */
  state: StartupState;
  commits: CommitQueue;
  log: Logger;
  /** Where seat diffs go (the WebSocket topics). */
  publishSeats: (diff: SeatDiff) => void;
  /** What the waiting room tells the connections that follow a token (WebSocket pushes). */
  queueHooks?: QueueHooks | undefined;
  /** Where ids come from (a cluster node: PostgreSQL's sequences); default: above the largest on disk. */
  ids?: Ids | undefined;
  /** The seat version every schedule starts from (a cluster node taking a room over); default 0. */
  firstVersion?: number | undefined;
  /** A cluster node's room: the user's live holds in the other rooms (they count toward the hold limit). */
  holdsElsewhere?: ((userId: string, now: number) => Promise<number>) | undefined;
}

/** The id sequences of what the actors create. */
export interface Ids {
  concert: IdSource;
  schedule: IdSource;
  reservation: IdSource;
  payment: IdSource;
}

/**
 * Puts concerts read from disk into the catalog: seat maps come from live reservations, and held
 * ones get their seat actors back with their original expiresAt (those already past expire at
 * once). At start-up; on a cluster node also for a concert made after its room was rebuilt.
 */
export function restoreConcerts(
  catalog: Catalog,
  reservations: Reservations,
  state: Pick<StartupState, "concerts" | "schedules" | "venues" | "onSales" | "liveReservations">,
): void {
  const live = state.liveReservations;
  const liveBySchedule = new Map<number, ReservationRow[]>();
  for (const r of live) {
    const list = liveBySchedule.get(r.scheduleId);
    if (list) list.push(r);
    else liveBySchedule.set(r.scheduleId, [r]);
  }
  for (const concert of state.concerts) catalog.addConcert(concert);
  for (const onSale of state.onSales) catalog.addOnSale(onSale);
  for (const venue of state.venues) catalog.addVenue(venue);
  for (const row of state.schedules) {
    catalog.addSchedule(row, seatMapFor(row.seatCount, liveBySchedule.get(row.id) ?? []));
  }
  for (const row of live) if (row.status === "held") reservations.restore(row);
}

export function createActors(options: ActorOptions): Actors {
  const { config, store, state, commits, log, publishSeats, queueHooks } = options;
  const now = Date.now();
  const max = state.maxIds;
  const ids = options.ids ?? {
    concert: new IdSequence(max.concert),
    schedule: new IdSequence(max.schedule),
    reservation: new IdSequence(max.reservation),
    payment: new IdSequence(max.payment),
  };
  const catalog = new Catalog(
    store,
    commits,
    ids,
    (row, seats, layout) =>
      new ScheduleActor(row, seats, layout, {
        publish: publishSeats,
        afterPending: () => commits.afterPending(),
        diffIntervalMs: config.seatDiffIntervalMs,
        firstVersion: options.firstVersion,
      }),
  );
  const reservations = new Reservations(
    store,
    catalog,
    ids.reservation,
    commits,
    config.maxHoldsPerUser,
    options.holdsElsewhere,
  );

  restoreConcerts(catalog, reservations, state);

  const wallets = new Wallets(store, commits, config.balanceMax, state.balances);
  const rooms = new WaitingRooms({
    settings: config.queue,
    store,
    commits,
    joinsPerAddress: new AddressLimiter(config.rateLimitPerIp),
    hooks: queueHooks,
    catalog,
    log,
  });
  rooms.restore(state.queueTokens, now);
  const idempotency = new IdempotencyRecords(store, {
    maxRecordsPerUser: config.idempotencyMaxPerUser,
    rate: config.moneyRate,
  });
  const payments = new Payments(store, reservations, wallets, rooms, catalog, ids.payment, commits);

  const pruneTimer = setInterval(
    () => commits.commit(idempotency.prune(Date.now())).catch(ignoreFailedCommit),
    60 * 60 * 1000,
  );
  pruneTimer.unref();
  rooms.start();
  log.info(
    {
      concerts: catalog.listConcerts().length,
      liveReservations: state.liveReservations.length,
      queueTokens: rooms.waiting + rooms.active,
    },
    "state restored",
  );

  return {
    catalog,
    reservations,
    wallets,
    payments,
    rooms,
    idempotency,
    stop() {
      clearInterval(pruneTimer);
      rooms.stop();
      reservations.stop();
      for (const schedule of catalog.allSchedules()) schedule.stop();
    },
  };
}
