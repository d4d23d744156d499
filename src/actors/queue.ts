// One waiting room's actor (the site room, or an on-sale's): the queue machine, its tick and its
// opening, its rows on disk, and who follows which token (presence): it decides what each
// follower is told, and the transport only encodes it. rooms.ts keeps the rooms.
import { randomBytes } from "node:crypto";
import { type Actor, createActor } from "xstate";
import {
  etaSeconds,
  isBeforeOpening,
  positionOf,
  type QueueEntry,
  queueMachine,
  waitingCount,
} from "../../machines/queue.js";
import type { AddressLimiter } from "../api/rateLimit.js";
import { drawEntryOf } from "../draw.js";
import { ApiError } from "../errors.js";
import { type Commits, ignoreFailedCommit, noWrite } from "../store/commitQueue.js";
import type { QueueTokenRow, Store } from "../store/store.js";

export interface QueueStatus {
  token: string;
  /** The on-sale's concert; null for the site room. */
  concertId: number | null;
  status: "pre" | "waiting" | "active";
  /** 1-based among waiting tokens, 0 once active, null before the opening (the draw decides). */
  position: number | null;
  waiting: number;
  active: number;
  etaSeconds: number | null;
  expiresAt: string;
  /** When the room opens (null: open, or the site room). */
  opensAt: string | null;
}

/** An on-sale's room: its opening, its draw's seed and the inventory it admits against. */
export interface RoomOnSale {
  concertId: number;
  opensAt: number | null;
  /** The draw ran (a room restored after its opening). */
  opened: boolean;
  paused: boolean;
  /** The draw's secret until the opening; null for an on-sale that opened at once. */
  seed: string | null;
  /** The concert's seats now: nobody is admitted while none is available, and with none held either it is sold out. */
  inventory(): { available: number; held: number };
  /** The draw ran: its order (entry ids, each its 32 bytes as a latin1 string) is to be kept with the on-sale. */
  onDrawn(entries: string[], now: number): void;
  /** The draw's order and first admissions are committed, and their pushes sent: how long it took. */
  onDrawCommitted?(report: DrawReport): void;
}

/** How an opening went, timed inside the server (the `draw committed` log line). */
export interface DrawReport {
  concertId: number;
  entries: number;
  admitted: number;
  /** The opening's set time and when a tick noticed it (epoch ms). */
  opensAt: number;
  noticedAt: number;
  /** From the tick that noticed the opening: the queue machine's draw and first admissions. */
  decideMs: number;
  /** From the same tick: the order and the admissions committed. */
  drawMs: number;
  /** From the same tick: every drawn fan's status handed to its listeners. */
  pushedMs: number;
  /** From opensAt itself to the commit (what a fan can observe): noticedAt - opensAt + drawMs. */
  committedAfterOpensAtMs: number;
}

export interface QueueSettings {
  activeMax: number;
  activeTtlMs: number;
  waitingIdleMs: number;
  tickMs: number;
  /** Tokens that may wait at once (the line, and check-ins not yet joined); one more is 503. */
  waitingMax: number;
}

/** A fan turned away from a full line is told to come back after this. */
const FULL_LINE_RETRY_AFTER_SECONDS = 10;

/** Something that follows a token (a WebSocket connection); opaque to the actor. */
export type QueueListener = object;

/** What a follower is told: its token's status, or that it left the line (or the on-sale sold out). */
export type QueueUpdate =
  | QueueStatus
  | {
      token: string;
      concertId: number | null;
      status: "expired";
      reason: string;
      position: 0;
      waiting: number;
      etaSeconds: 0;
    }
  | { token: string; concertId: number; status: "soldout" };

export interface QueueHooks {
  /** Tells `listener` about the token it follows (admitted, moved in line, left). */
  push(listener: QueueListener, update: QueueUpdate): void;
}

const NO_HOOKS: QueueHooks = { push: () => {} };

/** A waiter is told its new position at most once a second. */
const POSITION_PUSH_INTERVAL_MS = 1000;
/** Followed tokens looked at per second by the position sweep: bounds its cost with 100k waiters. */
const POSITION_VISITS_PER_SECOND = 5000;

