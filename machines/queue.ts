// Owns a waiting room: the pre-queue before an opening and its draw, the FIFO line, the bounded
// active set, idle and TTL expiry, admission (paused, or held back while no seat is available),
// and the end of a sold-out on-sale.
import { and, emit, enqueueActions, setup } from "xstate";
import { sortByDrawKey } from "./drawSort.js";
import { WaitingLine } from "./waitingLine.js";

export interface QueueInput {
  activeMax: number;
  activeTtlMs: number;
  waitingIdleMs: number;
  /** When the room opens (epoch ms); until then check-ins wait in the pre-queue. Null: open. */
  opensAt?: number | null;
  /** The draw already ran (a room restored after its opening). */
  opened?: boolean;
  paused?: boolean;
}

export type QueueEntryStatus = "pre" | "waiting" | "active";

export interface QueueEntry {
  token: string;
  userId: string;
  /** place in line: smaller joined earlier; persisted, so order survives a restart */
  seq: number;
  status: QueueEntryStatus;
  /** pre: the entry's place in the draw (lower goes first), computed by the host at check-in */
  drawKey: string | null;
  /** pre: the fan's entry id in the published draw (opaque here), given by the host with drawKey */
  entryId?: string | undefined;
  joinedAt: number;
  lastSeenAt: number;
  activatedAt: number | null;
  /** active: activatedAt + ttl */
  expiresAt: number | null;
}

export interface QueueContext {
  config: Required<QueueInput>;
  /** the pre-queue: tokens that checked in before the opening, until the draw */
  pre: Map<string, QueueEntry>;
  /** false while no seat can be booked: nobody is admitted (the host says so, INVENTORY) */
  canAdmit: boolean;
  soldOut: boolean;
  byToken: Map<string, QueueEntry>;
  /** userId -> token */
  byUser: Map<string, string>;
  /** seq numbers of the waiting tokens, in line order */
  line: WaitingLine;
  /** seq -> token, for the waiting tokens only (turns line.popOldest() into a token) */
  tokenBySeq: Map<number, string>;
  /** waiting tokens, least recently seen first (a SEEN moves a token to the back) */
  idleOrder: Set<string>;
  /** active tokens, soonest expiry first (admission order, since the TTL is one constant) */
  activeOrder: Set<string>;
  activeCount: number;
  nextSeq: number;
  /** admission times for the rate estimate, oldest first; only the last 60 s are kept */
  admissions: number[];
}

export type QueueEvent =
  | { type: "JOIN"; token: string; userId: string; now: number; drawKey?: string; entryId?: string | undefined }
  /** The opening: the draw orders the pre-queue, then admission starts. */
  | { type: "OPEN"; now: number }
  | { type: "CONFIGURE"; activeMax?: number; paused?: boolean; opensAt?: number }
  /** Whether a seat can be booked now (the host reads the inventory). */
  | { type: "INVENTORY"; canAdmit: boolean }
  /** No seat is available nor held: every pre and waiting token ends. */
  | { type: "SOLD_OUT"; now: number }
  | { type: "SEEN"; token: string; now: number }
  /** The host saw these tokens present (open connections): one event for the whole line. */
  | { type: "PRESENT"; tokens: Iterable<string>; now: number }
  | { type: "END"; token: string; now: number }
  /** The host met an active token past its expiry before the tick did (a check-in of its user). */
  | { type: "LAPSE"; token: string; now: number }
  | { type: "TICK"; now: number }
  | { type: "RESTORE"; entries: QueueEntry[]; now: number };

export type QueueEmitted =
  /** `joined`: admitted as it joined (its row is inserted active), not from the line at a tick. */
  | { type: "admitted"; token: string; userId: string; activatedAt: number; expiresAt: number; joined: boolean }
  | { type: "left"; token: string; userId: string; reason: "idle" | "expired" | "ended" | "soldout" }
  /** The draw: the pre-queue's tokens in drawn order (they now wait in this order), and their entry ids. */
  | { type: "drawn"; tokens: string[]; entryIds: (string | undefined)[]; now: number };

const ADMISSION_WINDOW_MS = 60_000;

