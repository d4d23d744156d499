// What an op is: a name, its HTTP twin, its gate, its argument schema and its handler.
import type { z } from "zod";
import type { Actors } from "../actors/index.js";
import type { Config } from "../config.js";

export type Gate = "none" | "user" | "active" | "admin";

/** What a WebSocket connection lends to the ops that need a session (subscribe, queue pushes). */
export interface Session {
  rememberQueueToken(token: string): void;
  subscribeSeats(scheduleId: number): void;
  unsubscribeSeats(scheduleId: number): void;
}

export interface OpContext {
  /** The caller's user id ("" for gate none/admin). */
  userId: string;
  now: number;
  actors: Actors;
  config: Config;
  /** The queue token the request carries (header or args.token or the connection's). */
  queueToken: string | undefined;
  session: Session | undefined;
}

export interface Op<Schema extends z.ZodType = z.ZodType> {
  name: string;
  /** The HTTP route, or none for WebSocket-only ops. `:name` segments become args. */
  http?: { method: "GET" | "POST" | "DELETE"; path: string; status: number };
  gate: Gate;
  args: Schema;
  handle(args: z.output<Schema>, context: OpContext): unknown | Promise<unknown>;
}

export function defineOp<Schema extends z.ZodType>(op: Op<Schema>): Op<Schema> {
  return op;
}