export class QueueActor {
  private readonly machine: Actor<typeof queueMachine>;
  /** The listeners of each followed token: a token with one is present and does not go idle. */
  private readonly followers = new Map<string, Set<QueueListener>>();
  /** What each listener follows, and the position it was last told. */
  private readonly following = new Map<QueueListener, { token: string; toldPosition: number | null }>();
  private presenceRefreshedAt = 0;
  /** The position sweep in progress (a live Map iterator), resumed at each tick. */
  private sweep: MapIterator<[string, Set<QueueListener>]> | null = null;
  private sweepStartedAt = 0;
  /** Check-ins past this turn's join budget, by user, in arrival order (see scheduleIntake). */
  private readonly intake = new Map<
    string,
    { status: Promise<QueueStatus>; settle: (joined: Promise<QueueStatus>) => void }
  >();
  private joinedThisTurn = 0;
  /** When the tick that noticed the opening began it (performance.now()), for the draw's timing. */
  private openingStartedAt = 0;
  private intakeScheduled = false;
  /** The room's key on disk: 0 for the site room, else the on-sale's concert. */
  readonly room: number;
  readonly concertId: number | null;

  constructor(
    private readonly settings: QueueSettings,
    private readonly store: Store,
    private readonly commits: Commits,
    /** New tokens per client address (RATE_LIMIT_PER_IP): one address cannot fill the line. */
    private readonly joinsPerAddress: AddressLimiter,
    private readonly hooks: QueueHooks = NO_HOOKS,
    private readonly onSale: RoomOnSale | null = null,
  ) {
    this.concertId = onSale?.concertId ?? null;
    this.room = this.concertId ?? 0;
    this.machine = createActor(queueMachine, {
      input: {
        activeMax: settings.activeMax,
        activeTtlMs: settings.activeTtlMs,
        waitingIdleMs: settings.waitingIdleMs,
        opensAt: onSale?.opensAt ?? null,
        opened: onSale?.opened ?? false,
        paused: onSale?.paused ?? false,
      },
    });
    // Every admission and departure is written in the batch of the turn that caused it.
    this.machine.on("admitted", ({ token, activatedAt, expiresAt, joined }) => {
      // A token admitted as it joins is inserted already active (join), not updated after.
      const write = joined ? noWrite : () => this.store.activateQueueToken(token, activatedAt, expiresAt);
      void this.commits.commit(write).then(() => this.tellStatus(token), ignoreFailedCommit);
    });
    this.machine.on("left", ({ token, reason }) => {
      void this.commits
        .commit(() => this.store.deleteQueueToken(token))
        .then(() => this.tellLeft(token, reason), ignoreFailedCommit);
    });
    this.machine.on("drawn", ({ tokens, entryIds, now }) => {
      // Every pre token was given its entry id (as bytes) with its draw key (join, restore).
      const entries = entryIds as string[];
      // The drawn tokens keep their rows as they are: after a restart, an opened room puts its
      // pre rows back in draw-key order (restore), which is the drawn order.
      this.onSale?.onDrawn(entries, now);
      const started = this.openingStartedAt;
      // The first admissions are emitted after this event, in the same send: measured after it.
      let decidedAt = 0;
      queueMicrotask(() => {
        decidedAt = performance.now();
      });
      void this.commits.afterPending().then(() => {
        const committedAt = performance.now();
        for (const token of tokens) this.tellStatus(token);
        const onSale = this.onSale;
        if (onSale?.onDrawCommitted === undefined) return;
        const opensAt = this.context.config.opensAt ?? now;
        const drawMs = committedAt - started;
        onSale.onDrawCommitted({
          concertId: onSale.concertId,
          entries: entries.length,
          admitted: this.context.activeCount,
          opensAt,
          noticedAt: now,
          decideMs: round(decidedAt - started),
          drawMs: round(drawMs),
          pushedMs: round(performance.now() - started),
          committedAfterOpensAtMs: round(now - opensAt + drawMs),
        });
      }, ignoreFailedCommit);
    });
    this.machine.start();
  }

