// The one request path after decoding: authenticate, gate, validate, run the op, map errors.
import type { z } from "zod";
import type { Actors } from "../actors/index.js";
import type { AuthenticateAdmin } from "../auth/admin.js";
import type { Authenticator, Identity } from "../auth/users.js";
import type { Config } from "../config.js";
import { ApiError, errorBody, toApiError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { Op, OpContext, Session } from "./op.js";
import { type AddressLimiter, RateLimiter } from "./rateLimit.js";

/** Who is asking, as the transport knows it before anything is read beyond the headers. */
export interface Credentials {
  /** HTTP: the bearer token of this request. */
  bearer?: string | undefined;
  /** WebSocket: the identity checked at upgrade (its expiry is re-checked per request). */
  identity?: Identity;
  /** The client's address (per-address limits); a function, as most requests never need it. */
  address: () => string;
}

/** A request that passed the gate: the caller's user id ("" for gate none/admin). */
export interface Admitted {
  userId: string;
}

export interface OpRequest extends Credentials {
  op: Op;
  /** Decoded, not yet validated; an ApiError when decoding failed (raised after authentication). */
  args: unknown;
  requestId: string;
  /** Set when the transport admitted the request before reading its body (HTTP). */
  admitted?: Admitted;
  queueToken?: string | undefined;
  session?: Session;
}

export interface OpReply {
  status: number;
  body: unknown;
}

/**
 * Runs an op somewhere else (a cluster node: on the owner of its room, or against PostgreSQL),
 * after it was admitted and its arguments validated here; undefined runs it here, as a single
 * server does.
 */
export type Router = (op: Op, args: unknown, context: OpContext, requestId: string) => Promise<unknown> | undefined;

export interface DispatcherDeps {
  actors: Actors;
  router?: Router | undefined;
  config: Config;
  authenticator: Authenticator;
  authenticateAdmin: AuthenticateAdmin;
  /** Per client address: failed authentications, WebSocket upgrades, dev logins. */
  perAddress: AddressLimiter;
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

  /**
   * What the credentials alone decide: the op exists here, the server is not closing, the caller
   * is who they say (or the admin) and within their budget. HTTP calls it before reading a body,
   * so nobody unknown can make the server receive one. Throws the ApiError to answer. (The queue
   * gate comes after the arguments and the target: API.md's order of checks.)
   */
  admit(op: Op, credentials: Credentials, now: number): Admitted {
    const { config } = this.deps;
    if (op.enabled && !op.enabled(config)) throw new ApiError("NOT_FOUND", `no op ${op.name} on this server`);
    if (this.closing) throw new ApiError("UNAVAILABLE", "the server is shutting down");
    if (op.gate === "none") {
      if (op.limitPerAddress && !this.deps.perAddress.take(credentials.address(), now)) throw tooManyFromAddress();
      return { userId: "" };
    }
    if (op.gate === "admin") {
      this.unlessFailed(credentials, now, () => this.deps.authenticateAdmin(credentials.bearer));
      return { userId: "" };
    }
    const userId = this.identify(credentials, now);
    if (!this.perUser.take(userId, now)) throw new ApiError("RATE_LIMITED", "too many requests; slow down");
    return { userId };
  }

  async run(request: OpRequest): Promise<OpReply> {
    const { op } = request;
    const started = performance.now();
    let reply: OpReply;
    try {
      const body = await this.execute(request);
      reply = { status: op.http?.status ?? 200, body };
    } catch (thrown) {
      const error = this.refusal(op, thrown, request.requestId);
      reply = { status: error.status, body: errorBody(error) };
    }
    this.record(op.name, reply, request.requestId, started);
    return reply;
  }

  /** The error to answer for something thrown before the op ran (unknown exceptions are logged as INTERNAL). */
  refusal(op: Op, thrown: unknown, requestId: string): ApiError {
    const error = toApiError(thrown, requestId);
    if (error.code === "INTERNAL") this.deps.log.error({ err: thrown, requestId, op: op.name }, "op failed");
    return error;
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
    const now = Date.now();
    if (request.admitted !== undefined && this.closing) {
      throw new ApiError("UNAVAILABLE", "the server is shutting down");
    }
    const { userId } = request.admitted ?? this.admit(op, request, now);
    if (request.args instanceof ApiError) throw request.args;
    const args = parseArgs(op, request.args);
    const context: OpContext = {
      userId,
      now,
      actors,
      config,
      queueToken: request.queueToken,
      session: request.session,
      address: request.address,
    };
    return this.deps.router?.(op, args, context, request.requestId) ?? runOp(op, args, context);
  }

  private identify(credentials: Credentials, now: number): string {
    const { identity, bearer } = credentials;
    if (identity) {
      if (identity.expiresAt <= now) throw new ApiError("UNAUTHENTICATED", "token expired");
      return identity.userId;
    }
    const known = bearer === undefined ? undefined : this.deps.authenticator.cached(bearer, now);
    if (known !== undefined) return known.userId;
    return this.unlessFailed(credentials, now, () => this.deps.authenticator.verify(bearer, now)).userId;
  }

  /**
   * Runs a credential check for an address that still has failures to spend: an address that
   * has spent them is refused before any verification (a flood of bad tokens costs one bucket
   * lookup each), and each failure spends one.
   */
  private unlessFailed<T>(credentials: Credentials, now: number, check: () => T): T {
    const { perAddress } = this.deps;
    if (perAddress.enabled && perAddress.isSpent(credentials.address(), now)) throw tooManyFromAddress();
    try {
      return check();
    } catch (error) {
      perAddress.take(credentials.address(), now);
      throw error;
    }
  }
}

/** The op's arguments as its schema makes them; INVALID_ARGUMENT says what is wrong. */
export function parseArgs(op: Op, raw: unknown): unknown {
  const parsed = op.args.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) throw new ApiError("INVALID_ARGUMENT", "invalid arguments");
  const { path, message } = telling(issue);
  throw new ApiError("INVALID_ARGUMENT", `${path.length > 0 ? `${path.join(".")}: ` : ""}${message}`);
}

