// The one request path after decoding: authenticate, gate, validate, run the op, map errors.
import type { Actors } from "../actors/index.js";
import type { AuthenticateAdmin } from "../auth/admin.js";
import type { Authenticate, Identity } from "../auth/users.js";
import type { Config } from "../config.js";
import { ApiError, errorBody, toApiError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { Op, Session } from "./op.js";
import { RateLimiter } from "./rateLimit.js";

export interface OpRequest {
  op: Op;
  /** Decoded, not yet validated; an ApiError when decoding failed (raised after authentication). */
  args: unknown;
  requestId: string;
  /** HTTP: the bearer token of this request. */
  bearer?: string;
  /** WebSocket: the identity checked at upgrade (its expiry is re-checked per request). */
  identity?: Identity;
  queueToken?: string;
  session?: Session;
}

export interface OpReply {
  status: number;
  body: unknown;
}

export interface DispatcherDeps {
  actors: Actors;
  config: Config;
  authenticate: Authenticate;
  authenticateAdmin: AuthenticateAdmin;
  metrics: Metrics;
  log: Logger;
}

export class Dispatcher {
  /** Set at shutdown: new work is refused with UNAVAILABLE while in-flight work finishes. */
  closing = false;
  /** Every authenticated user's request budget, over HTTP and WebSocket alike. */
  private readonly perUser: RateLimiter;

  constructor(private readonly deps: DispatcherDeps) {
    this.perUser = new RateLimiter(deps.config.rateLimit);
  }

  async run(request: OpRequest): Promise<OpReply> {
    const { op } = request;
    const started = performance.now();
    let reply: OpReply;
    try {
      const body = await this.execute(request);
      reply = { status: op.http?.status ?? 200, body };
    } catch (thrown) {
      const error = toApiError(thrown, request.requestId);
      if (error.code === "INTERNAL") {
        this.deps.log.error({ err: thrown, requestId: request.requestId, op: op.name }, "op failed");
      }
      reply = { status: error.status, body: errorBody(error) };
    }
    this.record(op.name, reply, request.requestId, started);
    return reply;
  }

  /** Counts and logs a reply made outside an op (unknown route, bad frame, oversize body). */
  record(name: string, reply: OpReply, requestId: string, started: number): void {
    const code = reply.status < 400 ? "OK" : ((reply.body as { error: { code: string } }).error?.code ?? "ERROR");
    const ms = performance.now() - started;
    this.deps.metrics.request(name, code, ms / 1000);
    this.deps.log.debug({ requestId, op: name, status: reply.status, code, ms }, "request");
  }

  private execute(request: OpRequest): unknown | Promise<unknown> {
    const { op } = request;
    const { actors, config } = this.deps;
    if (op.enabled && !op.enabled(config)) throw new ApiError("NOT_FOUND", `no op ${op.name} on this server`);
    if (this.closing) throw new ApiError("UNAVAILABLE", "the server is shutting down");
    const now = Date.now();
    let userId = "";
    if (op.gate === "admin") {
      this.deps.authenticateAdmin(request.bearer);
    } else if (op.gate !== "none") {
      userId = this.identify(request, now);
      if (!this.perUser.take(userId, now)) throw new ApiError("RATE_LIMITED", "too many requests; slow down");
      if (op.gate === "active") actors.queue.assertActive(userId, request.queueToken, now);
    }
    if (request.args instanceof ApiError) throw request.args;
    const parsed = op.args.safeParse(request.args ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      throw new ApiError("INVALID_ARGUMENT", `${where}${issue?.message ?? "invalid arguments"}`);
    }
    return op.handle(parsed.data, {
      userId,
      now,
      actors,
      config,
      queueToken: request.queueToken,
      session: request.session,
    });
  }

  private identify(request: OpRequest, now: number): string {
    if (request.identity) {
      if (request.identity.expiresAt <= now) throw new ApiError("UNAUTHENTICATED", "token expired");
      return request.identity.userId;
    }
    return this.deps.authenticate(request.bearer).userId;
  }
}
