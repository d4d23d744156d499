// Every node is a gateway: it terminates WebSockets and fans pushes out to its own sockets, while
// the rooms that decide them live on their owners. This is the SessionHost of a node's
// WebSockets (src/ws/sessions.ts has the single server's):
// - a connection gets a number; the queue tokens it follows are remembered here per room, and
//   sent with each op routed to an owner (routing.ts), whose answer says what to follow now;
// - seat diffs: the node subscribes to a schedule's NATS subject while at least one of its
//   sockets follows it, and publishes what arrives to its local uWS topics (the same frames a
//   single server publishes), so fan-out costs every node its own sockets, not the owner all;
// - queue pushes for its sockets arrive on this node's subject, one message per owner per turn;
// - presence: closed connections are reported at once, and the whole list of what its sockets
//   follow every interval, so a room's new owner learns its followers (followers.ts).

import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import { randomBytes } from "node:crypto";
import type { QueueActor } from "../actors/queue.js";
import type { SeatDiff } from "../actors/schedule.js";
import type { Session } from "../api/op.js";
import type { Logger } from "../log.js";
import type { Connection } from "../ws/connection.js";
import { publishSeats, type QueuePushes } from "../ws/pushes.js";
import { type SessionHost, subscribeSeats, unsubscribeSeats } from "../ws/sessions.js";
import type { Bus } from "./bus.js";
import type { NodePush, PresenceReport } from "./followers.js";
import { subjects } from "./subjects.js";

/** What an owner needs to know about the connection an op came on. */
export interface RemoteSessionInfo {
  conn: number;
  binary: boolean;
  /** [room, token] of every token the connection follows. */
  tokens: [number, string][];
}

/** What an owner's answer asks the gateway to do with the connection. */
export interface SessionEffects {
  /** The connection now follows this token of this room (queue.check). */
  follow?: [number, string];
  subscribe?: number[];
  unsubscribe?: number[];
}

interface GatewayConnection {
  conn: number;
  followed: Map<number, string>;
  seats: Set<number>;
}

/** Follows per presence message (a refresh of 100,000 sockets is 20 messages). */
const REPORT_BATCH = 5000;

export class Gateway implements SessionHost {
  /**
   * This node's gateway in this process's life: its NODE_ID and a random suffix. Owners know its
   * sockets by it (followers.ts) and send its pushes to its subject, so a restarted node never
   * receives pushes meant for the connections of its previous life.
   */
  readonly id: string;
  private readonly connections = new Map<number, WebSocket<Connection>>();
  private readonly state = new WeakMap<WebSocket<Connection>, GatewayConnection>();
  private readonly sessionSockets = new WeakMap<Session, { ws: WebSocket<Connection>; binary: boolean }>();
  private readonly seatSubscriptions = new Map<
    number,
    { count: number; unsubscribe: () => void; ready: Promise<void> }
  >();
  private nextConn = 0;
  private left: number[] = [];
  private leftScheduled = false;
  private refreshes = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopNodeSubscription: (() => void) | undefined;

  constructor(
    private readonly deps: {
      bus: Bus;
      nodeId: string;
      app: TemplatedApp;
      queuePushes: QueuePushes;
      log: Logger;
      presenceIntervalMs: number;
    },
  ) {
    this.id = `${deps.nodeId}-${randomBytes(6)
      .toString("base64url")
      .replace(/[^A-Za-z0-9]/g, "x")}`;
  }

