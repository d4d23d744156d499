// Pushes: seat diffs to schedule topics (one per encoding) and queue progress to the
// connections that checked a token in.
import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import type { QueueActor } from "../actors/queue.js";
import type { SeatDiff } from "../actors/schedule.js";
import { encodeFrame } from "./codec.js";
import type { Connection } from "./connection.js";

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

/** Which open connections follow which queue token, and the last position each was told. */
export class QueuePushes {
  private readonly followers = new Map<string, Set<WebSocket<Connection>>>();

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

  /** After a tick: tell waiting followers whose position moved. */
  positionsMoved(): void {
    const now = Date.now();
    for (const [token, set] of this.followers) {
      const status = this.queue.status(token, now);
      if (status?.status !== "waiting") continue;
      for (const ws of set) {
        const connection = ws.getUserData();
        if (connection.lastQueuePosition === status.position) continue;
        this.send(ws, { ev: "queue", ...status });
      }
    }
  }

  private send(ws: WebSocket<Connection>, frame: { ev: "queue"; position: number }): void {
    const connection = ws.getUserData();
    if (connection.closed) return;
    connection.lastQueuePosition = frame.position;
    ws.cork(() => ws.send(encodeFrame(frame, connection.queueBinary), connection.queueBinary));
  }
}
