// A WebSocket session: request ids, typed replies and pushes, reconnect with back-off, and after a
// reconnect the queue token of each waiting room re-checked and every seat map re-subscribed (gaps
// caught by version).
import { type Codec, jsonCodec } from "./codec.js";
import { ClientError } from "./errors.js";
import { resolveToken, type TokenSource } from "./http.js";
import { type LayoutDocument, SeatMap } from "./seatMap.js";
import type {
  ArgsOf,
  CompactSeatsView,
  ErrorBody,
  QueuePush,
  ResultOf,
  SeatsPush,
  SeatsView,
  WsOpName,
} from "./types.js";

/** The part of the WebSocket API this session uses: the browser's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ReconnectOptions {
  /** First delay; doubles per failed attempt up to maxDelayMs, with ±50 % jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface WsSessionOptions {
  /** e.g. "ws://127.0.0.1:8080/v1/ws". */
  url: string;
  /** The user JWT (sent as ?access_token=, which browsers and Node alike can do); re-read per connect. */
  token: TokenSource;
  codec?: Codec;
  /** Defaults to globalThis.WebSocket, else the `ws` package (Node 20). */
  WebSocket?: WebSocketConstructor;
  /** false: no reconnect. */
  reconnect?: Partial<ReconnectOptions> | false;
  requestTimeoutMs?: number;
}

export type SessionEvent =
  | { type: "open"; reconnected: boolean }
  | { type: "close"; code: number; reason: string; willReconnect: boolean }
  | { type: "restored" }
  | { type: "seats"; push: SeatsPush }
  | { type: "queue"; push: QueuePush }
  | { type: "gap"; scheduleId: number; expected: number; got: number }
  | { type: "error"; error: ClientError };

type Listener = (event: SessionEvent) => void;

interface Pending {
  op: string;
  done(data: unknown): void;
  fail(error: ClientError): void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

/** Check-in refusals after which re-checking that room's token makes no sense. */
const REFUSED_FOR_GOOD = new Set<string>(["SOLD_OUT", "FORBIDDEN", "NOT_FOUND"]);

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  const module = (await import("ws")) as unknown as { default: WebSocketConstructor };
  return module.default;
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data as Uint8Array[]));
  return undefined;
}

/** A waiting room as the server names it: an on-sale's concert id, or null for the site room. */
export type QueueRoom = number | null;

export class WsSession {
  /**
   * The queue token of each room, from its last queue.check reply or queue push, as the server
   * remembers them for the connection; each is re-checked in its own room after a reconnect.
   */
  readonly queueTokens = new Map<QueueRoom, string>();
  /** The room of the last queue.check. */
  private lastRoom: QueueRoom = null;
  readonly stats = { connects: 0, reconnects: 0, gaps: 0, resubscribes: 0 };
  private socket: WebSocketLike | undefined;
  private readonly codec: Codec;
  private readonly reconnect: ReconnectOptions | false;
  private readonly requestTimeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  /** Frames asked for while not connected (or while restoring): sent once the session is usable. */
  private outbox: (() => void)[] = [];
  private readonly seatMaps = new Map<number, SeatMap>();
  private readonly listeners = new Set<Listener>();
  private nextId = 1;
  private attempt = 0;
  private restoring = false;
  private closedByUser = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private firstOpen: Promise<void>;
  private settleFirstOpen!: { done: () => void; fail: (error: Error) => void };

  constructor(private readonly options: WsSessionOptions) {
    this.codec = options.codec ?? jsonCodec;
    this.reconnect =
      options.reconnect === false ? false : { initialDelayMs: 250, maxDelayMs: 10_000, ...options.reconnect };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.firstOpen = new Promise((done, fail) => {
      this.settleFirstOpen = { done, fail };
    });
    this.firstOpen.catch(() => {});
    void this.connect();
  }

  /** Resolves once the first connection is open (rejects if it closes before opening and no reconnect). */
  opened(): Promise<void> {
    return this.firstOpen;
  }

  /** The token of the room of the last queue.check (the site room's when there was none). */
  get queueToken(): string | undefined {
    return this.queueTokens.get(this.lastRoom);
  }

  /** Forget a room's token: a reconnect then does not check in there again (a new place at the back). */
  forgetQueueToken(room: QueueRoom = null): void {
    this.queueTokens.delete(room);
  }

