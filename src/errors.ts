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
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    // A contract error is an expected answer, not a bug: capturing a stack trace for each
    // refused hold would be the most expensive part of refusing it.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "ApiError";
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Turns anything thrown into the wire error; unknown exceptions become INTERNAL (logged by the caller). */
export function toApiError(error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError("INTERNAL", `internal error (request ${requestId})`);
}

export function errorBody(error: ApiError): ErrorBody {
  return { error: { code: error.code, message: error.message } };
}
