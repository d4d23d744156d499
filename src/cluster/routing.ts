// Where each op runs on a cluster node, and the requests between nodes. The dispatcher admits an
// op (authentication, rate limit) and validates its arguments on the node that received it; then
// (DispatcherDeps.router):
// - an op about one room's actors goes to that room's owner (ROOM_OF says which room), over NATS
//   request/reply on the room's subject, or in process when this node owns it; the owner checks
//   the queue gate and runs the op on its actors exactly as a single server does (runOp), with a
//   session that stands for the caller's socket (followers.ts, gateway.ts);
// - an [active] op about no concert (concerts.list) has its gate checked by the owner of the
//   token's room, then runs here;
// - every other op runs here, against PostgreSQL (gatewayOps.ts).
// A room nobody serves (moving, its owner dead, NATS down) is 503 UNAVAILABLE with Retry-After,
// never a guess: the owner itself refuses a request for a room it no longer serves.
import { LRUCache } from "lru-cache";
import { restoreConcerts } from "../actors/index.js";
import type { CompactSeatsView } from "../actors/schedule.js";
import { parseArgs, type Router, runOp } from "../api/dispatch.js";
import type { Op, OpContext, Session } from "../api/op.js";
import { opsByName } from "../api/ops/index.js";
import type { Config } from "../config.js";
import { ApiError } from "../errors.js";
import type { PostgresReads } from "../store/postgres/reads.js";
import { type LayoutDocument, layoutFromDocument, unpackStatuses } from "../venues/document.js";
import type { SeatLayout } from "../venues/layout.js";
import { seatsViewOf } from "../venues/seatsView.js";
import { layoutDocument } from "../venues/snapshot.js";
import type { Bus } from "./bus.js";
import { type Directory, SITE_ROOM } from "./directory.js";
import type { Followers } from "./followers.js";
import type { Gateway, RemoteSessionInfo, SessionEffects } from "./gateway.js";
import type { OwnedRoom, OwnedRooms } from "./ownedRooms.js";
import { subjects } from "./subjects.js";

/** A request to the owner of a room. */
export type RoomRequest =
  | {
      kind: "op";
      op: string;
      args: unknown;
      /** The concert the op is about, which the owner reads from PostgreSQL if it was made after the room was built. */
      concertId?: number | undefined;
      userId: string;
      queueToken?: string | undefined;
      address: string;
      /** The caller's WebSocket, on node `node` (absent over HTTP). */
      session?: (RemoteSessionInfo & { node: string }) | undefined;
    }
  /** The queue gate of an op about no concert: one of `tokens` must be active in this room. */
  | { kind: "gate"; userId: string; tokens: string[] }
  /** An on-sale's status (onsales.list gathers them). */
  | { kind: "status"; concertId: number }
  /** A payment coordinated elsewhere locks the caller's holds here (payments.ts). */
  | { kind: "lock"; userId: string; reservationIds: number[]; lockMs: number }
  /** ... and tells the outcome. */
  | { kind: "settle"; userId: string; reservationIds: number[]; paid: boolean };

export interface OpAnswer {
  data: unknown;
  effects?: SessionEffects;
}

export interface LockAnswer {
  node: string;
  epoch: number;
  holds: { reservationId: number; price: number }[];
  heldAt: number;
}

/** How long a routed request may take (an op that commits, over NATS) before it is 503. */
export const ROOM_REQUEST_TIMEOUT_MS = 5000;

/** Where an op runs: a room, and the concert it is about (absent: the room itself, e.g. a site check-in). */
interface Placement {
  room: number;
  concertId?: number;
}

type PlaceOf = (args: never, lookups: Lookups) => Promise<Placement>;

interface Lookups {
  directory: Directory;
  reads: PostgresReads;
}

const byConcert = async (concertId: number, { directory }: Lookups): Promise<Placement> => ({
  room: await directory.roomOfConcert(concertId),
  concertId,
});
const bySchedule = async (scheduleId: number, lookups: Lookups) =>
  byConcert(await lookups.directory.concertOfSchedule(scheduleId), lookups);

