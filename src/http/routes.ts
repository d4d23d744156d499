// HTTP transport: maps each op's route onto uWS, decodes path, headers and JSON body, replies.
import type { HttpRequest, TemplatedApp } from "uWebSockets.js";
import type { Admitted, Credentials, Dispatcher } from "../api/dispatch.js";
import type { Op } from "../api/op.js";
import { ops } from "../api/ops/index.js";
import { bearerToken } from "../auth/users.js";
import { ApiError, errorBody } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { readBody } from "./body.js";
import { clientAddress } from "./clientAddress.js";
import { API_PRIVATE_REVALIDATE_HEADERS, type HeaderList } from "./headers.js";
import { metricsRoute } from "./metricsRoute.js";
import { sendJson, sendNotModified, type TrackedResponse } from "./reply.js";

export interface HttpDeps {
  dispatcher: Dispatcher;
  metrics: Metrics;
  maxBodyBytes: number;
  /** The body limit of admin ops (ADMIN_MAX_BODY_BYTES), checked once the admin token is. */
  adminMaxBodyBytes: number;
  bodyTimeoutMs: number;
  /** Bodies received at once over every connection; one more is 503 (each may hold maxBodyBytes). */
  maxInflightBodies: number;
  trustProxy: boolean;
  /**
   * The per-address limits are on (RATE_LIMIT_PER_IP): an op may need the client's address after
   * its body arrived, so a POST reads it while the request is there. Off, nothing reads it.
   */
  limitsPerAddress: boolean;
  /** When set, GET /metrics needs it as a bearer token. */
  metricsToken: string | undefined;
  nextRequestId: () => string;
  /** Why storage cannot be trusted now (the database file was deleted or replaced), or undefined. */
  storageProblem?: () => string | undefined;
}

/** Bodies being received right now (see HttpDeps.maxInflightBodies). */
let bodiesInFlight = 0;

const METHODS = { GET: "get", POST: "post", PATCH: "patch", DELETE: "del" } as const;

/** A path parameter becomes a number when it is a plain positive integer; the schema judges the rest. */
function paramValue(raw: string): number | string {
  return /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : raw;
}

export function registerHttpRoutes(app: TemplatedApp, deps: HttpDeps): void {
  for (const op of ops) {
    if (op.http) app[METHODS[op.http.method]](op.http.path, (res, req) => handleOp(op, res, req, deps));
  }

  app.get("/healthz", (res: TrackedResponse) => {
    const problem = deps.dispatcher.closing ? "shutting down" : deps.storageProblem?.();
    sendJson(res, problem ? 503 : 200, problem ? errorBody(new ApiError("UNAVAILABLE", problem)) : { ok: true });
  });

  app.get("/metrics", metricsRoute(deps.metrics, deps.metricsToken));

  app.any("/*", (res: TrackedResponse, req) => {
    const started = performance.now();
    const requestId = deps.nextRequestId();
    const reply = {
      status: 404,
      body: errorBody(new ApiError("NOT_FOUND", `no route ${req.getMethod().toUpperCase()} ${req.getUrl()}`)),
    };
    deps.dispatcher.record("http.unknown", reply, requestId, started);
    sendJson(res, reply.status, reply.body, { requestId });
  });
}

