// Pushes: seat diffs to schedule topics (one per encoding) and queue progress to the
// connections that checked a token in.
import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import type { QueueActor } from "../actors/queue.js";
import type { SeatDiff } from "../actors/schedule.js";
import { encodeFrame } from "./codec.js";
import type { Connection } from "./connection.js";
import * as outbox from "./outbox.js";

export function seatTopic(scheduleId: number, isBinary: boolean): string {
  return `seats/${scheduleId}/${isBinary ? "msgpack" : "json"}`;
}

export function publishSeats(app: TemplatedApp, diff: SeatDiff): void {
  const frame = { ev: "seats", scheduleId: diff.scheduleId, version: diff.version, changes: diff.changes };
  for (const isBinary of [false, true]) {
    const topic = seatTopic(diff.scheduleId, isBinary);
    if (app.numSubscribers(topic) > 0) app.publish(topic, encodeFrame(frame, isBinary), isBinary);
  }
}

/** A waiter is told its new position at most once a second. */
const POSITION_PUSH_INTERVAL_MS = 1000;
/** Followers looked at per second by the position sweep: bounds its cost with 100k waiters. */
const POSITION_VISITS_PER_SECOND = 5000;

/** Which open connections follow which queue token, and the last position each was told. */
export class QueuePushes {
  private readonly followers = new Map<string, Set<WebSocket<Connection>>>();
  /** The position sweep in progress (a live Map iterator), resumed at each tick. */
  private sweep: MapIterator<[string, Set<WebSocket<Connection>>]> | null = null;
  private sweepStartedAt = 0;

  constructor(private readonly queue: QueueActor) {}

  follow(ws: WebSocket<Connection>, token: string, now: number): void {
    const connection = ws.getUserData();
    if (connection.queueToken === token) return;
    this.unfollow(ws, now);
    connection.queueToken = token;
    connection.lastQueuePosition = this.queue.status(token, now)?.position ?? -1;
    let set = this.followers.get(token);
    if (!set) this.followers.set(token, (set = new Set()));
    set.add(ws);
    this.queue.attach(token);
  }

  unfollow(ws: WebSocket<Connection>, now: number): void {
    const connection = ws.getUserData();
    const token = connection.queueToken;
    if (token === undefined) return;
    connection.queueToken = undefined;
    const set = this.followers.get(token);
    set?.delete(ws);
    if (set?.size === 0) this.followers.delete(token);
    this.queue.detach(token, now);
  }

  /** A token was admitted or left the line. */
  tokenChanged(token: string, change: { status: "active" } | { status: "expired"; reason: string }): void {
    const set = this.followers.get(token);
    if (!set) return;
    const now = Date.now();
    if (change.status === "active") {
      const status = this.queue.status(token, now);
      if (!status) return;
      for (const ws of set) this.send(ws, { ev: "queue", ...status });
      return;
    }
    const frame = {
      ev: "queue" as const,
      status: "expired",
      reason: change.reason,
      position: 0,
      waiting: this.queue.waiting,
      etaSeconds: 0,
      token,
    };
    for (const ws of set) {
      this.send(ws, frame);
      ws.getUserData().queueToken = undefined;
    }
    this.followers.delete(token);
  }

  /**
   * After a tick: tell waiting followers whose position moved. The sweep visits a bounded number
   * of followers per tick and starts over at most once a second, so one tick never stalls the
   * event loop, however long the line; admission and expiry are pushed at once (tokenChanged).
   */
  positionsMoved(tickMs: number): void {
    const now = Date.now();
    if (this.sweep === null) {
      if (now - this.sweepStartedAt < POSITION_PUSH_INTERVAL_MS) return;
      this.sweep = this.followers.entries();
      this.sweepStartedAt = now;
    }
    for (let budget = Math.max(100, (POSITION_VISITS_PER_SECOND * tickMs) / 1000); budget > 0; budget--) {
      const next = this.sweep.next();
      if (next.done) {
        this.sweep = null;
        return;
      }
      const [token, set] = next.value;
      const status = this.queue.status(token, now);
      if (status?.status !== "waiting") continue;
      for (const ws of set) {
        if (ws.getUserData().lastQueuePosition !== status.position) this.send(ws, { ev: "queue", ...status });
      }
    }
  }

  private send(ws: WebSocket<Connection>, frame: { ev: "queue"; position: number }): void {
    const connection = ws.getUserData();
    if (connection.closed) return;
    connection.lastQueuePosition = frame.position;
    const isBinary = connection.queueBinary;
    outbox.push(ws, { encode: () => encodeFrame(frame, isBinary), isBinary });
  }
}
