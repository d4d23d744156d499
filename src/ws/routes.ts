// WebSocket transport at /v1/ws: authenticates the upgrade, decodes frames, runs ops, replies.
import type { TemplatedApp, WebSocket } from "uWebSockets.js";
import type { Dispatcher } from "../api/dispatch.js";
import { opsByName } from "../api/ops/index.js";
import { type AddressLimiter, type RateLimit, TokenBucket } from "../api/rateLimit.js";
import { type Authenticator, bearerToken, type Identity } from "../auth/users.js";
import { ApiError, errorBody } from "../errors.js";
import { clientAddress } from "../http/clientAddress.js";
import { upgradeOriginAllowed } from "../http/cors.js";
import { withHead } from "../http/head.js";
import type { HeaderList } from "../http/headers.js";
import { sendJson, type TrackedResponse } from "../http/reply.js";
import { decodeFrame, encodeFrame, encodeReply } from "./codec.js";
import type { Connection } from "./connection.js";
import * as outbox from "./outbox.js";
import type { SessionHost } from "./sessions.js";

export interface WsDeps {
  dispatcher: Dispatcher;
  authenticator: Authenticator;
  /** Every upgrade spends one token of its address (RATE_LIMIT_PER_IP). */
  perAddress: AddressLimiter;
  trustProxy: boolean;
  /** What ops may do with a connection (queue pushes, seat topics), and who is told when it closes. */
  sessions: SessionHost;
  maxFrameBytes: number;
  nextRequestId: () => string;
  /** Frames per connection (the dispatcher also limits per user). */
  rateLimit: RateLimit;
  maxConnectionsPerUser: number;
  /** Bytes a connection may leave unread before it is dropped (see docs/reliability.md). */
  maxBackpressureBytes: number;
  /** CORS_ORIGINS: when set, a browser's upgrade must come from one of them or the server's own host. */
  corsOrigins: readonly string[];
}

/** Frames over this are refused by uWS itself (close 1009); up to it we answer PAYLOAD_TOO_LARGE. */
const HARD_FRAME_LIMIT = 1024 * 1024;

/** RFC 9110: a 426 names the protocol to upgrade to. */
const UPGRADE_HEADERS: HeaderList = [
  ["upgrade", "websocket"],
  ["connection", "Upgrade"],
];

export function registerWebSocket(app: TemplatedApp, deps: WsDeps): void {
  const openByUser = new Map<string, number>();
  app.ws<Connection>("/v1/ws", {
    maxPayloadLength: HARD_FRAME_LIMIT,
    // Slow consumer policy: a connection whose unread output passes the limit is closed rather
    // than buffered without bound or silently skipped; the client reconnects and re-subscribes.
    maxBackpressure: deps.maxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    upgrade(res, req, context) {
      const token = bearerToken(req.getHeader("authorization")) ?? (req.getQuery("access_token") || undefined);
      const key = req.getHeader("sec-websocket-key");
      const protocol = req.getHeader("sec-websocket-protocol");
      const extensions = req.getHeader("sec-websocket-extensions");
      const address = clientAddress(res, deps.trustProxy ? req.getHeader("x-forwarded-for") : "", deps.trustProxy);
      const refuse = (error: ApiError) => sendJson(res, error.status, errorBody(error), { closeConnection: true });
      const now = Date.now();
      const origin = deps.corsOrigins.length > 0 ? req.getHeader("origin") : "";
      if (origin !== "" && !upgradeOriginAllowed(origin, req.getHeader("host"), deps.corsOrigins)) {
        return refuse(new ApiError("FORBIDDEN", `WebSocket upgrades from origin ${origin} are not allowed`));
      }
      // Checked before the token: a flood of upgrades costs a bucket lookup each, not an HMAC.
      if (!deps.perAddress.take(address, now)) {
        return refuse(new ApiError("RATE_LIMITED", "too many WebSocket upgrades from this address; slow down"));
      }
      let identity: Identity;
      try {
        identity = deps.authenticator.verify(token, now);
      } catch (error) {
        return refuse(error as ApiError);
      }
      if ((openByUser.get(identity.userId) ?? 0) >= deps.maxConnectionsPerUser) {
        return refuse(new ApiError("RATE_LIMITED", `at most ${deps.maxConnectionsPerUser} connections per user`));
      }
      const connection: Connection = {
        identity,
        address,
        queueBinary: false,
        closed: false,
        frames: new TokenBucket(deps.rateLimit, Date.now()),
        sessions: {},
      };
      res.cork(() => res.upgrade(connection, key, protocol, extensions, context));
    },
    open(ws) {
      const userId = ws.getUserData().identity.userId;
      openByUser.set(userId, (openByUser.get(userId) ?? 0) + 1);
    },
    message(ws, message, isBinary) {
      handleFrame(ws, message, isBinary, deps);
    },
    close(ws) {
      const connection = ws.getUserData();
      connection.closed = true;
      outbox.forget(ws);
      const left = (openByUser.get(connection.identity.userId) ?? 1) - 1;
      if (left > 0) openByUser.set(connection.identity.userId, left);
      else openByUser.delete(connection.identity.userId);
      deps.sessions.closed(ws);
    },
  });
  // uWS passes a GET without an upgrade on to the next route: it gets 426 rather than the 404 of no route.
  withHead(app).get("/v1/ws", (res: TrackedResponse) => {
    const error = new ApiError(
      "UPGRADE_REQUIRED",
      "GET /v1/ws is a WebSocket endpoint: send an Upgrade: websocket request",
    );
    sendJson(res, error.status, errorBody(error), { headers: UPGRADE_HEADERS });
  });
}