  /**
   * Puts back this room's tokens on disk (start-up). Waiting ones get a fresh idle allowance; a
   * pre-queue keeps its seen times (a draw that runs late counts those live at the opening), and
   * an opened room's pre rows wait in their drawn order, ahead of later arrivals.
   */
  restore(rows: QueueTokenRow[], now: number): void {
    const opened = this.onSale?.opened ?? false;
    const drawn = rows.filter((row) => row.status === "pre").sort((a, b) => compare(a.drawKey, b.drawKey));
    const others = rows.filter((row) => row.status !== "pre");
    const entries: QueueEntry[] = others.map((row) => ({ ...row, lastSeenAt: now }));
    drawn.forEach((row, index) => {
      if (opened) entries.push({ ...row, status: "waiting", seq: index + 1, lastSeenAt: now });
      else {
        const entryId = this.onSale?.seed ? drawEntryOf(this.room, row.userId, this.onSale.seed).entryBytes : undefined;
        entries.push({ ...row, lastSeenAt: row.lastSeenAt ?? row.joinedAt, entryId });
      }
    });
    this.machine.send({ type: "RESTORE", entries, now });
  }

  /** An on-sale's settings changed (admin). */
  configure(change: { activeMax?: number; paused?: boolean; opensAt?: number }): void {
    this.machine.send({ type: "CONFIGURE", ...change });
  }

  /** Before the opening (a check-in gets `pre`). */
  get beforeOpening(): boolean {
    return isBeforeOpening(this.context);
  }

  get soldOut(): boolean {
    return this.context.soldOut;
  }

  /** Shutdown (rooms.ts stops the tick); the machine stays readable for connections that close afterwards. */
  stop(): void {
    // Check-ins still in the intake were never decided: they are refused, not joined later.
    for (const waiting of this.intake.values()) {
      waiting.settle(Promise.reject(new ApiError("UNAVAILABLE", "the server is shutting down")));
    }
    this.intake.clear();
  }

  private get context() {
    return this.machine.getSnapshot().context;
  }

  get waiting(): number {
    return waitingCount(this.context);
  }

  get active(): number {
    return this.context.activeCount;
  }

  tick(now: number): void {
    // Present tokens need a fresh lastSeenAt only well before they could go idle, not every tick.
    if (now - this.presenceRefreshedAt >= this.settings.waitingIdleMs / 2) {
      this.presenceRefreshedAt = now;
      this.machine.send({ type: "PRESENT", tokens: this.followers.keys(), now });
      this.persistSeen(this.followers.keys(), now);
    }
    if (this.onSale !== null) {
      // The inventory first, so that the opening admits only while a seat can be booked.
      const { available, held } = this.onSale.inventory();
      if (available === 0 && held === 0) {
        if (!this.context.soldOut) this.machine.send({ type: "SOLD_OUT", now });
      } else this.machine.send({ type: "INVENTORY", canAdmit: available > 0 });
      if (isBeforeOpening(this.context) && now >= (this.context.config.opensAt ?? 0)) {
        this.openingStartedAt = performance.now();
        this.machine.send({ type: "OPEN", now });
      }
    }
    this.machine.send({ type: "TICK", now });
    this.tellPositions(now);
  }

  /** Pre-queue tokens seen now: written, so that a draw after a restart knows who was there. */
  private persistSeen(tokens: Iterable<string>, now: number): void {
    if (!isBeforeOpening(this.context)) return;
    const seen: string[] = [];
    for (const token of tokens) if (this.context.byToken.get(token)?.status === "pre") seen.push(token);
    if (seen.length === 0) return;
    this.commits
      .commit(() => {
        for (const token of seen) this.store.seeQueueToken(token, now);
      })
      .catch(ignoreFailedCommit);
  }

