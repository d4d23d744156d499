// What each error code means, for people reading /openapi.json and /asyncapi.json (API.md's "when").
import type { ErrorCode } from "../errors.js";

export const ERROR_MEANING: Record<ErrorCode, string> = {
  INVALID_ARGUMENT: "malformed JSON or frame, wrong types, out-of-range values, unknown op",
  UNAUTHENTICATED: "no, bad or expired user or admin credentials",
  TOKEN_INVALID: "queue token missing, unknown or expired",
  FORBIDDEN: "the reservation or queue token belongs to another user",
  TOKEN_NOT_ACTIVE: "the queue token is still waiting",
  NOT_FOUND: "no such concert, schedule, seat or reservation (or the op is off on this server)",
  SEAT_UNAVAILABLE: "the seat is held or sold",
  HOLD_LIMIT: "the caller already holds MAX_HOLDS_PER_USER seats",
  IDEMPOTENCY_MISMATCH: "the Idempotency-Key was used with another request",
  HOLD_EXPIRED: "the hold expired or was released",
  ALREADY_PAID: "the reservation is already paid",
  INSUFFICIENT_BALANCE: "the balance is below the payment's amount; nothing changed",
  PAYLOAD_TOO_LARGE: "body or frame over the configured limit",
  BALANCE_LIMIT: "the charge would take the balance over BALANCE_MAX; nothing changed",
  UPGRADE_REQUIRED: "GET /v1/ws without a WebSocket upgrade",
  SOLD_OUT: "the on-sale is sold out (a check-in by a fan with no live token in its room)",
  RATE_LIMITED: "the caller (user, connection or address) is over its budget; retry after Retry-After",
  INTERNAL: "a bug, logged with the request id",
  UNAVAILABLE:
    "shutting down, storage unavailable, waiting room full or too many bodies in flight; retry after Retry-After",
};
