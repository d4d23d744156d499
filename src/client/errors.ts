// The one error the client throws: a contract error from the server, or a transport failure.
import type { ErrorCode } from "../errors.js";

/** Client-side failures that never come from the server. */
export type TransportErrorCode = "NETWORK" | "TIMEOUT" | "CONNECTION_LOST" | "BAD_RESPONSE" | "CLOSED";

export class ClientError extends Error {
  constructor(
    readonly code: ErrorCode | TransportErrorCode,
    message: string,
    /** HTTP status of a server error (undefined over WebSocket and for transport failures). */
    readonly status?: number,
    /** Seconds the server asks to wait before retrying (every 429 and 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ClientError";
  }

  /** True when the server never answered: a mutation may or may not have happened. */
  get outcomeUnknown(): boolean {
    return this.code === "NETWORK" || this.code === "TIMEOUT" || this.code === "CONNECTION_LOST";
  }
}