  /**
   * A check-in: refreshes the caller's live token, or issues one (at the back of the line, or
   * admitted at once when there is room and nobody waits). Resolves once the token is durable.
   */
  async check(
    userId: string,
    givenToken: string | undefined,
    now: number,
    address: () => string,
  ): Promise<QueueStatus> {
    if (givenToken !== undefined) {
      const given = this.context.byToken.get(givenToken);
      if (given && given.userId !== userId) throw new ApiError("FORBIDDEN", "this queue token belongs to another user");
    }
    const existing = this.liveEntryOf(userId, now);
    if (existing) {
      this.machine.send({ type: "SEEN", token: existing.token, now });
      if (existing.status === "pre") this.persistSeen([existing.token], now);
      // A check must not answer before the token's own insert or admission is committed.
      await this.commits.afterPending();
      // Meanwhile the token may have ended (its user's payment, on a cluster node told after the
      // payment's own answer): then this check-in is a new one.
      return this.status(existing.token, now) ?? this.check(userId, givenToken, now, address);
    }
    const waiting = this.intake.get(userId);
    if (waiting) return waiting.status;
    if (this.context.soldOut) throw new ApiError("SOLD_OUT", "this on-sale is sold out");
    if (waitingCount(this.context) + this.intake.size >= this.settings.waitingMax) {
      throw new ApiError("UNAVAILABLE", "the waiting room is full; try again later", FULL_LINE_RETRY_AFTER_SECONDS);
    }
    // The address is read only when the limit is on (reading it costs a native call).
    if (this.joinsPerAddress.enabled && !this.joinsPerAddress.take(address(), now)) {
      throw new ApiError("RATE_LIMITED", "too many new queue tokens from this address; slow down");
    }
    if (this.intake.size === 0 && this.joinedThisTurn < JOINS_PER_TURN) return this.join(userId, now);
    // A rush: this check-in waits its turn (FIFO) behind the ones already read.
    let settle!: (joined: Promise<QueueStatus>) => void;
    const status = new Promise<QueueStatus>((done) => {
      settle = done;
    });
    this.intake.set(userId, { status, settle });
    this.scheduleIntake();
    return status;
  }

  /** A new token for `userId`, joined to the machine now; resolves once it is durable. */
  private async join(userId: string, now: number): Promise<QueueStatus> {
    this.joinedThisTurn++;
    this.scheduleIntake();
    const token = newQueueToken();
    let drawKey: string | undefined;
    let entryId: string | undefined;
    if (isBeforeOpening(this.context) && this.onSale?.seed) {
      // The place in the draw is known at check-in (the server knows the seed), so the opening
      // only sorts: 100,000 HMACs at once would take half a second.
      ({ entryBytes: entryId, drawKey } = drawEntryOf(this.room, userId, this.onSale.seed));
    }
    this.machine.send({ type: "JOIN", token, userId, now, drawKey, entryId });
    const entry = this.context.byToken.get(token);
    if (entry === undefined) throw new ApiError("SOLD_OUT", "this on-sale is sold out");
    const { seq, status, joinedAt, activatedAt, expiresAt } = entry;
    const row = {
      token,
      room: this.room,
      userId,
      seq,
      status,
      drawKey: entry.drawKey,
      joinedAt,
      activatedAt,
      expiresAt,
    };
    await this.commits.commit(() => this.store.insertQueueToken({ ...row, lastSeenAt: now }));
    return this.status(token, now)!;
  }

  /**
   * At the end of the turn: the join budget starts over and the intake lets in its next batch.
   * Between batches the event loop reads the sockets again, so holds and payments of admitted
   * users are answered while thousands are still arriving at the waiting room.
   */
  private scheduleIntake(): void {
    if (this.intakeScheduled) return;
    this.intakeScheduled = true;
    setImmediate(() => {
      this.intakeScheduled = false;
      this.joinedThisTurn = 0;
      const now = Date.now();
      for (const [userId, waiting] of this.intake) {
        if (this.joinedThisTurn >= JOINS_PER_TURN) break;
        this.intake.delete(userId);
        waiting.settle(this.join(userId, now));
      }
      if (this.intake.size > 0) this.scheduleIntake();
    });
  }

