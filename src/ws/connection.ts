// What a WebSocket connection remembers between frames.
import type { Session } from "../api/op.js";
import type { TokenBucket } from "../api/rateLimit.js";
import type { Identity } from "../auth/users.js";

export interface Connection {
  identity: Identity;
  /** The client's address, read at the upgrade (per-address limits of later ops). */
  address: string;
  /** Queue pushes use the encoding of the queue.check that asked for them. */
  queueBinary: boolean;
  closed: boolean;
  /** This connection's frame budget. */
  frames: TokenBucket;
  /** What ops may do with this connection, one per encoding (made once, not per frame). */
  sessions: { text?: Session; binary?: Session };
  /** Pushes waiting to leave with this turn's reply (outbox.ts). */
  outbox?: QueuedFrame[];
}

/** A push waiting in a connection's outbox. */
export interface QueuedFrame {
  /** Encoded when it leaves: msgpackr reuses its buffer, so bytes are not kept across a turn. */
  encode(): string | Buffer;
  isBinary: boolean;
}
