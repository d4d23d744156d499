// Readable messages for the contract's error codes (the server's message stays as detail).
import { ClientError } from "../client/index.js";

const MESSAGES: Record<string, string> = {
  SEAT_UNAVAILABLE: "That seat was just taken by someone else. Pick another one.",
  HOLD_LIMIT: "You already hold as many seats as one person may. Pay for them or release one first.",
  INSUFFICIENT_BALANCE: "Your balance is too low for this payment. Add money first.",
  HOLD_EXPIRED: "A hold has expired or was released, so it can no longer be paid or released.",
  ALREADY_PAID: "Those seats are already paid for.",
  BALANCE_LIMIT: "That would take your balance over the allowed maximum.",
  TOKEN_INVALID: "Your time in the booking area has ended. Join the queue again.",
  TOKEN_NOT_ACTIVE: "You are still in the waiting room; you will be let in automatically.",
  UNAUTHENTICATED: "Your sign-in has expired. Reload the page and sign in again.",
  FORBIDDEN: "That belongs to someone else.",
  NOT_FOUND: "That no longer exists, or demo sign-in is switched off on this server.",
  RATE_LIMITED: "Too many requests at once; wait a moment and try again.",
  IDEMPOTENCY_MISMATCH: "That request was already made with other details.",
  UNAVAILABLE: "The server is restarting; try again in a moment.",
  CONNECTION_LOST: "The connection dropped before the server answered. Check your holds and balance.",
  TIMEOUT: "The server did not answer in time. Check your holds and balance.",
  NETWORK: "The server cannot be reached.",
};

export function readableError(error: unknown): string {
  if (error instanceof ClientError) {
    const text = MESSAGES[error.code];
    return text ? `${text} (${error.code}: ${error.message})` : `${error.message} (${error.code})`;
  }
  return `Something went wrong: ${(error as Error)?.message ?? String(error)}`;
}