/** 1-based rank among WAITING tokens; 0 if the token is active or unknown. O(log n). */
export function positionOf(context: QueueContext, token: string): number {
  const entry = context.byToken.get(token);
  if (entry === undefined || entry.status !== "waiting") return 0;
  return context.line.rank(entry.seq);
}

/** Tokens waiting to be admitted: the line, and before the opening the pre-queue. */
export function waitingCount(context: QueueContext): number {
  return context.line.size + context.pre.size;
}

/** Before the opening: check-ins join the pre-queue. */
export function isBeforeOpening(context: QueueContext): boolean {
  return context.config.opensAt !== null && !context.config.opened;
}

/** Admission may happen: open, not paused, a seat to book. */
function mayAdmit(context: QueueContext): boolean {
  return !isBeforeOpening(context) && !context.config.paused && context.canAdmit && !context.soldOut;
}

/**
 * Seconds until `position` is admitted: position / (admissions per second over the last 60 s).
 * With no admission in that window (a fresh start, or a full active set that nobody leaves)
 * the only honest guess is the worst case: every active slot is held for its whole TTL.
 */
export function etaSeconds(context: QueueContext, position: number, now: number): number {
  if (position <= 0) return 0;
  const recent = context.admissions.length - firstAfter(context.admissions, now - ADMISSION_WINDOW_MS);
  if (recent > 0) return Math.ceil((position * (ADMISSION_WINDOW_MS / 1000)) / recent);
  const { activeTtlMs, activeMax } = context.config;
  return Math.ceil((position * (activeTtlMs / 1000)) / Math.max(1, activeMax));
}

/** Index of the first time > cutoff in an ascending array (binary search). */
function firstAfter(times: number[], cutoff: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((times[mid] ?? 0) > cutoff) high = mid;
    else low = mid + 1;
  }
  return low;
}

/*
 * Why the structures below are mutated in place inside actions: with 100,000 waiting tokens,
 * copying byToken, the line or the order sets on each JOIN/SEEN/TICK would cost O(n) per
 * event. The queue actor is their only owner and keeps no earlier snapshots, so in-place
 * mutation is safe. The scalars (activeCount, nextSeq) change in place too: an `assign` copies
 * the context and the snapshot, which JOIN and END, on every booking cycle, cannot afford.
 * Consequence: don't compute hypothetical next snapshots (getNextSnapshot / transition) of a
 * live queue; `snapshot.can(...)` only evaluates guards and is fine.
 */

/** Deletes a token from every index; the caller adjusts activeCount. */
function forget(context: QueueContext, entry: QueueEntry): void {
  context.byToken.delete(entry.token);
  if (context.byUser.get(entry.userId) === entry.token) context.byUser.delete(entry.userId);
  if (entry.status === "pre") {
    context.pre.delete(entry.token);
    context.idleOrder.delete(entry.token);
  } else if (entry.status === "waiting") {
    context.line.remove(entry.seq);
    context.tokenBySeq.delete(entry.seq);
    context.idleOrder.delete(entry.token);
  } else {
    context.activeOrder.delete(entry.token);
  }
}

/** Turns an entry active at `now`; the caller adjusts activeCount and takes it off the line. */
function activate(context: QueueContext, entry: QueueEntry, now: number): void {
  entry.status = "active";
  entry.activatedAt = now;
  entry.expiresAt = now + context.config.activeTtlMs;
  context.activeOrder.add(entry.token);
  context.admissions.push(now);
}

function admitted(entry: QueueEntry, joined: boolean): QueueEmitted {
  return {
    type: "admitted",
    token: entry.token,
    userId: entry.userId,
    activatedAt: entry.activatedAt ?? 0,
    expiresAt: entry.expiresAt ?? 0,
    joined,
  };
}

/** A waiting (or pre) token was seen at `now`: it moves to the back of the idle order. */
function seen(context: QueueContext, token: string, now: number): void {
  const entry = context.byToken.get(token);
  if (entry === undefined || entry.status === "active") return;
  // Never backwards: idleOrder must stay sorted by lastSeenAt.
  entry.lastSeenAt = Math.max(entry.lastSeenAt, now);
  // delete + add moves the token to the back of the insertion-ordered set.
  context.idleOrder.delete(entry.token);
  context.idleOrder.add(entry.token);
}

