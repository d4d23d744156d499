// The one error type of the API: codes and statuses of API.md's error table.
export const ERROR_STATUS = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  TOKEN_INVALID: 401,
  FORBIDDEN: 403,
  TOKEN_NOT_ACTIVE: 403,
  NOT_FOUND: 404,
  SEAT_UNAVAILABLE: 409,
  HOLD_LIMIT: 409,
  IDEMPOTENCY_MISMATCH: 409,
  HOLD_EXPIRED: 410,
  ALREADY_PAID: 409,
  INSUFFICIENT_BALANCE: 402,
  PAYLOAD_TOO_LARGE: 413,
  BALANCE_LIMIT: 422,
  UPGRADE_REQUIRED: 426,
  SOLD_OUT: 410,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every 429 and 503 tells the client when to try again (seconds), unless the thrower knows better. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

export class ApiError extends Error {
  /** Seconds to wait before retrying: set on every 429 and 503 (the `Retry-After` header, `error.retryAfter`). */
  readonly retryAfter: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    retryAfterSeconds?: number,
  ) {
    // A contract error is an expected answer, not a bug: capturing a stack trace for each
    // refused hold would be the most expensive part of refusing it.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "ApiError";
    const status = ERROR_STATUS[code];
    this.retryAfter =
      status === 429 || status === 503
        ? Math.max(1, Math.ceil(retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS))
        : undefined;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; retryAfter?: number };
}

/** Turns anything thrown into the wire error; unknown exceptions become INTERNAL (logged by the caller). */
export function toApiError(error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError("INTERNAL", `internal error (request ${requestId})`);
}

export function errorBody(error: ApiError): ErrorBody {
  if (error.retryAfter === undefined) return { error: { code: error.code, message: error.message } };
  return { error: { code: error.code, message: error.message, retryAfter: error.retryAfter } };
}

/** The `Retry-After` of a reply body made by errorBody (undefined when it has none). */
export function retryAfterOf(body: unknown): number | undefined {
  return (body as Partial<ErrorBody> | null)?.error?.retryAfter;
}
