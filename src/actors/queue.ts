// The waiting room's actor: the queue machine, its tick, its rows on disk and who is present.
import { randomBytes } from "node:crypto";
import { type Actor, createActor } from "xstate";
import { etaSeconds, positionOf, type QueueEntry, queueMachine, waitingCount } from "../../machines/queue.js";
import type { AddressLimiter } from "../api/rateLimit.js";
import { ApiError } from "../errors.js";
import type { CommitQueue } from "../store/commitQueue.js";
import type { QueueTokenRow, Store } from "../store/store.js";

export interface QueueStatus {
  token: string;
  status: "waiting" | "active";
  position: number;
  waiting: number;
  active: number;
  etaSeconds: number;
  expiresAt: string;
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

export interface QueueHooks {
  /** A token was admitted or left the line (pushes to the connections that checked it in). */
  onTokenChange(token: string, change: { status: "active" } | { status: "expired"; reason: string }): void;
  /** After each tick: positions may have moved. */
  onTick(): void;
}

export class QueueActor {
  private readonly machine: Actor<typeof queueMachine>;
  /** Open WebSocket connections per token: a present waiter does not go idle. */
  private readonly present = new Map<string, number>();
  private presenceRefreshedAt = 0;
  /** The token being joined right now (its admission, if immediate, is part of its insert). */
  private joining: string | undefined;
  private timer: NodeJS.Timeout | null = null;
  private hooks: QueueHooks = { onTokenChange: () => {}, onTick: () => {} };
  /** Check-ins past this turn's join budget, by user, in arrival order (see scheduleIntake). */
  private readonly intake = new Map<
    string,
    { status: Promise<QueueStatus>; settle: (joined: Promise<QueueStatus>) => void }
  >();
  private joinedThisTurn = 0;
  private intakeScheduled = false;

  constructor(
    private readonly settings: QueueSettings,
    private readonly store: Store,
    private readonly commits: CommitQueue,
    /** New tokens per client address (RATE_LIMIT_PER_IP): one address cannot fill the line. */
    private readonly joinsPerAddress: AddressLimiter,
  ) {
    this.machine = createActor(queueMachine, {
      input: {
        activeMax: settings.activeMax,
        activeTtlMs: settings.activeTtlMs,
        waitingIdleMs: settings.waitingIdleMs,
      },
    });
    // Every admission and departure is written in the batch of the turn that caused it.
    this.machine.on("admitted", ({ token, activatedAt, expiresAt }) => {
      // A token admitted as it joins is inserted already active (check), not updated after.
      const write =
        token === this.joining ? () => {} : () => this.store.activateQueueToken(token, activatedAt, expiresAt);
      void this.commits.commit(write).then(() => this.hooks.onTokenChange(token, { status: "active" }));
    });
    this.machine.on("left", ({ token, reason }) => {
      this.present.delete(token);
      void this.commits
        .commit(() => this.store.deleteQueueToken(token))
        .then(() => this.hooks.onTokenChange(token, { status: "expired", reason }));
    });
    this.machine.start();
  }

  setHooks(hooks: QueueHooks): void {
    this.hooks = hooks;
  }

  /** Puts back the tokens on disk (start-up); waiting ones get a fresh idle allowance. */
  restore(rows: QueueTokenRow[], now: number): void {
    const entries: QueueEntry[] = rows.map((row) => ({ ...row, lastSeenAt: now }));
    this.machine.send({ type: "RESTORE", entries, now });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(Date.now()), this.settings.tickMs);
  }

  /** Stops the tick; the machine stays readable for connections that close afterwards. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
      this.machine.send({ type: "PRESENT", tokens: this.present.keys(), now });
    }
    this.machine.send({ type: "TICK", now });
    this.hooks.onTick();
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
      // A check must not answer before the token's own insert or admission is committed.
      await this.commits.afterPending();
      return this.status(existing.token, now)!;
    }
    const waiting = this.intake.get(userId);
    if (waiting) return waiting.status;
    if (waitingCount(this.context) + this.intake.size >= this.settings.waitingMax) {
      throw new ApiError("UNAVAILABLE", "the waiting room is full; try again later", FULL_LINE_RETRY_AFTER_SECONDS);
    }
    if (!this.joinsPerAddress.take(address(), now)) {
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
    const seq = this.context.nextSeq;
    this.joining = token;
    this.machine.send({ type: "JOIN", token, userId, now });
    this.joining = undefined;
    const entry = this.context.byToken.get(token)!;
    const { status, joinedAt, activatedAt, expiresAt } = entry;
    await this.commits.commit(() =>
      this.store.insertQueueToken({ token, userId, seq, status, joinedAt, activatedAt, expiresAt }),
    );
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

  /** The user's token if it is still live at `now` (an active one past its TTL is not). */
  private liveEntryOf(userId: string, now: number): QueueEntry | undefined {
    const token = this.context.byUser.get(userId);
    const entry = token === undefined ? undefined : this.context.byToken.get(token);
    if (!entry) return undefined;
    if (entry.status === "active" && entry.expiresAt !== null && entry.expiresAt <= now) {
      this.machine.send({ type: "TICK", now });
      return undefined;
    }
    return entry;
  }

  status(token: string, now: number): QueueStatus | undefined {
    const context = this.context;
    const entry = context.byToken.get(token);
    if (!entry) return undefined;
    const position = positionOf(context, token);
    const active = entry.status === "active";
    const expiresAt = active ? entry.expiresAt! : entry.lastSeenAt + this.settings.waitingIdleMs;
    return {
      token,
      status: entry.status,
      position,
      waiting: waitingCount(context),
      active: context.activeCount,
      etaSeconds: active ? 0 : etaSeconds(context, position, now),
      expiresAt: new Date(expiresAt).toISOString(),
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

  /** Ends the user's token (a payment); its removal is written in the same turn's batch. */
  endFor(userId: string, now: number): void {
    const token = this.context.byUser.get(userId);
    if (token !== undefined) this.machine.send({ type: "END", token, now });
  }

  /** An open WebSocket that checked in keeps its waiting token present. */
  attach(token: string): void {
    this.present.set(token, (this.present.get(token) ?? 0) + 1);
  }

  detach(token: string, now: number): void {
    const count = this.present.get(token);
    if (count === undefined) return;
    if (count > 1) {
      this.present.set(token, count - 1);
      return;
    }
    this.present.delete(token);
    // The idle clock starts when the last socket goes.
    if (this.context.byToken.has(token)) this.machine.send({ type: "SEEN", token, now });
  }
}

/**
 * New tokens joined per event-loop turn. A turn of 256 joins costs a few milliseconds; without a
 * bound, 10,000 fans arriving together are read in one poll phase and stall every booking
 * request behind them for hundreds of milliseconds.
 */
const JOINS_PER_TURN = 256;

const TOKEN_BYTES = 18;
let tokenPool = Buffer.alloc(0);
let tokenOffset = 0;

/** An opaque queue token: 18 random bytes, base64url, drawn from a pooled buffer (one syscall per 512). */
function newQueueToken(): string {
  if (tokenOffset + TOKEN_BYTES > tokenPool.length) {
    tokenPool = randomBytes(TOKEN_BYTES * 512);
    tokenOffset = 0;
  }
  tokenOffset += TOKEN_BYTES;
  return tokenPool.toString("base64url", tokenOffset - TOKEN_BYTES, tokenOffset);
}