function handleFrame(ws: WebSocket<Connection>, message: ArrayBuffer, isBinary: boolean, deps: WsDeps) {
  const started = performance.now();
  const requestId = deps.nextRequestId();
  const refuse = (id: unknown, error: ApiError) => {
    const body = errorBody(error);
    deps.dispatcher.record("ws.frame", { status: error.status, body }, requestId, started);
    outbox.send(ws, encodeFrame({ id, ok: false, ...body }, isBinary), isBinary);
  };
  // Over budget: still answered (with the request's id when it decodes), but never run.
  const overBudget = !ws.getUserData().frames.take(Date.now());
  const rateLimited = () => new ApiError("RATE_LIMITED", "too many frames on this connection; slow down");
  if (overBudget && message.byteLength > deps.maxFrameBytes) return refuse(null, rateLimited());
  if (message.byteLength > deps.maxFrameBytes) {
    return refuse(null, new ApiError("PAYLOAD_TOO_LARGE", `frame over ${deps.maxFrameBytes} bytes`));
  }
  let request: unknown;
  try {
    request = decodeFrame(message, isBinary);
  } catch {
    if (overBudget) return refuse(null, rateLimited());
    return refuse(
      null,
      new ApiError("INVALID_ARGUMENT", isBinary ? "the frame is not valid MessagePack" : "the frame is not valid JSON"),
    );
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    if (overBudget) return refuse(null, rateLimited());
    return refuse(null, new ApiError("INVALID_ARGUMENT", "a request is an object {id, op, args}"));
  }
  const { id: rawId, op: opName, args: rawArgs } = request as { id?: unknown; op?: unknown; args?: unknown };
  const id = typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
  if (overBudget) return refuse(id, rateLimited());
  const op = typeof opName === "string" ? opsByName.get(opName) : undefined;
  if (!op) return refuse(id, new ApiError("INVALID_ARGUMENT", `unknown op ${JSON.stringify(opName ?? null)}`));
  if (rawArgs !== undefined && (typeof rawArgs !== "object" || rawArgs === null || Array.isArray(rawArgs))) {
    return refuse(id, new ApiError("INVALID_ARGUMENT", "args must be an object"));
  }
  const args = (rawArgs ?? {}) as Record<string, unknown>;
  const connection = ws.getUserData();
  const argToken = typeof args.token === "string" && args.token.length > 0 ? args.token : undefined;
  deps.dispatcher
    .run({
      op,
      args,
      requestId,
      identity: connection.identity,
      address: () => connection.address,
      queueToken: argToken,
      session: isBinary
        ? (connection.sessions.binary ??= deps.sessions.sessionFor(ws, true))
        : (connection.sessions.text ??= deps.sessions.sessionFor(ws, false)),
    })
    .then((result) => {
      if (ws.getUserData().closed) return;
      const frame =
        result.status < 400
          ? encodeReply(id, result.body, isBinary)
          : encodeFrame({ id, ok: false, ...(result.body as object) }, isBinary);
      outbox.send(ws, frame, isBinary);
    });
}
