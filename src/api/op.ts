// What an op is: a name, its HTTP twin, its gate, its argument schema and its handler.
import type { z } from "zod";
import type { Actors } from "../actors/index.js";
import type { QueueActor } from "../actors/queue.js";
import type { Config } from "../config.js";
import type { ErrorCode } from "../errors.js";

export type Gate = "none" | "user" | "active" | "admin";

/** What a WebSocket connection lends to the ops that need a session (subscribe, queue pushes). */
export interface Session {
  /** The connection follows `token` of `room` (its pushes; the token its gated ops use). */
  rememberQueueToken(room: QueueActor, token: string): void;
  /** The token the connection follows in `room`. */
  queueToken(room: QueueActor): string | undefined;
  /** Every token the connection follows, the site room's first. */
  queueTokens(): string[];
  subscribeSeats(scheduleId: number): void;
  unsubscribeSeats(scheduleId: number): void;
}

export interface OpContext {
  /** The caller's user id ("" for gate none/admin). */
  userId: string;
  now: number;
  actors: Actors;
  config: Config;
  /** The queue token the request names (the Queue-Token header, or args.token over a WebSocket). */
  queueToken: string | undefined;
  session: Session | undefined;
  /** The client's address (per-address limits such as new queue tokens). */
  address: () => string;
}

export interface HttpRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  status: number;
  /** Args read from the query string (GET); the others come from the path and the body. */
  query?: readonly string[];
  /**
   * "etag": the result is `{etag, …}`, sent with `ETag` and `Cache-Control: private, no-cache`;
   * `If-None-Match` becomes the `etag` arg, and a result with `notModified: true` is a 304.
   */
  cache?: "etag";
}

export interface Op<
  Schema extends z.ZodType = z.ZodType,
  Result extends z.ZodType = z.ZodType,
  Name extends string = string,
  Http extends HttpRoute | undefined = HttpRoute | undefined,
> {
  name: Name;
  /** One line for people (OpenAPI summary, docs). */
  summary: string;
  /** The HTTP route, or none for WebSocket-only ops. `:name` segments become args. */
  http?: Http;
  gate: Gate;
  /** An op that exists only under some configuration answers NOT_FOUND, before anything else, when off. */
  enabled?: (config: Config) => boolean;
  /** Each call spends one token of the caller's address (RATE_LIMIT_PER_IP): ops open to anyone. */
  limitPerAddress?: boolean;
  /**
   * [active] ops about one concert: which (an unknown concert or schedule throws NOT_FOUND). Its
   * room's active token is required; without it, an active token of any room will do.
   */
  concertOf?: (args: z.output<Schema>, actors: Actors) => number;
  args: Schema;
  /**
   * The codes its handler (and the actors it calls) can throw. Those of its gate, route, limits
   * and transport are derived from the rest of this definition (opErrors.ts); the API documents
   * declare the union, and tests check that the server answers nothing else.
   */
  errors?: readonly ErrorCode[];
  /** The success body (HTTP) and WS `data`: the typed client and OpenAPI are derived from it. */
  result: Result;
  handle(args: z.output<Schema>, context: OpContext): z.input<Result> | Promise<z.input<Result>>;
}

/** Keeps the literal name and route, so the typed client can be checked against the table. */
export function defineOp<
  Schema extends z.ZodType,
  Result extends z.ZodType,
  const Name extends string,
  const Http extends HttpRoute | undefined = undefined,
>(op: Op<Schema, Result, Name, Http>): Op<Schema, Result, Name, Http> {
  return op;
}
