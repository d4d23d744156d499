// The rooms this node owns, each with its own actors, rebuilt from PostgreSQL when its lease is
// gained (ownership.ts) and dropped when it is lost. A room is the unit of placement: a waiting
// room with the concerts it gates (directory.ts). Its actors are a single server's (createActors)
// over that part of the state only, so every rule of the booking flow is the one a single server
// runs; what differs is around them:
// - its own group commit, on its own connection, whose every transaction first runs the fence of
//   the room's lease (leases.ts): once another node holds the lease, nothing more commits, and a
//   fenced-out (or otherwise failed) batch answers 503 and gives the room up, not the process;
// - its seat versions start at epoch × 2^32, above every version an earlier owner (a lower epoch)
//   can have published, so subscribers never see a version go backwards when the room moves;
// - held seats come back with their absolute expiresAt, exactly as after a restart.
import type { Actors, Ids } from "../actors/index.js";
import { createActors } from "../actors/index.js";
import type { QueueHooks } from "../actors/queue.js";
import type { SeatDiff } from "../actors/schedule.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { CommitQueue } from "../store/commitQueue.js";
import { connect } from "../store/postgres/connect.js";
import type { SharedPostgres } from "../store/postgres/open.js";
import { PostgresWriter } from "../store/postgres/writer.js";
import type { Store } from "../store/store.js";
import { asFencedOut, fence } from "./leases.js";

/** A room this node acts as owner of, under one epoch. */
export interface OwnedRoom {
  room: number;
  epoch: number;
  actors: Actors;
}

export interface OwnedRoomsDeps {
  config: Config;
  log: Logger;
  nodeId: string;
  store: Store;
  postgres: SharedPostgres;
  ids: Ids;
  publishSeats: (diff: SeatDiff) => void;
  queueHooks: QueueHooks;
  /** The room's writes failed (fenced out, or PostgreSQL): this node must stop owning it. */
  onWriteFailed: (room: number, epoch: number) => void;
  /** Called once a room's actors serve (after a gain) and before they go (a loss). */
  onServing?: (room: number, serving: boolean) => void;
  onCommit?: (seconds: number, writes: number) => void;
}

/** Seat versions of epoch e live in [e × 2^32, (e + 1) × 2^32): 2^32 diffs per holding, 2^21 holdings per room. */
export const VERSIONS_PER_EPOCH = 2 ** 32;

interface Holding {
  epoch: number;
  /** Set once the actors are built (undefined while rebuilding). */
  owned?: OwnedRoom;
  /** Closes the writer once everything decided has committed or failed. */
  close?: () => Promise<void>;
  dropped: boolean;
}

export class OwnedRooms {
  private readonly holdings = new Map<number, Holding>();

  constructor(private readonly deps: OwnedRoomsDeps) {}

  /** The room's actors when this node serves it now; undefined while it moves (here or away). */
  get(room: number): OwnedRoom | undefined {
    return this.holdings.get(room)?.owned;
  }

  /** Every room served now. */
  all(): OwnedRoom[] {
    return [...this.holdings.values()].flatMap((holding) => (holding.owned ? [holding.owned] : []));
  }

  /** The lease of `room` was gained under `epoch`: rebuilds its actors from PostgreSQL. */
  async gain(room: number, epoch: number): Promise<void> {
    const { config, log, nodeId, store, postgres, ids } = this.deps;
    const holding: Holding = { epoch, dropped: false };
    this.holdings.set(room, holding);
    const started = performance.now();
    const sql = connect(postgres.url, { max: 1, idleInTransactionMs: config.clusterLeaseMs });
    const writer = new PostgresWriter(sql, (tx) =>
      fence(tx, nodeId, [{ concertId: room, epoch }], "database").catch((error) => {
        throw asFencedOut(error, nodeId, [{ concertId: room, epoch }]);
      }),
    );
    const commits = new CommitQueue(store, writer, {
      ...(this.deps.onCommit ? { onCommit: this.deps.onCommit } : {}),
      onFatal: (error) => {
        log.error({ err: error, room, epoch }, "a room's commit failed; giving the room up");
        this.deps.onWriteFailed(room, epoch);
      },
    });
    let state: Awaited<ReturnType<typeof postgres.reads.startupState>>;
    try {
      // Read after the lease is ours: an old owner's last transaction held the lease row FOR
      // SHARE, so our acquire waited for it, and this read sees everything it committed.
      state = await postgres.reads.startupState(room);
    } catch (error) {
      await sql.end({ timeout: 5 });
      throw error;
    }
    holding.close = async () => {
      await commits.whenIdle();
      await writer.close();
      await sql.end({ timeout: 5 });
    };
    if (holding.dropped || this.holdings.get(room) !== holding) {
      await holding.close();
      return;
    }
    const actors = createActors({
      config,
      store,
      state,
      commits,
      log: log.child({ room, epoch }),
      publishSeats: this.deps.publishSeats,
      queueHooks: this.deps.queueHooks,
      ids,
      firstVersion: epoch * VERSIONS_PER_EPOCH,
      // MAX_HOLDS_PER_USER is the user's, over every room (the others' holds are read from PostgreSQL).
      holdsElsewhere: (userId, now) => postgres.reads.liveHoldsOutside(userId, room, now),
    });
    holding.owned = { room, epoch, actors };
    this.deps.onServing?.(room, true);
    // Subscribers of its schedules (on any node) may have missed the last diffs of the previous
    // owner (made, not yet published when it stopped): an empty diff at the new first version is a
    // gap for them, so their clients take a fresh snapshot now rather than at the next change.
    for (const schedule of actors.catalog.allSchedules()) {
      this.deps.publishSeats({
        type: "diff",
        scheduleId: schedule.id,
        version: epoch * VERSIONS_PER_EPOCH,
        changes: [],
      });
    }
    log.info(
      { room, epoch, ms: Math.round(performance.now() - started), liveReservations: state.liveReservations.length },
      "room rebuilt from PostgreSQL; serving it",
    );
  }

  /** The lease of `room` under `epoch` ended: its actors stop at once, its writer once idle. */
  async lose(room: number, epoch: number): Promise<void> {
    const holding = this.holdings.get(room);
    if (holding === undefined || holding.epoch !== epoch) return;
    this.holdings.delete(room);
    holding.dropped = true;
    if (holding.owned) {
      this.deps.onServing?.(room, false);
      holding.owned.actors.stop();
      holding.owned = undefined;
    }
    await holding.close?.();
  }

  /** Drops every room (shutdown, after ownership released them). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.holdings].map(([room, { epoch }]) => this.lose(room, epoch)));
  }
}
