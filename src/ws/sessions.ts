// What ops may do with a WebSocket connection (the Session of op.ts): follow a queue token for its
// pushes, subscribe to a schedule's seat diffs. A single server's rooms are in this process; a
// cluster node's are on their owners (src/cluster/gateway.ts implements the same host).
import type { WebSocket } from "uWebSockets.js";
import type { WaitingRooms } from "../actors/rooms.js";
import type { Session } from "../api/op.js";
import type { Connection } from "./connection.js";
import { seatTopic } from "./pushes.js";

export interface SessionHost {
  /** The session ops get on this connection for one encoding (made once per connection and encoding). */
  sessionFor(ws: WebSocket<Connection>, isBinary: boolean): Session;
  /** The connection closed: whatever it followed is told. */
  closed(ws: WebSocket<Connection>): void;
}

/** Sessions over this process's waiting rooms. */
export function localSessions(rooms: WaitingRooms): SessionHost {
  return {
    sessionFor(ws, isBinary) {
      return {
        rememberQueueToken(room, token) {
          const connection = ws.getUserData();
          if (connection.closed) return;
          connection.queueBinary = isBinary;
          room.follow(ws, token, Date.now());
        },
        queueToken(room) {
          return room.followedBy(ws);
        },
        queueTokens() {
          const tokens: string[] = [];
          for (const room of rooms.all()) {
            const token = room.followedBy(ws);
            if (token !== undefined) tokens.push(token);
          }
          return tokens;
        },
        subscribeSeats(scheduleId) {
          subscribeSeats(ws, scheduleId, isBinary);
        },
        unsubscribeSeats(scheduleId) {
          unsubscribeSeats(ws, scheduleId);
        },
      };
    },
    closed(ws) {
      rooms.unfollow(ws, Date.now());
    },
  };
}

/** Subscribes the connection to a schedule's diffs in this encoding (and not the other). */
export function subscribeSeats(ws: WebSocket<Connection>, scheduleId: number, isBinary: boolean): void {
  if (ws.getUserData().closed) return;
  ws.unsubscribe(seatTopic(scheduleId, !isBinary));
  ws.subscribe(seatTopic(scheduleId, isBinary));
}

export function unsubscribeSeats(ws: WebSocket<Connection>, scheduleId: number): void {
  if (ws.getUserData().closed) return;
  ws.unsubscribe(seatTopic(scheduleId, false));
  ws.unsubscribe(seatTopic(scheduleId, true));
}