/**
 * The issue to report: for a value that matched no branch of a union (a venue given inline or by
 * name), the issue of the branch of the value's own type, which says what is wrong inside it,
 * rather than "Invalid input".
 */
function telling(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (issue.code !== "invalid_union") return issue;
  const branch = issue.errors.find((issues) => issues.length > 0 && !isTypeMismatch(issues[0]!)) ?? [];
  const inner = branch[0];
  if (inner === undefined) return issue;
  const told = telling(inner);
  return { path: [...issue.path, ...told.path], message: told.message };
}

/** The value is not of the branch's type at all (a string where an object was expected). */
function isTypeMismatch(issue: z.core.$ZodIssue): boolean {
  return issue.path.length === 0 && issue.code === "invalid_type";
}

/**
 * The queue gate of [active] ops, then the op itself, on the actors of `context` (a single
 * server's; on a cluster node, those of the room the op was routed to). The target first (an
 * unknown concert or schedule is 404), then the room that gates it.
 */
export function runOp(op: Op, args: unknown, context: OpContext): unknown | Promise<unknown> {
  if (op.gate === "active") {
    const { actors, userId, now, session, queueToken } = context;
    const concertId = op.concertOf?.(args, actors);
    const { rooms } = actors;
    if (concertId === undefined) {
      // Any room's active token will do: the one named, or any the connection follows.
      const tokens = queueToken !== undefined ? [queueToken] : (session?.queueTokens() ?? []);
      rooms.assertActiveInAnyRoom(userId, tokens, now);
    } else {
      const room = rooms.gateOf(concertId);
      rooms.assertActive(userId, queueToken ?? session?.queueToken(room), concertId, now);
    }
  }
  return op.handle(args, context);
}

function tooManyFromAddress(): ApiError {
  return new ApiError("RATE_LIMITED", "too many unauthenticated requests from this address; slow down");
}
