// Waiting-room presence across nodes, on the owner's side. A fan's socket lives on some node (its
// gateway); the room that decides its token lives on the room's owner. The owner's queue actor
// keeps deciding who is present and what each follower is told, exactly as on a single server,
// with one listener object per (gateway node, connection): a RemoteFollower. Its pushes go to that
// node in one NATS message per node per turn (subjects.node), which the gateway hands to the socket.
//
// The gateways report what their sockets follow (gateway.ts): a connection that closes at once,
// and every node's whole list every PRESENCE_INTERVAL, in batches. So a room that moves learns its
// followers within one interval, and the followers of a node that died are dropped after
// FORGET_AFTER intervals without a report (their tokens then go idle as if their sockets closed).
import type { QueueActor, QueueHooks, QueueListener, QueueUpdate } from "../actors/queue.js";
import type { Logger } from "../log.js";
import type { Bus } from "./bus.js";
import { subjects } from "./subjects.js";

/** One socket on one node, as the rooms' owner sees it. */
export interface RemoteFollower {
  node: string;
  conn: number;
}

/** What gateways say about their sockets: `follows` is a node's whole list (a refresh) or new follows; `left`, closed connections. */
export interface PresenceReport {
  node: string;
  /** [room, connection, token] */
  follows?: [number, number, string][];
  /** Connections that closed. */
  left?: number[];
  /** True on the last batch of a whole-list refresh: followers of `node` not in it are gone. */
  complete?: boolean;
  /** Identifies one refresh across its batches. */
  refresh?: number;
}

/** A push for one connection of a node: [connection, update]. */
export type NodePush = [number, QueueUpdate];

/** How often gateways send their whole list; a node silent for FORGET_AFTER of them is forgotten. */
export const FORGET_AFTER = 3;

export class Followers implements QueueHooks {
  /** The one listener object per (node, connection): the queue actors key their maps by it. */
  private readonly listeners = new Map<string, Map<number, RemoteFollower>>();
  private readonly lastReport = new Map<string, number>();
  /** Followers seen in the refresh in progress, per node. */
  private readonly refreshing = new Map<string, { refresh: number; seen: Set<number> }>();
  private outgoing = new Map<string, NodePush[]>();
  private flushScheduled = false;

  constructor(
    private readonly bus: Bus,
    /** The rooms this node owns now. */
    private readonly rooms: () => QueueActor[][],
    private readonly log: Logger,
    /** Pushes for this node's own sockets, handed over without NATS. */
    private readonly local: { nodeId: string; deliver: (pushes: NodePush[]) => void },
  ) {}

  /** The listener for `conn` on `node`, made on first use. */
  listener(node: string, conn: number): RemoteFollower {
    let byConn = this.listeners.get(node);
    if (byConn === undefined) this.listeners.set(node, (byConn = new Map()));
    let listener = byConn.get(conn);
    if (listener === undefined) byConn.set(conn, (listener = { node, conn }));
    this.lastReport.set(node, Date.now());
    return listener;
  }

  /** QueueHooks: the queue actor tells a follower something; it leaves at the end of this turn, one message per node. */
  push(listener: QueueListener, update: QueueUpdate): void {
    const { node, conn } = listener as RemoteFollower;
    let list = this.outgoing.get(node);
    if (list === undefined) this.outgoing.set(node, (list = []));
    list.push([conn, update]);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** A gateway's report: new follows are followed in the rooms owned here; closed connections leave them. */
  report(report: PresenceReport, now: number): void {
    const { node } = report;
    this.lastReport.set(node, now);
    const rooms = new Map(
      this.rooms()
        .flat()
        .map((room) => [room.room, room]),
    );
    for (const [roomId, conn, token] of report.follows ?? []) {
      const room = rooms.get(roomId);
      if (room === undefined || !room.has(token)) continue;
      room.follow(this.listener(node, conn), token, now);
    }
    for (const conn of report.left ?? []) this.leave(node, conn, now);
    if (report.refresh !== undefined) this.refreshed(report, now);
  }

  /** Forgets the followers of nodes that stopped reporting (dead or cut off). */
  sweep(now: number, intervalMs: number): void {
    for (const [node, at] of this.lastReport) {
      if (now - at <= FORGET_AFTER * intervalMs) continue;
      this.log.warn({ node }, "no presence report from this node; its followers leave");
      for (const conn of [...(this.listeners.get(node)?.keys() ?? [])]) this.leave(node, conn, now);
      this.lastReport.delete(node);
    }
  }

  /** Every refresh batch marks who is still there; the last one removes the others of that node. */
  private refreshed(report: PresenceReport, now: number): void {
    const { node, refresh } = report;
    let seen = this.refreshing.get(node);
    if (seen === undefined || seen.refresh !== refresh)
      this.refreshing.set(node, (seen = { refresh: refresh!, seen: new Set() }));
    for (const [, conn] of report.follows ?? []) seen.seen.add(conn);
    if (!report.complete) return;
    this.refreshing.delete(node);
    for (const conn of [...(this.listeners.get(node)?.keys() ?? [])])
      if (!seen.seen.has(conn)) this.leave(node, conn, now);
  }

  private leave(node: string, conn: number, now: number): void {
    const byConn = this.listeners.get(node);
    const listener = byConn?.get(conn);
    if (listener === undefined) return;
    for (const room of this.rooms().flat()) room.unfollow(listener, now);
    byConn!.delete(conn);
    if (byConn!.size === 0) this.listeners.delete(node);
  }

  private flush(): void {
    this.flushScheduled = false;
    const outgoing = this.outgoing;
    this.outgoing = new Map();
    for (const [node, pushes] of outgoing) {
      if (node === this.local.nodeId) this.local.deliver(pushes);
      else {
        try {
          this.bus.publish(subjects.node(node), pushes);
        } catch (error) {
          this.log.warn({ err: error, node }, "queue pushes not sent");
        }
      }
    }
  }
}