/** The ops that run on the owner of a room, and where. */
export const ROOM_OF: Readonly<Record<string, PlaceOf>> = {
  "queue.check": ({ concertId }: { concertId?: number }, lookups) =>
    concertId === undefined ? Promise.resolve({ room: SITE_ROOM }) : byConcert(concertId, lookups),
  "schedules.list": ({ concertId }: { concertId: number }, lookups) => byConcert(concertId, lookups),
  "seats.list": ({ scheduleId }: { scheduleId: number }, lookups) => bySchedule(scheduleId, lookups),
  "seats.subscribe": ({ scheduleId }: { scheduleId: number }, lookups) => bySchedule(scheduleId, lookups),
  "seats.layout": ({ scheduleId }: { scheduleId: number }, lookups) => bySchedule(scheduleId, lookups),
  "reservations.create": ({ scheduleId }: { scheduleId: number }, lookups) => bySchedule(scheduleId, lookups),
  "reservations.best": ({ scheduleId }: { scheduleId: number }, lookups) => bySchedule(scheduleId, lookups),
  "reservations.release": async ({ reservationId }: { reservationId: number }, lookups) => {
    const row = await lookups.reads.reservationById(reservationId);
    if (row === undefined) throw new ApiError("NOT_FOUND", `reservation ${reservationId} not found`);
    return bySchedule(row.scheduleId, lookups);
  },
  "onsale.get": ({ concertId }: { concertId: number }, lookups) => byConcert(concertId, lookups),
  "draw.get": ({ concertId }: { concertId: number }, lookups) => byConcert(concertId, lookups),
  "admin.onsale.update": ({ concertId }: { concertId: number }, lookups) => byConcert(concertId, lookups),
};

/** Ops answering a seat-map snapshot: sent to another node compact, rebuilt full here when asked full. */
const SNAPSHOT_OPS: ReadonlySet<string> = new Set(["seats.list", "seats.subscribe"]);

/** [active] ops about no concert: the gate at the owner of the token's room, the op here. */
export const GATED_HERE: ReadonlySet<string> = new Set(["concerts.list"]);

/** An op that runs on this node (after its gate, if any). */
export type NodeOp = (args: never, context: OpContext, op: Op) => unknown | Promise<unknown>;

export interface RoutingDeps {
  nodeId: string;
  config: Config;
  bus: Bus;
  rooms: OwnedRooms;
  followers: Followers;
  gateway: Gateway;
  directory: Directory;
  reads: PostgresReads;
}

export class Routing {
  /** Concerts being read into a room's actors (ensureConcert), by room, epoch and concert. */
  private readonly loading = new Map<string, Promise<void>>();
  /** Seat layouts by ETag, to rebuild full seat maps from compact ones (a 100,000-seat layout with its places is about 10 MB). */
  private readonly layouts = new LRUCache<string, SeatLayout>({ max: 16 });
  /** The ops that run here, by name: every op of the table not in ROOM_OF (set once, after the services that need this router). */
  private nodeOps: ReadonlyMap<string, NodeOp> = new Map();

  constructor(private readonly deps: RoutingDeps) {}

  setNodeOps(ops: ReadonlyMap<string, NodeOp>): void {
    this.nodeOps = ops;
  }

  /** The dispatcher's router. */
  readonly route: Router = (op, args, context) => {
    if (ROOM_OF[op.name] !== undefined) return this.forward(op, args, context);
    const run = this.nodeOps.get(op.name);
    if (run === undefined) throw new Error(`op ${op.name} has no place on a cluster node`);
    if (GATED_HERE.has(op.name)) return this.gate(context).then(() => run(args as never, context, op));
    return Promise.resolve(run(args as never, context, op));
  };

  /** Sends `request` to the owner of `room` (this node: in process) and resolves with its answer. */
  async requestRoom<T>(room: number, request: RoomRequest, timeoutMs = ROOM_REQUEST_TIMEOUT_MS): Promise<T> {
    if (this.deps.rooms.get(room) !== undefined) return (await this.serve(room, request)) as T;
    return (await this.deps.bus.request(subjects.actor(room), request, timeoutMs)) as T;
  }