  /** Receives this node's queue pushes and starts the presence refreshes. */
  start(): void {
    const { bus, presenceIntervalMs } = this.deps;
    this.stopNodeSubscription = bus.subscribe(subjects.node(this.id), (payload) => this.deliver(payload as NodePush[]));
    this.timer = setInterval(() => this.refresh(), presenceIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.stopNodeSubscription?.();
    for (const { unsubscribe } of this.seatSubscriptions.values()) unsubscribe();
    this.seatSubscriptions.clear();
  }

  sessionFor(ws: WebSocket<Connection>, isBinary: boolean): Session {
    const connection = this.connectionOf(ws);
    const session: Session = {
      rememberQueueToken: (room: QueueActor, token: string) => {
        if (ws.getUserData().closed) return;
        ws.getUserData().queueBinary = isBinary;
        connection.followed.set(room.room, token);
      },
      queueToken: (room: QueueActor) => connection.followed.get(room.room),
      queueTokens: () => [...connection.followed].sort(([a], [b]) => a - b).map(([, token]) => token),
      subscribeSeats: (scheduleId: number) => this.subscribe(ws, connection, scheduleId, isBinary),
      unsubscribeSeats: (scheduleId: number) => this.unsubscribe(ws, connection, scheduleId),
    };
    this.sessionSockets.set(session, { ws, binary: isBinary });
    return session;
  }

  closed(ws: WebSocket<Connection>): void {
    const connection = this.state.get(ws);
    if (connection === undefined) return;
    this.connections.delete(connection.conn);
    for (const scheduleId of connection.seats) this.release(scheduleId);
    connection.seats.clear();
    if (connection.followed.size === 0) return;
    this.left.push(connection.conn);
    if (!this.leftScheduled) {
      this.leftScheduled = true;
      setImmediate(() => {
        this.leftScheduled = false;
        const left = this.left;
        this.left = [];
        this.report({ node: this.id, left });
      });
    }
  }

  /** The connection behind a session, as an owner needs it; undefined for HTTP (no session). */
  describe(session: Session | undefined): RemoteSessionInfo | undefined {
    const socket = session === undefined ? undefined : this.sessionSockets.get(session);
    if (socket === undefined) return undefined;
    const connection = this.connectionOf(socket.ws);
    return { conn: connection.conn, binary: socket.binary, tokens: [...connection.followed] };
  }

  /**
   * Before a seats.subscribe is sent to the owner: this node receives the schedule's diffs from
   * now on (the NATS server has the subscription), so none published after the owner's snapshot
   * is missed. Returns the hold to let go once the answer is applied.
   */
  async prepareSeats(scheduleId: number): Promise<() => void> {
    const subscription = this.acquire(scheduleId);
    await subscription.ready;
    return () => this.release(scheduleId);
  }

  /** Applies an owner's answer to the connection of `session`. */
  apply(session: Session | undefined, effects: SessionEffects | undefined): void {
    if (effects === undefined || session === undefined) return;
    const socket = this.sessionSockets.get(session);
    if (socket === undefined || socket.ws.getUserData().closed) return;
    const { ws, binary } = socket;
    const connection = this.connectionOf(ws);
    if (effects.follow) {
      const [room, token] = effects.follow;
      ws.getUserData().queueBinary = binary;
      connection.followed.set(room, token);
    }
    for (const scheduleId of effects.subscribe ?? []) this.subscribe(ws, connection, scheduleId, binary);
    for (const scheduleId of effects.unsubscribe ?? []) this.unsubscribe(ws, connection, scheduleId);
  }

  /** Queue pushes for this node's sockets (from an owner, over NATS or in process). */
  deliver(pushes: NodePush[]): void {
    for (const [conn, update] of pushes) {
      const ws = this.connections.get(conn);
      if (ws !== undefined) this.deps.queuePushes.push(ws, update);
    }
  }

  private connectionOf(ws: WebSocket<Connection>): GatewayConnection {
    let connection = this.state.get(ws);
    if (connection === undefined) {
      connection = { conn: ++this.nextConn, followed: new Map(), seats: new Set() };
      this.state.set(ws, connection);
      this.connections.set(connection.conn, ws);
    }
    return connection;
  }

  private subscribe(ws: WebSocket<Connection>, connection: GatewayConnection, scheduleId: number, binary: boolean) {
    if (ws.getUserData().closed) return;
    if (!connection.seats.has(scheduleId)) {
      connection.seats.add(scheduleId);
      this.acquire(scheduleId);
    }
    subscribeSeats(ws, scheduleId, binary);
  }

  private unsubscribe(ws: WebSocket<Connection>, connection: GatewayConnection, scheduleId: number) {
    if (connection.seats.delete(scheduleId)) this.release(scheduleId);
    unsubscribeSeats(ws, scheduleId);
  }

  /** One more follower of the schedule on this node: the first subscribes to its subject. */
  private acquire(scheduleId: number) {
    let subscription = this.seatSubscriptions.get(scheduleId);
    if (subscription === undefined) {
      const { bus, app } = this.deps;
      const unsubscribe = bus.subscribe(subjects.seats(scheduleId), (diff) => publishSeats(app, diff as SeatDiff));
      subscription = { count: 0, unsubscribe, ready: bus.flush().catch(() => {}) };
      this.seatSubscriptions.set(scheduleId, subscription);
    }
    subscription.count++;
    return subscription;
  }

  private release(scheduleId: number): void {
    const subscription = this.seatSubscriptions.get(scheduleId);
    if (subscription === undefined || --subscription.count > 0) return;
    subscription.unsubscribe();
    this.seatSubscriptions.delete(scheduleId);
  }

  /** The whole list of what this node's sockets follow, and which are open, in batches (followers.ts). */
  private refresh(): void {
    const node = this.id;
    const refresh = ++this.refreshes;
    const maxConn = this.nextConn;
    let follows: [number, number, string][] = [];
    let open: number[] = [];
    for (const [conn, ws] of this.connections) {
      open.push(conn);
      for (const [room, token] of this.state.get(ws)!.followed) follows.push([room, conn, token]);
      if (follows.length + open.length >= REPORT_BATCH) {
        this.report({ node, follows, open, refresh });
        follows = [];
        open = [];
      }
    }
    this.report({ node, follows, open, refresh, complete: { maxConn } });
  }

  private report(report: PresenceReport): void {
    try {
      this.deps.bus.publish(subjects.presence, report);
    } catch (error) {
      this.deps.log.warn({ err: error }, "presence report not sent");
    }
  }
}