  get connected(): boolean {
    return this.socket?.readyState === OPEN && !this.restoring;
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends `{id, op, args}` and resolves with the reply's data, or rejects with a ClientError. */
  request<N extends WsOpName>(op: N, args: ArgsOf<N>, options: { timeoutMs?: number } = {}): Promise<ResultOf<N>> {
    if (this.closedByUser) return Promise.reject(new ClientError("CLOSED", "the session is closed"));
    return new Promise((done, fail) => {
      const send = () => this.send(op, args, done as (data: unknown) => void, fail, options.timeoutMs);
      if (this.connected) send();
      else this.outbox.push(send);
    });
  }

  /**
   * Subscribes to a schedule's seats and keeps the returned map current, across gaps and reconnects.
   * With `layout` (seats.layout's document of this schedule) the snapshots are compact ones (2 bits
   * per seat), their prices taken from the layout.
   */
  async subscribeSeats(scheduleId: number, options: { layout?: LayoutDocument } = {}): Promise<SeatMap> {
    let map = this.seatMaps.get(scheduleId);
    if (!map) {
      map = new SeatMap(scheduleId);
      this.seatMaps.set(scheduleId, map);
    }
    map.layout = options.layout;
    try {
      await this.subscribeRequest(map);
    } catch (error) {
      this.seatMaps.delete(scheduleId);
      throw error;
    }
    return map;
  }

  /**
   * seats.subscribe whose snapshot is applied as its reply frame is read, before any push that
   * follows it in the same read: the pushes then find the map at the snapshot's version.
   */
  private subscribeRequest(map: SeatMap, now = false): Promise<void> {
    const apply = (data: unknown) => {
      if (this.seatMaps.get(map.scheduleId) === map)
        map.applySnapshot(data as SeatsView | CompactSeatsView, map.layout);
    };
    return new Promise((done, fail) => {
      const onReply = (data: unknown) => {
        apply(data);
        done();
      };
      const args = map.layout ? { scheduleId: map.scheduleId, compact: true } : { scheduleId: map.scheduleId };
      const send = () => this.send("seats.subscribe", args, onReply, fail);
      if (now || this.connected) send();
      else this.outbox.push(send);
    });
  }

  async unsubscribeSeats(scheduleId: number): Promise<void> {
    this.seatMaps.delete(scheduleId);
    await this.request("seats.unsubscribe", { scheduleId });
  }

  seatMap(scheduleId: number): SeatMap | undefined {
    return this.seatMaps.get(scheduleId);
  }

  /** Closes for good: no reconnect; pending requests fail with CLOSED. */
  close(): void {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer);
    this.failPending("CLOSED", "the session was closed");
    for (const send of this.outbox.splice(0)) send();
    this.socket?.close(1000, "bye");
  }

  /** Drops the current connection as a network failure would (tests, "reconnect now" buttons). */
  dropConnection(): void {
    this.socket?.close(4000, "dropped by client");
  }

  private emit(event: SessionEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async connect(): Promise<void> {
    let socket: WebSocketLike;
    try {
      const [Ctor, token] = await Promise.all([
        this.options.WebSocket ?? defaultWebSocket(),
        resolveToken(this.options.token),
      ]);
      if (this.closedByUser) return;
      const separator = this.options.url.includes("?") ? "&" : "?";
      socket = new Ctor(`${this.options.url}${separator}access_token=${encodeURIComponent(token ?? "")}`);
    } catch (error) {
      this.emit({ type: "error", error: new ClientError("NETWORK", (error as Error).message) });
      this.scheduleReconnect(1006, "connect failed");
      return;
    }
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.stats.connects++;
      const reconnected = this.stats.connects > 1;
      if (reconnected) this.stats.reconnects++;
      this.attempt = 0;
      this.emit({ type: "open", reconnected });
      this.settleFirstOpen.done();
      void this.restore(reconnected);
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.restoring = false;
      this.failPending("CONNECTION_LOST", "the connection closed before the reply; the outcome is unknown");
      for (const map of this.seatMaps.values()) map.resyncing = true;
      const willReconnect = !this.closedByUser && this.reconnect !== false;
      this.emit({ type: "close", code: event.code, reason: event.reason, willReconnect });
      if (!opened && !willReconnect) this.settleFirstOpen.fail(new ClientError("NETWORK", "could not connect"));
      this.scheduleReconnect(event.code, event.reason);
    };
  }

  private scheduleReconnect(_code: number, _reason: string): void {
    if (this.closedByUser || this.reconnect === false) {
      for (const send of this.outbox.splice(0)) send();
      return;
    }
    const { initialDelayMs, maxDelayMs } = this.reconnect;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt);
    const delay = base * (0.5 + Math.random() * 0.5);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  /** After a reconnect: re-check the queue token and re-subscribe, before queued requests go out. */
  private async restore(reconnected: boolean): Promise<void> {
    if (reconnected) {
      this.restoring = true;
      const socket = this.socket;
      try {
        for (const [room, token] of [...this.queueTokens]) await this.recheck(room, token);
        for (const map of this.seatMaps.values()) {
          this.stats.resubscribes++;
          await this.subscribeRequest(map, true);
        }
      } catch (error) {
        if (error instanceof ClientError) this.emit({ type: "error", error });
      }
      if (this.socket !== socket) return;
      this.restoring = false;
      this.emit({ type: "restored" });
    }
    for (const send of this.outbox.splice(0)) send();
  }

