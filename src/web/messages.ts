// Sentences for people for every error code the page can meet (the contract's and the client's
// own), some worded for the action that failed. The code stays available for support as data-code.
import { ClientError, type ErrorCode, type TransportErrorCode } from "../client/index.js";

export type Code = ErrorCode | TransportErrorCode;
/** What the fan was doing: some codes mean something else depending on it. */
export type Action = "login" | "queue" | "browse" | "hold" | "best" | "release" | "pay" | "charge" | "list";

// `{wait}` becomes "in N seconds" from the error's retryAfter, or "in a moment".
const MESSAGES: Record<Code, string> = {
  INVALID_ARGUMENT: "The server could not accept that request. Check what you entered and try again.",
  UNAUTHENTICATED: "Your sign-in has run out. Sign in again to continue.",
  TOKEN_INVALID:
    "Your booking window has ended. You can still pay for the seats you hold; join the line again to hold more.",
  FORBIDDEN: "That reservation belongs to someone else.",
  TOKEN_NOT_ACTIVE: "You are still in the waiting room. This page lets you in by itself when it is your turn.",
  NOT_FOUND: "That concert, date or seat no longer exists. Reload the page to see what is on sale.",
  SEAT_UNAVAILABLE: "Someone else took that seat a moment ago. Pick another one.",
  HOLD_LIMIT: "You already hold as many seats as one person may. Pay for them or release one first.",
  IDEMPOTENCY_MISMATCH: "That request clashed with an earlier one. Try again.",
  HOLD_EXPIRED: "A hold ran out or was released before this went through. Your holds are shown as they are now.",
  ALREADY_PAID: "Those seats are already paid for: they are yours.",
  INSUFFICIENT_BALANCE: "Your balance is too low for these seats.",
  PAYLOAD_TOO_LARGE: "That request was too large for the server.",
  BALANCE_LIMIT: "That would take your balance over the allowed maximum. Add a smaller amount.",
  UPGRADE_REQUIRED: "The live connection could not be set up. Reload the page.",
  SOLD_OUT: "This concert is sold out.",
  RATE_LIMITED: "Too many requests at once. Try again {wait}.",
  INTERNAL: "Something went wrong on the server. Check your holds and balance before trying again.",
  UNAVAILABLE: "The server is busy or restarting. Try again {wait}.",
  NETWORK: "The server cannot be reached. Check your internet connection.",
  TIMEOUT: "The server did not answer in time. Check your holds and balance before trying again.",
  CONNECTION_LOST: "The connection dropped before the server answered. Your holds are re-read once it is back.",
  BAD_RESPONSE: "The server sent an answer this page could not read. Reload the page.",
  CLOSED: "You have signed out.",
};

const BY_ACTION: Partial<Record<Action, Partial<Record<Code, string>>>> = {
  login: {
    NOT_FOUND: "Demo sign-in is switched off on this server.",
    INVALID_ARGUMENT: "Enter a name of 1 to 59 letters, digits or spaces.",
    RATE_LIMITED: "Too many sign-ins from your address. Try again {wait}.",
  },
  queue: {
    UNAVAILABLE: "The waiting room is full right now. Try again {wait}.",
    FORBIDDEN: "That place in line belongs to another account. Sign out and sign in again.",
    NOT_FOUND: "That on-sale no longer exists. Pick another concert.",
    SOLD_OUT: "Sold out: every seat of this concert is taken.",
  },
  browse: { FORBIDDEN: "This concert has a waiting room of its own: line up for it in its on-sale." },
  hold: {
    NOT_FOUND: "That seat or date no longer exists. Pick another seat.",
    FORBIDDEN: "This concert has a waiting room of its own: line up for it in its on-sale.",
  },
  best: {
    SEAT_UNAVAILABLE:
      "No row has that many free seats side by side for what you asked. Ask for fewer seats or another category, or pick seats on the map.",
    HOLD_LIMIT:
      "That would be more seats than one person may hold. Ask for fewer, or pay for or release the seats you hold first.",
    NOT_FOUND: "That date no longer exists. Pick another date.",
    FORBIDDEN: "This concert has a waiting room of its own: line up for it in its on-sale.",
  },
  release: { HOLD_EXPIRED: "That hold had already run out; the seat is free again." },
  charge: {
    INVALID_ARGUMENT: "Enter a whole number of won, at least 1 (the server also sets a maximum per charge).",
  },
  pay: { FORBIDDEN: "One of these reservations belongs to someone else. Reload the page." },
};

export function errorCode(error: unknown): Code | undefined {
  return error instanceof ClientError ? error.code : undefined;
}

export function readableError(error: unknown, action?: Action): string {
  if (!(error instanceof ClientError)) return "Something went wrong in this page. Reload it and try again.";
  const text = (action && BY_ACTION[action]?.[error.code]) ?? MESSAGES[error.code] ?? MESSAGES.INTERNAL;
  const wait = error.retryAfter ? `in ${error.retryAfter} second${error.retryAfter === 1 ? "" : "s"}` : "in a moment";
  return text.replace("{wait}", wait);
}