function handleOp(op: Op, res: TrackedResponse, req: HttpRequest, deps: HttpDeps): void {
  const started = performance.now();
  // uWS requests live only during this call: read every header and parameter now.
  const requestId = req.getHeader("x-request-id").slice(0, 64) || deps.nextRequestId();
  const bearer = bearerToken(req.getHeader("authorization"));
  const queueToken = req.getHeader("queue-token") || undefined;
  const idempotencyKey = req.getHeader("idempotency-key");
  const contentLength = Number(req.getHeader("content-length") || 0);
  const forwardedFor = deps.trustProxy ? req.getHeader("x-forwarded-for") : "";
  // POST and PATCH carry a JSON body.
  const isPost = op.http!.method === "POST" || op.http!.method === "PATCH";
  const params: Record<string, unknown> = {};
  op.http!.path.split("/")
    .filter((segment) => segment.startsWith(":"))
    .forEach((name, index) => {
      params[name.slice(1)] = paramValue(req.getParameter(index));
    });
  for (const name of op.http!.query ?? []) {
    const value = req.getQuery(name);
    if (value) params[name] = value;
  }
  if (idempotencyKey) params.idempotencyKey = idempotencyKey;
  // A conditional GET: the ETag the caller's copy has (an explicit etag query arg wins).
  const ifNoneMatch = op.http!.cache === "etag" ? entityTag(req.getHeader("if-none-match")) : undefined;
  if (ifNoneMatch !== undefined && params.etag === undefined) params.etag = ifNoneMatch;
  let releaseBody = () => {};
  res.onAborted(() => {
    res.done = true;
    releaseBody();
  });
  let address: string | undefined;
  const credentials: Credentials = {
    bearer,
    address: () => (address ??= clientAddress(res, forwardedFor, deps.trustProxy)),
  };
  // A POST's op may need the address after its body arrives, when the request is gone.
  if (isPost && deps.limitsPerAddress) credentials.address();

  const fail = (error: ApiError, closeConnection = false) => {
    const reply = { status: error.status, body: errorBody(error) };
    deps.dispatcher.record(op.name, reply, requestId, started);
    sendJson(res, reply.status, reply.body, { requestId, closeConnection });
  };
  // Who is asking is decided from the headers, before a byte of body is read.
  let admitted: Admitted;
  try {
    admitted = deps.dispatcher.admit(op, credentials, Date.now());
  } catch (thrown) {
    fail(deps.dispatcher.refusal(op, thrown, requestId), isPost);
    return;
  }
  // A body that cannot be decoded is still answered through the op path: its error travels as the args.
  const run = (body: Record<string, unknown> | ApiError) => {
    const args = body instanceof ApiError ? body : { ...body, ...params };
    deps.dispatcher
      .run({ op, args, requestId, ...credentials, admitted, queueToken })
      .then((reply) =>
        op.http!.cache === "etag" && reply.status === 200
          ? sendCached(res, reply.body as CachedBody, requestId, ifNoneMatch !== undefined)
          : sendJson(res, reply.status, reply.body, { requestId }),
      );
  };

  if (!isPost) {
    run({});
    return;
  }
  // An admin's body (a concert with its venues) may be larger; the admin token was checked above.
  const maxBodyBytes = op.gate === "admin" ? deps.adminMaxBodyBytes : deps.maxBodyBytes;
  const tooLarge = () => fail(new ApiError("PAYLOAD_TOO_LARGE", `body over ${maxBodyBytes} bytes`), true);
  if (contentLength > maxBodyBytes) {
    tooLarge();
    return;
  }
  if (bodiesInFlight >= deps.maxInflightBodies) {
    fail(new ApiError("UNAVAILABLE", "too many requests are sending bodies; retry shortly"), true);
    return;
  }
  bodiesInFlight++;
  let receiving = true;
  releaseBody = () => {
    if (!receiving) return;
    receiving = false;
    bodiesInFlight--;
  };
  readBody(
    res,
    { maxBytes: maxBodyBytes, timeoutMs: deps.bodyTimeoutMs },
    (raw) => {
      releaseBody();
      if (raw.length === 0) return run({});
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return run(new ApiError("INVALID_ARGUMENT", "the body is not valid JSON"));
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return run(new ApiError("INVALID_ARGUMENT", "the body must be a JSON object"));
      }
      run(body as Record<string, unknown>);
    },
    () => {
      releaseBody();
      tooLarge();
    },
    () => releaseBody(),
  );
}

/** The body of an op cached by ETag (HttpRoute.cache). */
interface CachedBody {
  etag: string;
  notModified?: true;
}

/**
 * A reply of an op cached by ETag: its ETag and Cache-Control (private, no-cache) headers, and a
 * 304 without a body when the caller's If-None-Match named the current ETag.
 */
function sendCached(res: TrackedResponse, body: CachedBody, requestId: string, conditional: boolean): void {
  const headers: HeaderList = [...API_PRIVATE_REVALIDATE_HEADERS, ["etag", `"${body.etag}"`]];
  if (body.notModified === true && conditional) sendNotModified(res, headers, requestId);
  else sendJson(res, 200, body, { requestId, base: headers });
}

/** The first entity tag of an If-None-Match header, without W/ and quotes; undefined when absent or `*`. */
export function entityTag(header: string): string | undefined {
  const first = header.split(",")[0]?.trim().replace(/^W\//, "") ?? "";
  const tag = first.startsWith('"') && first.endsWith('"') && first.length >= 2 ? first.slice(1, -1) : first;
  return tag === "" || tag === "*" || tag.length > 200 ? undefined : tag;
}
