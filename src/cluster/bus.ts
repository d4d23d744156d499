// The NATS bus between the nodes of a cluster (DESIGN.md, "Scale past one process"): request/reply
// to the node that owns an actor, publish/subscribe for seat diffs, queue updates and heartbeats.
// A thin layer over @nats-io/transport-node: payloads are MessagePack, a request that gets no
// answer is a 503 UNAVAILABLE (retry later), never a guess, and errors thrown by a responder come
// back to the requester as the same ApiError. Membership, leases and placement are not here: they
// live in PostgreSQL; this only carries messages.
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { Packr, Unpackr } from "msgpackr";
import { ApiError, ERROR_STATUS, type ErrorCode } from "../errors.js";
import type { Logger } from "../log.js";
import { StartupError } from "../startupError.js";
import { redacted } from "../store/postgres/connect.js";

export interface BusOptions {
  /** `nats://host:4222` (NATS_URL); a comma-separated list names several servers of one NATS cluster. */
  url: string;
  /** This node's name: the connection's name on the NATS server, and in logs. */
  nodeId: string;
  log: Logger;
  /** How long the first connection is retried before start-up fails (exit 1). */
  connectTimeoutSeconds: number;
  /** The Retry-After of the 503 that a request without an answer becomes (default 1 s). */
  retryAfterSeconds?: number;
}

/** Answers a request: its result goes back to the requester; an ApiError it throws goes back as that error. */
export type Responder = (payload: unknown, subject: string) => unknown;
/** Receives a published message. */
export type Listener = (payload: unknown, subject: string) => void;

/** What a responder sends back: the result, or the error the requester re-throws. */
type Reply =
  | { ok: true; data: unknown }
  | { ok: false; error: { code: ErrorCode; message: string; retryAfter?: number } };

const RETRY_EVERY_MS = 500;
/** Responders of one subject share a queue group, so each request is handled once, by one of them. */
const RESPONDERS = "responders";

// As src/ws/codec.ts: plain objects, 64-bit integers as numbers.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });

/**
 * msgpackr packs into a buffer it reuses, and the NATS client keeps a reference to what it is
 * given until it writes it to the socket: hand it a copy.
 */
const encode = (value: unknown): Uint8Array => new Uint8Array(packr.pack(value));
const decode = (bytes: Uint8Array): unknown => (bytes.length === 0 ? undefined : unpackr.unpack(bytes));

export class Bus {
  private readonly retryAfterSeconds: number;
  private readonly statusLoop: Promise<void>;
  /** False between a lost connection and its return. */
  private connected = true;

  constructor(
    private readonly nc: NatsConnection,
    readonly nodeId: string,
    private readonly log: Logger,
    retryAfterSeconds = 1,
  ) {
    this.retryAfterSeconds = retryAfterSeconds;
    this.statusLoop = this.logStatus();
  }

  /**
   * Sends `payload` to whoever serves `subject` and resolves with its result. Rejects with the
   * responder's ApiError, or with 503 UNAVAILABLE when nobody serves the subject, the answer takes
   * longer than `timeoutMs`, or NATS is unreachable: the caller may retry, and never gets a guess.
   */
  async request(subject: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    // While disconnected the client would hold the request until its time-out: say so at once.
    if (!this.connected) {
      throw new ApiError(
        "UNAVAILABLE",
        `${subject} is unavailable (NATS is unreachable); retry`,
        this.retryAfterSeconds,
      );
    }
    let msg: Msg;
    try {
      msg = await this.nc.request(subject, encode(payload), { timeout: timeoutMs });
    } catch (error) {
      const why = (error as { isNoResponders?: () => boolean }).isNoResponders?.()
        ? "no node serves it"
        : (error as Error).name === "TimeoutError"
          ? `no answer in ${timeoutMs} ms`
          : (error as Error).message;
      throw new ApiError("UNAVAILABLE", `${subject} is unavailable (${why}); retry`, this.retryAfterSeconds);
    }
    const reply = decode(msg.data) as Reply;
    if (reply?.ok === true) return reply.data;
    const { code, message, retryAfter } = reply?.error ?? {};
    if (typeof code === "string" && code in ERROR_STATUS) throw new ApiError(code, String(message), retryAfter);
    throw new ApiError("INTERNAL", `${subject} answered something that is not a reply`);
  }