  /** The user's token if it is still live at `now`; an active one past its TTL lapses here. */
  private liveEntryOf(userId: string, now: number): QueueEntry | undefined {
    const token = this.context.byUser.get(userId);
    const entry = token === undefined ? undefined : this.context.byToken.get(token);
    if (!entry) return undefined;
    if (entry.status === "active" && entry.expiresAt !== null && entry.expiresAt <= now) {
      this.machine.send({ type: "LAPSE", token: entry.token, now });
      return undefined;
    }
    return entry;
  }

  status(token: string, now: number): QueueStatus | undefined {
    const context = this.context;
    const entry = context.byToken.get(token);
    if (!entry) return undefined;
    const active = entry.status === "active";
    const pre = entry.status === "pre";
    const position = pre ? null : positionOf(context, token);
    const expiresAt = active ? entry.expiresAt! : entry.lastSeenAt + this.settings.waitingIdleMs;
    const { opensAt } = context.config;
    return {
      token,
      concertId: this.concertId,
      status: entry.status,
      position,
      waiting: waitingCount(context),
      active: context.activeCount,
      etaSeconds: active ? 0 : position === null ? null : etaSeconds(context, position, now),
      expiresAt: new Date(expiresAt).toISOString(),
      opensAt: opensAt === null ? null : new Date(opensAt).toISOString(),
    };
  }

  /** The gate of [active] routes. */
  assertActive(userId: string, token: string | undefined, now: number): void {
    if (!token) throw new ApiError("TOKEN_INVALID", "a Queue-Token header is required");
    const entry = this.context.byToken.get(token);
    if (!entry || (entry.status === "active" && entry.expiresAt !== null && entry.expiresAt <= now)) {
      throw new ApiError("TOKEN_INVALID", "unknown or expired queue token");
    }
    if (entry.userId !== userId) throw new ApiError("FORBIDDEN", "this queue token belongs to another user");
    if (entry.status !== "active") throw new ApiError("TOKEN_NOT_ACTIVE", "this queue token is still waiting");
  }

  /** Whether `token` is one of this room's live tokens. */
  has(token: string): boolean {
    return this.context.byToken.has(token);
  }

  /** Ends the user's token (a payment); its removal is written in the same turn's batch. */
  /**
   * Ends the user's token (a payment). `joinedBefore`: only a token that joined before it (a
   * payment whose outcome reached this room late ends the token it was made under, not one the
   * user took since).
   */
  endFor(userId: string, now: number, joinedBefore?: number): void {
    const token = this.context.byUser.get(userId);
    if (token === undefined) return;
    if (joinedBefore !== undefined && (this.context.byToken.get(token)?.joinedAt ?? 0) >= joinedBefore) return;
    this.machine.send({ type: "END", token, now });
  }

  /**
   * A listener (an open WebSocket that checked `token` in) arrives: it is told what happens to
   * the token, and while it stays the token does not go idle. A listener follows one token.
   */
  follow(listener: QueueListener, token: string, now: number): void {
    if (this.following.get(listener)?.token === token) return;
    this.unfollow(listener, now);
    this.following.set(listener, { token, toldPosition: this.status(token, now)?.position ?? -1 });
    let set = this.followers.get(token);
    if (!set) this.followers.set(token, (set = new Set()));
    set.add(listener);
  }

  /** The listener left (its socket closed); the idle clock of its token starts when the last one goes. */
  unfollow(listener: QueueListener, now: number): void {
    const followed = this.following.get(listener);
    if (followed === undefined) return;
    this.following.delete(listener);
    const set = this.followers.get(followed.token);
    set?.delete(listener);
    if (set?.size !== 0) return;
    this.followers.delete(followed.token);
    if (this.context.byToken.has(followed.token)) this.machine.send({ type: "SEEN", token: followed.token, now });
  }

  /** The token `listener` follows (the one a WebSocket uses for gated ops), if any. */
  followedBy(listener: QueueListener): string | undefined {
    return this.following.get(listener)?.token;
  }

  private tellStatus(token: string): void {
    const listeners = this.followers.get(token);
    if (!listeners) return;
    const status = this.status(token, Date.now());
    if (!status) return;
    for (const listener of listeners) this.tell(listener, status);
  }

