// What a WebSocket connection remembers between frames.
import type { Session } from "../api/op.js";
import type { TokenBucket } from "../api/rateLimit.js";
import type { Identity } from "../auth/users.js";
import type { QueuedFrame } from "./outbox.js";

export interface Connection {
  identity: Identity;
  /** The client's address, read at the upgrade (per-address limits of later ops). */
  address: string;
  /** The token its last queue.check got; gated ops use it unless args.token overrides. */
  queueToken: string | undefined;
  /** Queue pushes use the encoding of the queue.check that asked for them. */
  queueBinary: boolean;
  lastQueuePosition: number;
  closed: boolean;
  /** This connection's frame budget. */
  frames: TokenBucket;
  /** What ops may do with this connection, one per encoding (made once, not per frame). */
  sessions: { text?: Session; binary?: Session };
  /** Pushes waiting to leave with this turn's reply (outbox.ts). */
  outbox?: QueuedFrame[];
}