  /**
   * Answers requests on `subject` with `handler` until the returned function is called. Responders
   * of one subject on several nodes share a queue group: each request goes to one of them.
   */
  serve(subject: string, handler: Responder): () => void {
    const subscription = this.nc.subscribe(subject, {
      queue: RESPONDERS,
      callback: (error, msg) => {
        if (error) return this.log.warn({ subject, reason: error.message }, "NATS responder subscription failed");
        void this.answer(msg, handler);
      },
    });
    return () => subscription.unsubscribe();
  }

  private async answer(msg: Msg, handler: Responder): Promise<void> {
    let reply: Reply;
    try {
      reply = { ok: true, data: await handler(decode(msg.data), msg.subject) };
    } catch (error) {
      if (!(error instanceof ApiError)) {
        this.log.error({ err: error, subject: msg.subject }, "NATS responder failed");
      }
      const apiError =
        error instanceof ApiError ? error : new ApiError("INTERNAL", `internal error on node ${this.nodeId}`);
      const { code, message, retryAfter } = apiError;
      reply = { ok: false, error: retryAfter === undefined ? { code, message } : { code, message, retryAfter } };
    }
    // False when the message was published rather than requested: nobody waits for an answer.
    // Throws when the connection closed meanwhile: the requester gets its 503 from the time-out.
    try {
      msg.respond(encode(reply));
    } catch (error) {
      this.log.warn({ subject: msg.subject, reason: (error as Error).message }, "NATS reply not sent");
    }
  }

  /** Sends `payload` to every subscriber of `subject` (buffered by the client while it reconnects). */
  publish(subject: string, payload: unknown): void {
    this.nc.publish(subject, encode(payload));
  }

  /**
   * Calls `handler` for each message on `subject` (wildcards allowed) until the returned function
   * is called. The subscription survives reconnects; what was published while this node was
   * disconnected from NATS is not delivered (NATS core keeps nothing).
   */
  subscribe(subject: string, handler: Listener): () => void {
    const subscription = this.nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error) return this.log.warn({ subject, reason: error.message }, "NATS subscription failed");
        try {
          handler(decode(msg.data), msg.subject);
        } catch (failure) {
          this.log.error({ err: failure, subject: msg.subject }, "NATS subscriber failed");
        }
      },
    });
    return () => subscription.unsubscribe();
  }

  /**
   * Resolves once the NATS server has processed everything this node sent so far, subscriptions
   * included (a PING/PONG round trip): after it, a request from any node reaches a new responder.
   */
  async flush(): Promise<void> {
    await this.nc.flush();
  }

  /** Drains: stops taking messages, lets handlers in flight answer, flushes what is buffered, closes. */
  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
    await this.statusLoop;
  }

  /** One line when the connection is lost and one when it is back (not one per reconnect attempt). */
  private async logStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect") {
        this.connected = false;
        this.log.warn({ node: this.nodeId, server: status.server }, "NATS connection lost; reconnecting");
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.log.info({ node: this.nodeId, server: status.server }, "NATS connection back");
      } else if (status.type === "error") {
        this.log.warn({ node: this.nodeId, reason: status.error.message }, "NATS server reported an error");
      }
    }
  }
}

/**
 * Connects to NATS, retrying for `connectTimeoutSeconds` (NATS may start after the node), then
 * a StartupError (exit 1) naming the URL. Once connected, the client reconnects forever on its own
 * and re-subscribes; requests meanwhile answer 503, publishes are buffered.
 */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const { url, nodeId, log, connectTimeoutSeconds } = options;
  const where = url
    .split(",")
    .map((server) => redacted(server.trim()))
    .join(",");
  const deadline = Date.now() + connectTimeoutSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      const nc = await connect({
        servers: url.split(",").map((server) => server.trim()),
        name: nodeId,
        timeout: Math.max(100, Math.min(5_000, deadline - Date.now())),
        reconnect: true,
        maxReconnectAttempts: -1, // forever: NATS coming back is the only way a node recovers
        reconnectTimeWait: 500,
        // A server that vanished without closing the socket is noticed after about 20 s, not minutes.
        pingInterval: 10_000,
        maxPingOut: 2,
      });
      log.info({ node: nodeId, nats: where }, "NATS connected");
      return new Bus(nc, nodeId, log, options.retryAfterSeconds);
    } catch (error) {
      const reason = (error as Error).message;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StartupError(`cannot connect to NATS at ${where} after ${connectTimeoutSeconds} s: ${reason}`, 1);
      }
      if (attempt === 1) log.warn({ nats: where, reason }, "NATS does not answer yet; retrying");
      // The last attempt is made at the deadline.
      await new Promise((done) => setTimeout(done, Math.min(RETRY_EVERY_MS, left)));
    }
  }
}