  /**
   * queue.check of a remembered token in its own room (an on-sale's token checked in at the site
   * room would be unknown there and get a new place at the back of the site's line). A room that
   * refuses it for good (sold out) is forgotten; the others are still re-checked.
   */
  private async recheck(room: QueueRoom, token: string): Promise<void> {
    const last = this.lastRoom;
    try {
      await this.sendNow("queue.check", room === null ? { token } : { token, concertId: room });
    } catch (error) {
      if (!(error instanceof ClientError) || error.code === "CONNECTION_LOST") throw error;
      if (REFUSED_FOR_GOOD.has(error.code) && this.queueTokens.get(room) === token) this.queueTokens.delete(room);
      this.emit({ type: "error", error });
    } finally {
      this.lastRoom = last;
    }
  }

  private sendNow(op: string, args: unknown): Promise<unknown> {
    return new Promise((done, fail) => this.send(op, args, done, fail));
  }

  private send(
    op: string,
    args: unknown,
    done: (data: unknown) => void,
    fail: (error: ClientError) => void,
    timeoutMs = this.requestTimeoutMs,
  ): void {
    const socket = this.socket;
    if (this.closedByUser || !socket || socket.readyState !== OPEN) {
      fail(new ClientError(this.closedByUser ? "CLOSED" : "CONNECTION_LOST", "not connected"));
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      fail(new ClientError("TIMEOUT", `${op}: no reply in ${timeoutMs} ms`));
    }, timeoutMs);
    this.pending.set(id, { op, done, fail, timer });
    socket.send(this.codec.encode({ id, op, args }));
  }

  private failPending(code: "CONNECTION_LOST" | "CLOSED", message: string): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.fail(new ClientError(code, `${pending.op}: ${message}`));
    }
  }

  private receive(data: unknown): void {
    let frame: Record<string, unknown>;
    try {
      if (typeof data === "string") frame = JSON.parse(data);
      else {
        const bytes = toBytes(data);
        if (!bytes) return;
        frame = this.codec.binary ? (this.codec.decode(bytes) as Record<string, unknown>) : {};
      }
    } catch {
      this.emit({ type: "error", error: new ClientError("BAD_RESPONSE", "a frame could not be decoded") });
      return;
    }
    if (frame.ev === "seats") {
      this.onSeatsPush(frame as unknown as SeatsPush);
      return;
    }
    if (frame.ev === "queue") {
      const push = frame as unknown as QueuePush;
      const room = push.concertId ?? null;
      if (push.status === "expired" || push.status === "soldout") {
        if (this.queueTokens.get(room) === push.token) this.queueTokens.delete(room);
      } else this.queueTokens.set(room, push.token);
      this.emit({ type: "queue", push });
      return;
    }
    const pending = typeof frame.id === "number" ? this.pending.get(frame.id) : undefined;
    if (!pending) {
      if (frame.ok === false) {
        const { code, message } = (frame as unknown as ErrorBody).error;
        this.emit({ type: "error", error: new ClientError(code, message) });
      }
      return;
    }
    this.pending.delete(frame.id as number);
    clearTimeout(pending.timer);
    if (frame.ok === true) {
      if (pending.op === "queue.check") {
        const status = frame.data as ResultOf<"queue.check">;
        this.lastRoom = status.concertId ?? null;
        this.queueTokens.set(this.lastRoom, status.token);
      }
      pending.done(frame.data);
    } else {
      const error = (frame as unknown as Partial<ErrorBody>).error;
      const code = error?.code ?? "BAD_RESPONSE";
      pending.fail(new ClientError(code, error?.message ?? "malformed error frame", undefined, error?.retryAfter));
    }
  }

  private onSeatsPush(push: SeatsPush): void {
    this.emit({ type: "seats", push });
    const map = this.seatMaps.get(push.scheduleId);
    if (!map) return;
    const expected = map.version + 1;
    if (map.applyPush(push) !== "gap") return;
    // A missed version: the map cannot be patched, so take a fresh snapshot (pushes wait meanwhile).
    this.stats.gaps++;
    this.stats.resubscribes++;
    this.emit({ type: "gap", scheduleId: push.scheduleId, expected, got: push.version });
    this.subscribeRequest(map).catch((error: ClientError) => this.emit({ type: "error", error }));
  }
}
