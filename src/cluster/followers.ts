// Waiting-room presence across nodes, on the owner's side. A fan's socket lives on some node (its
// gateway); the room that decides its token lives on the room's owner. The owner's queue actor
// keeps deciding who is present and what each follower is told, exactly as on a single server,
// with one listener object per (gateway node, connection): a RemoteFollower. Its pushes go to that
// node in one NATS message per node per turn (subjects.node), which the gateway hands to the socket.
//
// The gateways report what their sockets follow (gateway.ts): a connection that closes at once,
// and every interval their whole list, in batches, with the connections still open. So a room
// that moves learns its followers within one interval, a lost report of a closed connection is
// caught at the next refresh, and the followers of a node that died are dropped after
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

/**
 * What a gateway says about its sockets: `left`, connections that closed; or one batch of a
 * refresh: what its open connections follow, and which connections are open. `node` is the
 * gateway's incarnation (gateway.ts), so a restarted node's connection numbers never meet the
 * listeners of its previous life.
 */
export interface PresenceReport {
  node: string;
  /** [room, connection, token] */
  follows?: [number, number, string][];
  /** Connections that closed. */
  left?: number[];
  /** Identifies one refresh across its batches. */
  refresh?: number;
  /** Connections open when the refresh began. */
  open?: number[];
  /** On the last batch of a refresh: every connection numbered up to this that is not open is gone. */
  complete?: { maxConn: number };
}

/** A push for one connection of a node: [connection, update]. */
export type NodePush = [number, QueueUpdate];

/** How often gateways send their whole list; a node silent for FORGET_AFTER of them is forgotten. */
export const FORGET_AFTER = 3;

export class Followers implements QueueHooks {
  /** The one listener object per (node, connection): the queue actors key their maps by it. */
  private readonly listeners = new Map<string, Map<number, RemoteFollower>>();
  private readonly lastReport = new Map<string, number>();
  /** Connections said open in the refresh in progress, per node. */
  private readonly refreshing = new Map<string, { refresh: number; open: Set<number> }>();
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

  /**
   * Every refresh batch says which connections are open; the last one removes the listeners of
   * the others numbered up to its maxConn (a connection opened since has a higher number, and one
   * open then is kept whatever it followed meanwhile). This catches a `left` report that was lost.
   */
  private refreshed(report: PresenceReport, now: number): void {
    const { node, refresh } = report;
    let seen = this.refreshing.get(node);
    if (seen === undefined || seen.refresh !== refresh) {
      this.refreshing.set(node, (seen = { refresh: refresh!, open: new Set() }));
    }
    for (const conn of report.open ?? []) seen.open.add(conn);
    if (report.complete === undefined) return;
    this.refreshing.delete(node);
    const { maxConn } = report.complete;
    for (const conn of [...(this.listeners.get(node)?.keys() ?? [])]) {
      if (conn <= maxConn && !seen.open.has(conn)) this.leave(node, conn, now);
    }
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