  /** Answers a request for `room` on its owner (this node), or 503 when this node does not serve it now. */
  async serve(room: number, request: RoomRequest): Promise<unknown> {
    const owned = this.deps.rooms.get(room);
    if (owned === undefined) throw moving(room);
    const { actors } = owned;
    const now = Date.now();
    switch (request.kind) {
      case "op": {
        const op = this.roomOp(request.op);
        if (request.concertId !== undefined) await this.ensureConcert(owned, request.concertId);
        const effects: SessionEffects = {};
        const session = request.session === undefined ? undefined : this.remoteSession(request.session, effects);
        const data = await runOp(op, parseArgs(op, request.args), {
          userId: request.userId,
          now,
          actors,
          config: this.deps.config,
          queueToken: request.queueToken,
          session,
          address: () => request.address,
        });
        return { data, effects } satisfies OpAnswer;
      }
      case "gate":
        actors.rooms.assertActiveInAnyRoom(request.userId, request.tokens, now);
        return {};
      case "status":
        return actors.rooms.status(request.concertId, now);
      case "lock": {
        const locked = await actors.reservations.lockForPayment(
          request.userId,
          request.reservationIds,
          now,
          request.lockMs,
        );
        return { node: this.deps.nodeId, epoch: owned.epoch, ...locked } satisfies LockAnswer;
      }
      case "settle": {
        const lockedAt = actors.reservations.lockedAt(request.reservationIds);
        const concerts = actors.reservations.settlePayment(request.reservationIds, request.paid, now);
        // The payer's booking window ends in the rooms that gate the concerts of the seats sold:
        // the token the payment was made under, not one taken since (an outcome that came late).
        if (concerts.size > 0) actors.rooms.endFor(request.userId, concerts, now, lockedAt);
        return {};
      }
    }
  }

  private async forward(op: Op, args: unknown, context: OpContext): Promise<unknown> {
    const { gateway } = this.deps;
    const { room, concertId } = await ROOM_OF[op.name]!(args as never, this.deps);
    // A full seat map from another node travels compact and is rebuilt here (expandSeats).
    const expand = SNAPSHOT_OPS.has(op.name) && (args as { compact?: boolean }).compact !== true && !this.owns(room);
    const info = gateway.describe(context.session);
    // The schedule's diffs reach this node before the owner takes the snapshot.
    const prepared =
      op.name === "seats.subscribe" && info !== undefined
        ? await gateway.prepareSeats((args as { scheduleId: number }).scheduleId)
        : undefined;
    try {
      const request = {
        kind: "op" as const,
        concertId,
        userId: context.userId,
        queueToken: context.queueToken,
        address: context.address(),
        session: info === undefined ? undefined : { ...info, node: gateway.id },
      };
      const answer = await this.requestRoom<OpAnswer>(room, {
        ...request,
        op: op.name,
        args: expand ? { ...(args as object), compact: true } : args,
      });
      gateway.apply(context.session, answer.effects);
      if (!expand) return answer.data;
      const compact = answer.data as CompactSeatsView;
      const layout = await this.layoutOf(compact, (etag) =>
        this.requestRoom<OpAnswer>(room, {
          ...request,
          op: "seats.layout",
          args: { scheduleId: compact.scheduleId, etag },
        }),
      );
      const statuses = unpackStatuses(Buffer.from(compact.statuses, "base64"), compact.seatCount);
      return seatsViewOf(compact.scheduleId, compact.version, layout, statuses);
    } finally {
      prepared?.();
    }
  }

  private owns(room: number): boolean {
    return this.deps.rooms.get(room) !== undefined;
  }

  /**
   * The layout a compact snapshot names, from this node's cache or else from the owner. A full
   * seat map of a large schedule passes NATS's payload limit (1 MB by default; 100,000 seats are
   * about 2.5 MB even without places), its compact form and layout do not, and layouts are
   * immutable under their ETag, so each crosses once.
   */
  private async layoutOf(
    compact: CompactSeatsView,
    fetch: (etag: string | undefined) => Promise<OpAnswer>,
  ): Promise<SeatLayout> {
    const cached = this.layouts.get(compact.layoutEtag);
    if (cached !== undefined) return cached;
    const answer = (await fetch(undefined)).data as { etag: string; layout: LayoutDocument };
    const layout = layoutFromDocument(answer.layout);
    // The layout's ETag is its content's hash: what came is what the snapshot was drawn on.
    if (answer.etag !== compact.layoutEtag || layoutDocument(layout).etag !== answer.etag) {
      throw new ApiError("UNAVAILABLE", `schedule ${compact.scheduleId} changed its layout meanwhile; retry`, 1);
    }
    this.layouts.set(answer.etag, layout);
    return layout;
  }

