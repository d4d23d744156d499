// Pushes: seat diffs to schedule topics (one per encoding) and the waiting room's news to the
// connections that follow a token.
import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import type { QueueHooks, QueueListener, QueueUpdate } from "../actors/queue.js";
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

/** Encodes the waiting room's news for the connection it is meant for (the queue actor decides who and when). */
export class QueuePushes implements QueueHooks {
  push(listener: QueueListener, update: QueueUpdate): void {
    const ws = listener as WebSocket<Connection>;
    const connection = ws.getUserData();
    if (connection.closed) return;
    const isBinary = connection.queueBinary;
    const frame = { ev: "queue" as const, ...update };
    outbox.push(ws, { encode: () => encodeFrame(frame, isBinary), isBinary });
  }
}