function left(entry: QueueEntry, reason: "idle" | "expired" | "ended" | "soldout"): QueueEmitted {
  return { type: "left", token: entry.token, userId: entry.userId, reason };
}

function newEntry(
  event: { token: string; userId: string; now: number; drawKey?: string; entryId?: string | undefined },
  seq: number,
  status: QueueEntryStatus = "waiting",
): QueueEntry {
  return {
    token: event.token,
    userId: event.userId,
    seq,
    status,
    drawKey: event.drawKey ?? null,
    entryId: event.entryId,
    joinedAt: event.now,
    lastSeenAt: event.now,
    activatedAt: null,
    expiresAt: null,
  };
}

export const queueMachine = setup({
  types: {} as {
    context: QueueContext;
    events: QueueEvent;
    input: QueueInput;
    emitted: QueueEmitted;
  },
  guards: {
    // One live token per user (the host looks byUser up first and answers with that token); a
    // sold-out room takes nobody.
    isNewJoiner: ({ context, event }) =>
      event.type === "JOIN" &&
      !context.soldOut &&
      !context.byUser.has(event.userId) &&
      !context.byToken.has(event.token),
    // Before the opening every check-in goes to the pre-queue, with its place in the draw.
    isPreJoiner: ({ context, event }) =>
      event.type === "JOIN" && isBeforeOpening(context) && event.drawKey !== undefined,
    // Nobody may overtake the line: immediate admission only when it is empty.
    hasRoomAndNoLine: ({ context }) =>
      mayAdmit(context) && context.activeCount < context.config.activeMax && context.line.size === 0,
    isWaitingToken: ({ context, event }) => {
      const status = "token" in event ? context.byToken.get(event.token)?.status : undefined;
      return status === "waiting" || status === "pre";
    },
    isDueToOpen: ({ context, event }) =>
      event.type === "OPEN" && isBeforeOpening(context) && event.now >= (context.config.opensAt ?? 0),
    isKnownToken: ({ context, event }) => "token" in event && context.byToken.has(event.token),
    isLapsedActive: ({ context, event }) => {
      if (event.type !== "LAPSE") return false;
      const entry = context.byToken.get(event.token);
      return entry?.status === "active" && (entry.expiresAt ?? 0) <= event.now;
    },
    // RESTORE rebuilds from the database at start; on a queue that already has tokens it
    // would collide seq numbers, so it is refused.
    isPristine: ({ context }) => context.byToken.size === 0,
  },
  actions: {
    // JOIN and END are plain actions plus one `emit`: cheaper per event than enqueueActions.
    joinActive: ({ context, event }) => {
      if (event.type !== "JOIN") return;
      const entry = newEntry(event, context.nextSeq++);
      context.byToken.set(entry.token, entry);
      context.byUser.set(entry.userId, entry.token);
      activate(context, entry, event.now);
      context.activeCount++;
    },
    emitAdmitted: emit(({ context, event }) => {
      const entry = "token" in event ? context.byToken.get(event.token) : undefined;
      if (entry === undefined || entry.expiresAt === null) throw new Error("emitAdmitted runs after an admission");
      return admitted(entry, true);
    }),
    joinPre: ({ context, event }) => {
      if (event.type !== "JOIN") return;
      // No seq yet: the draw gives the pre-queue its order at the opening.
      const entry = newEntry(event, 0, "pre");
      context.byToken.set(entry.token, entry);
      context.byUser.set(entry.userId, entry.token);
      context.pre.set(entry.token, entry);
      context.idleOrder.add(entry.token);
    },
    // The draw: tokens seen within the idle allowance before the opening, by drawKey.
    draw: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "OPEN") return;
      const opensAt = context.config.opensAt ?? event.now;
      const drawn: QueueEntry[] = [];
      for (const entry of context.pre.values()) {
        if (entry.lastSeenAt + context.config.waitingIdleMs < opensAt) {
          forget(context, entry);
          enqueue.emit(left(entry, "idle"));
        } else drawn.push(entry);
      }
      const ordered = sortByDrawKey(drawn);
      context.pre.clear();
      const tokens: string[] = new Array(ordered.length);
      const entryIds: (string | undefined)[] = new Array(ordered.length);
      // The idle clock starts over at the draw (it may run late, after a restart): every drawn
      // token is now seen at the same, latest time. idleOrder must stay sorted by that time, so
      // the drawn go to its back; when it holds nothing else (before an opening it holds only
      // the pre-queue), they are all there already, in an order that is sorted as it is.
      const othersIdle = context.idleOrder.size !== ordered.length;
      for (let i = 0; i < ordered.length; i++) {
        const entry = ordered[i]!;
        entry.status = "waiting";
        entry.seq = context.nextSeq++;
        context.line.add(entry.seq);
        context.tokenBySeq.set(entry.seq, entry.token);
        entry.lastSeenAt = Math.max(entry.lastSeenAt, event.now);
        if (othersIdle) {
          context.idleOrder.delete(entry.token);
          context.idleOrder.add(entry.token);
        }
        tokens[i] = entry.token;
        entryIds[i] = entry.entryId;
      }
      context.config.opened = true;
      enqueue.emit({ type: "drawn", tokens, entryIds, now: event.now });
    }),
    configure: ({ context, event }) => {
      if (event.type !== "CONFIGURE") return;
      if (event.activeMax !== undefined) context.config.activeMax = event.activeMax;
      if (event.paused !== undefined) context.config.paused = event.paused;
      if (event.opensAt !== undefined && isBeforeOpening(context)) context.config.opensAt = event.opensAt;
    },
    setInventory: ({ context, event }) => {
      if (event.type === "INVENTORY") context.canAdmit = event.canAdmit;
    },
    endUnadmitted: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "SOLD_OUT") return;
      context.soldOut = true;
      for (const entry of [...context.byToken.values()]) {
        if (entry.status === "active") continue;
        forget(context, entry);
        enqueue.emit(left(entry, "soldout"));
      }
    }),
    joinWaiting: ({ context, event }) => {
      if (event.type !== "JOIN") return;
      const entry = newEntry(event, context.nextSeq++);
      context.byToken.set(entry.token, entry);
      context.byUser.set(entry.userId, entry.token);
      context.line.add(entry.seq);
      context.tokenBySeq.set(entry.seq, entry.token);
      context.idleOrder.add(entry.token);
    },
    refreshSeen: ({ context, event }) => {
      if (event.type !== "SEEN") return;
      seen(context, event.token, event.now);
    },
    refreshPresent: ({ context, event }) => {
      if (event.type !== "PRESENT") return;
      for (const token of event.tokens) seen(context, token, event.now);
    },
    // Run before endToken, while the entry is still known.
    emitEnded: emit(({ context, event }) => {
      const entry = "token" in event ? context.byToken.get(event.token) : undefined;
      if (entry === undefined) throw new Error("emitEnded runs before endToken, on a known token");
      return left(entry, "ended");
    }),
    emitLapsed: emit(({ context, event }) => {
      const entry = "token" in event ? context.byToken.get(event.token) : undefined;
      if (entry === undefined) throw new Error("emitLapsed runs before endToken, on a known token");
      return left(entry, "expired");
    }),
    endToken: ({ context, event }) => {
      if (event.type !== "END" && event.type !== "LAPSE") return;
      const entry = context.byToken.get(event.token);
      if (entry === undefined) return;
      forget(context, entry);
      if (entry.status === "active") context.activeCount--;
    },
    dropIdle: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "TICK") return;
      // idleOrder is sorted by lastSeenAt, so the scan stops at the first token still alive:
      // O(leavers), not O(line). (If the host clock steps back, a leaver may wait behind a
      // fresher token for at most that step.)
      for (const token of context.idleOrder) {
        const entry = context.byToken.get(token);
        if (entry === undefined) continue;
        if (event.now - entry.lastSeenAt <= context.config.waitingIdleMs) break;
        forget(context, entry);
        enqueue.emit(left(entry, "idle"));
      }
    }),
    expireActives: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "TICK") return;
      for (const token of context.activeOrder) {
        const entry = context.byToken.get(token);
        if (entry === undefined) continue;
        if ((entry.expiresAt ?? 0) > event.now) break;
        forget(context, entry);
        context.activeCount--;
        enqueue.emit(left(entry, "expired"));
      }
    }),
    admitWaiting: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "TICK" && event.type !== "OPEN") return;
      while (mayAdmit(context) && context.activeCount < context.config.activeMax) {
        const seq = context.line.popOldest();
        if (seq === undefined) break;
        const token = context.tokenBySeq.get(seq);
        const entry = token === undefined ? undefined : context.byToken.get(token);
        context.tokenBySeq.delete(seq);
        if (entry === undefined) continue;
        context.idleOrder.delete(entry.token);
        context.activeCount++;
        activate(context, entry, event.now);
        enqueue.emit(admitted(entry, false));
      }
      // The rate estimate only looks 60 s back; older admission times are dead weight.
      const stale = firstAfter(context.admissions, event.now - ADMISSION_WINDOW_MS);
      if (stale > 0) context.admissions.splice(0, stale);
    }),
    restore: ({ context, event }) => {
      if (event.type !== "RESTORE") return;
      const entries = event.entries.map((entry) => ({ ...entry })).sort((a, b) => a.seq - b.seq);
      const actives: QueueEntry[] = [];
      for (const entry of entries) {
        context.byToken.set(entry.token, entry);
        context.byUser.set(entry.userId, entry.token);
        context.nextSeq = Math.max(context.nextSeq, entry.seq + 1);
        if (entry.status === "pre") {
          // The pre-queue keeps its seen times: the draw counts those seen before the opening.
          context.pre.set(entry.token, entry);
          context.idleOrder.add(entry.token);
        } else if (entry.status === "waiting") {
          // Nobody could check in while the server was down; the idle clock restarts now.
          entry.lastSeenAt = event.now;
          context.line.add(entry.seq);
          context.tokenBySeq.set(entry.seq, entry.token);
          context.idleOrder.add(entry.token);
        } else {
          entry.expiresAt ??= (entry.activatedAt ?? event.now) + context.config.activeTtlMs;
          actives.push(entry);
        }
      }
      // The TTL may have changed across the restart, so order actives by their own expiry.
      actives.sort((a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0));
      for (const entry of actives) context.activeOrder.add(entry.token);
      context.activeCount += actives.length;
    },
  },
}).createMachine({
  id: "queue",
  context: ({ input }) => ({
    config: { opensAt: null, opened: false, paused: false, ...input },
    pre: new Map(),
    canAdmit: true,
    soldOut: false,
    byToken: new Map(),
    byUser: new Map(),
    line: new WaitingLine(),
    tokenBySeq: new Map(),
    idleOrder: new Set(),
    activeOrder: new Set(),
    activeCount: 0,
    nextSeq: 1,
    admissions: [],
  }),
  initial: "open",
  states: {
    // One state: the waiting room never closes; its rules live in guards over the context.
    open: {
      on: {
        JOIN: [
          { guard: and(["isPreJoiner", "isNewJoiner"]), actions: "joinPre" },
          // The cheap room check first: `and` stops at the first false, and while a line
          // exists (the busy case) that spares a second lookup of the joiner.
          { guard: and(["hasRoomAndNoLine", "isNewJoiner"]), actions: ["joinActive", "emitAdmitted"] },
          { guard: "isNewJoiner", actions: "joinWaiting" },
        ],
        OPEN: { guard: "isDueToOpen", actions: ["draw", "admitWaiting"] },
        CONFIGURE: { actions: "configure" },
        INVENTORY: { actions: "setInventory" },
        SOLD_OUT: { actions: "endUnadmitted" },
        SEEN: { guard: "isWaitingToken", actions: "refreshSeen" },
        // Active and unknown tokens in the list are skipped: presence only matters in line.
        PRESENT: { actions: "refreshPresent" },
        END: { guard: "isKnownToken", actions: ["emitEnded", "endToken"] },
        LAPSE: { guard: "isLapsedActive", actions: ["emitLapsed", "endToken"] },
        // Order matters: leavers free slots first, so the same tick can refill them.
        TICK: { actions: ["dropIdle", "expireActives", "admitWaiting"] },
        RESTORE: { guard: "isPristine", actions: "restore" },
      },
    },
  },
});