  private tellLeft(token: string, reason: string): void {
    const listeners = this.followers.get(token);
    if (!listeners) return;
    this.followers.delete(token);
    const update: QueueUpdate =
      reason === "soldout" && this.concertId !== null
        ? { token, concertId: this.concertId, status: "soldout" }
        : {
            token,
            concertId: this.concertId,
            status: "expired",
            reason,
            position: 0,
            waiting: this.waiting,
            etaSeconds: 0,
          };
    for (const listener of listeners) {
      this.following.delete(listener);
      this.hooks.push(listener, update);
    }
  }

  /**
   * After a tick: tell waiting followers whose position moved. The sweep visits a bounded number
   * of tokens per tick and starts over at most once a second, so one tick never stalls the
   * event loop, however long the line; admission and departure are told at once.
   */
  private tellPositions(now: number): void {
    if (this.sweep === null) {
      if (now - this.sweepStartedAt < POSITION_PUSH_INTERVAL_MS) return;
      this.sweep = this.followers.entries();
      this.sweepStartedAt = now;
    }
    const budget = Math.max(100, (POSITION_VISITS_PER_SECOND * this.settings.tickMs) / 1000);
    for (let visits = 0; visits < budget; visits++) {
      const next = this.sweep.next();
      if (next.done) {
        this.sweep = null;
        return;
      }
      const [token, listeners] = next.value;
      const status = this.status(token, now);
      if (status?.status !== "waiting") continue;
      for (const listener of listeners) {
        if (this.following.get(listener)?.toldPosition !== status.position) this.tell(listener, status);
      }
    }
  }

  private tell(listener: QueueListener, status: QueueStatus): void {
    const followed = this.following.get(listener);
    if (followed) followed.toldPosition = status.position;
    this.hooks.push(listener, status);
  }
}

/**
 * New tokens joined per event-loop turn. A turn of 256 joins costs a few milliseconds; without a
 * bound, 10,000 fans arriving together are read in one poll phase and stall every booking
 * request behind them for hundreds of milliseconds.
 */
const JOINS_PER_TURN = 256;

/**
 * An opaque queue token, 24 base64url characters: 9 that grow with each token issued (the clock
 * in ms × 1024 plus a count, in an order-preserving base64 alphabet), then 15 random (90 bits,
 * from a pooled buffer: one syscall per 512 tokens). Tokens are the primary key of their table,
 * so ascending ones are appended to its last pages: a batch of new tokens dirties a few pages
 * instead of one random page each (4 KiB written to the WAL per check-in with 100,000 in line).
 */
export function newQueueToken(): string {
  if (tokenOffset + TOKEN_RANDOM_BYTES > tokenPool.length) {
    tokenPool = randomBytes(TOKEN_RANDOM_BYTES * 512);
    tokenOffset = 0;
  }
  tokenOffset += TOKEN_RANDOM_BYTES;
  const random = tokenPool.toString("base64url", tokenOffset - TOKEN_RANDOM_BYTES, tokenOffset).slice(0, 15);
  return ascendingPrefix(Date.now()) + random;
}

const TOKEN_RANDOM_BYTES = 12;
let tokenPool = Buffer.alloc(0);
let tokenOffset = 0;
/** The base64url characters in ASCII order, so that equal-length strings sort as their values. */
const ORDERED_BASE64 = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
let lastPrefixValue = 0;

/** 9 characters (54 bits) above every earlier one in this process: ms × 1024, +1 within a ms. */
export function ascendingPrefix(now: number): string {
  lastPrefixValue = Math.max(lastPrefixValue + 1, now * 1024);
  let value = lastPrefixValue;
  let text = "";
  for (let i = 0; i < 9; i++) {
    text = ORDERED_BASE64[value % 64] + text;
    value = Math.floor(value / 64);
  }
  return text;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function compare(a: string | null, b: string | null): number {
  return (a ?? "") < (b ?? "") ? -1 : (a ?? "") > (b ?? "") ? 1 : 0;
}