  /** The gate of an [active] op about no concert: one of the caller's tokens is active in its room. */
  private async gate(context: OpContext): Promise<void> {
    const tokens = await this.tokensOf(context);
    if (tokens.length === 0) throw new ApiError("TOKEN_INVALID", "a Queue-Token header is required");
    let refusal: unknown;
    for (const [room, token] of tokens) {
      try {
        if (room === undefined) throw new ApiError("TOKEN_INVALID", "unknown or expired queue token");
        await this.requestRoom(room, { kind: "gate", userId: context.userId, tokens: [token] });
        return;
      } catch (error) {
        refusal ??= error;
      }
    }
    throw refusal;
  }

  /** [room, token] of the token the request names (its room read from PostgreSQL), else of every token its socket follows. */
  private async tokensOf(context: OpContext): Promise<[number | undefined, string][]> {
    if (context.queueToken !== undefined) {
      return [[await this.deps.reads.roomOfToken(context.queueToken), context.queueToken]];
    }
    return this.deps.gateway.describe(context.session)?.tokens ?? [];
  }

  /**
   * A concert of this room that its actors do not know yet: made (on any node) after the room was
   * rebuilt here. Read once from PostgreSQL, with whatever was booked of it since (nothing can have
   * been, except through this owner), and added; requests for it meanwhile wait for the same read.
   */
  private ensureConcert(owned: OwnedRoom, concertId: number): Promise<void> | undefined {
    const { catalog, reservations } = owned.actors;
    if (catalog.hasConcert(concertId)) return undefined;
    const key = `${owned.room}:${owned.epoch}:${concertId}`;
    let loading = this.loading.get(key);
    if (loading === undefined) {
      loading = this.deps.reads
        .concertState(concertId)
        .then((state) => {
          if (state === undefined) throw new ApiError("NOT_FOUND", `concert ${concertId} not found`);
          const room = state.onSales.length > 0 ? concertId : SITE_ROOM;
          if (room !== owned.room)
            throw new ApiError("UNAVAILABLE", `concert ${concertId} is not in room ${owned.room}; retry`, 1);
          if (!catalog.hasConcert(concertId)) restoreConcerts(catalog, reservations, state);
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  private roomOp(name: string): Op {
    const op = ROOM_OF[name] === undefined ? undefined : opsByName.get(name);
    if (op === undefined) throw new ApiError("INVALID_ARGUMENT", `op ${name} does not run on a room's owner`);
    return op;
  }

  /** The session of a socket on node `info.node`, as the owner's ops use it: what they do to it comes back as effects. */
  private remoteSession(info: RemoteSessionInfo & { node: string }, effects: SessionEffects): Session {
    const tokens = new Map(info.tokens);
    const listener = this.deps.followers.listener(info.node, info.conn);
    return {
      rememberQueueToken: (room, token) => {
        room.follow(listener, token, Date.now());
        tokens.set(room.room, token);
        effects.follow = [room.room, token];
      },
      queueToken: (room) => tokens.get(room.room),
      queueTokens: () => [...tokens].sort(([a], [b]) => a - b).map(([, token]) => token),
      subscribeSeats: (scheduleId) => {
        (effects.subscribe ??= []).push(scheduleId);
      },
      unsubscribeSeats: (scheduleId) => {
        (effects.unsubscribe ??= []).push(scheduleId);
      },
    };
  }
}

/** The 503 of a room this node does not serve now (moving here or away). */
function moving(room: number): ApiError {
  return new ApiError("UNAVAILABLE", `room ${room} is moving between nodes; retry`, 1);
}
