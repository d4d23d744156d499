// Sending to a connection: every frame of one turn for one connection leaves in one write.
// A queue push and the reply of the request that caused it (a check-in admitted at once, a
// payment ending the token) are decided in the same turn: the push waits in the connection's
// outbox and goes out corked with the reply, one syscall instead of two. Pushes with no reply
// behind them (admissions at a tick, position updates) leave at the end of the turn.
import type { WebSocket } from "uWebSockets.js";
import type { Connection, QueuedFrame } from "./connection.js";

const withPushes = new Set<WebSocket<Connection>>();
let flushScheduled = false;

/** Queues a push for `ws`; it leaves with the connection's next reply, or at the end of the turn. */
export function push(ws: WebSocket<Connection>, frame: QueuedFrame): void {
  const connection = ws.getUserData();
  if (connection.closed) return;
  (connection.outbox ??= []).push(frame);
  withPushes.add(ws);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushPushes);
  }
}

/** Sends `frame` now, after the pushes queued for this connection, in one corked write. */
export function send(ws: WebSocket<Connection>, frame: string | Buffer, isBinary: boolean): void {
  const connection = ws.getUserData();
  if (connection.closed) return;
  ws.cork(() => {
    sendQueued(ws, connection);
    ws.send(frame, isBinary);
  });
}

function sendQueued(ws: WebSocket<Connection>, connection: Connection): void {
  const queued = connection.outbox;
  if (queued === undefined) return;
  connection.outbox = undefined;
  withPushes.delete(ws);
  for (const frame of queued) ws.send(frame.encode(), frame.isBinary);
}

function flushPushes(): void {
  flushScheduled = false;
  // Closed connections are not here: forget() took them out when they closed.
  for (const ws of withPushes) ws.cork(() => sendQueued(ws, ws.getUserData()));
  withPushes.clear();
}

/** A closed connection's pushes are dropped (its WebSocket may not be touched any more). */
export function forget(ws: WebSocket<Connection>): void {
  ws.getUserData().outbox = undefined;
  withPushes.delete(ws);
}
