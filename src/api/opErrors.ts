// The error codes an op can answer, per transport: what its handler declares (Op.errors) plus what
// its definition implies (gate, route, arguments, limits). /openapi.json and /asyncapi.json list
// exactly these, and tests/integration/openapi.conformance.test.ts checks the server keeps to them.
import { ERROR_STATUS, type ErrorCode } from "../errors.js";
import type { Op } from "./op.js";

export type Transport = "http" | "ws";

/** The codes in the order of the error table (by status, then as API.md lists them). */
export function errorCodesOf(op: Op, transport: Transport): ErrorCode[] {
  const codes = new Set<ErrorCode>(op.errors);
  // Any request: a bug, and the server shutting down or its storage failing.
  codes.add("INTERNAL").add("UNAVAILABLE");
  // An op that exists only under some configuration is NOT_FOUND when off (dispatch.ts).
  if (op.enabled) codes.add("NOT_FOUND");
  if (op.gate === "none") {
    if (op.limitPerAddress) codes.add("RATE_LIMITED");
  } else {
    // Bad credentials; then an address that spent its failed attempts, or a user over budget.
    codes.add("UNAUTHENTICATED").add("RATE_LIMITED");
  }
  if (op.gate === "active") codes.add("TOKEN_INVALID").add("FORBIDDEN").add("TOKEN_NOT_ACTIVE");
  if (transport === "ws") {
    // Every frame: its args must be an object that the op's schema accepts; the connection has a budget.
    codes.add("INVALID_ARGUMENT").add("RATE_LIMITED");
  } else if (op.http) {
    // A path id that is not a positive integer, or a body: malformed, wrong, too large, or one too many in flight.
    if (op.http.path.includes(":")) codes.add("INVALID_ARGUMENT");
    if (op.http.method === "POST" || op.http.method === "PATCH")
      codes.add("INVALID_ARGUMENT").add("PAYLOAD_TOO_LARGE").add("UNAVAILABLE");
  }
  return (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => codes.has(code));
}

/** The codes grouped by HTTP status, statuses ascending. */
export function byStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b])) {
    const status = ERROR_STATUS[code];
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return groups;
}
