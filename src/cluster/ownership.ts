// The per-node ownership loop (issue 15, item 2; ../../../shared/DESIGN.md "Scale past one
// process"): every tick a node says it is alive, computes from the live nodes which concerts
// rendezvous hashing gives it (placement.ts), and takes, renews or gives up their leases
// (leases.ts) so that, at rest, each concert has exactly one owner.
//
// Each tick:
// - heartbeat; live = the owning nodes seen within `liveMs` (default 3 × tickMs, which with the
//   default tickMs = ttlMs / 3 is the lease TTL: a node that stopped ticking leaves the live list
//   about when its leases expire, so the others start wanting its concerts as they become free);
// - for every concert to place: wanted = ownerOf(concert, live) === this node (never for a node
//   that does not own);
//   - wanted and held: renew; a refused renewal (expired or taken) → onLost("lease lost");
//   - wanted, not held: acquire → onGained; while another node still holds it, try next tick;
//   - held, not wanted (a node joined and rendezvous moved it, or the concert is no longer
//     placed): onLost("moved") FIRST, then release, so the new owner takes it at once, one
//     epoch up.
//
// Local deadline. Reads are served from the owner's memory without touching PostgreSQL, so the
// fence in write transactions does not protect them: a node must stop answering as owner before
// any other node can take the lease over. The lease ends TTL after PostgreSQL's statement started,
// which is after the moment we SENT the acquire/renew; so by our own monotonic clock
// (performance.now(), immune to wall-clock jumps), the lease is certainly still ours until
// sentAt + ttl, and we stop at sentAt + ttl − margin (margin, default tickMs, absorbs clock rate
// differences and the time to drop a concert). Past that deadline the lease is forgotten and
// onLost("deadline") called before anything else, whatever made us late (event loop blocked,
// PostgreSQL slow or down: a tick's errors are logged and the deadline still applies). isOwner()
// and held() check the deadline themselves, so a reader never sees a lease past it even if the
// timer that reports the loss has not run yet.
//
// A given-up epoch is never taken back: acquire() of a lease this node still holds in PostgreSQL
// (e.g. forgotten by the deadline while its renewal went through) returns the SAME epoch, and a
// write of the old incarnation still in flight would then pass the fence after the concert was
// rebuilt from PostgreSQL without it (and its seat versions, numbered from the epoch, would start
// again below those already published). So such a lease is released and acquired again, one epoch
// up. The same holds for the leases of an earlier life of this node (killed, then started again by
// its supervisor before they expired): the first round reads them and counts them as given up.
//
// Callbacks are called synchronously and not awaited (an async onGained, e.g. rebuilding a concert
// from PostgreSQL, must not delay the renewals of the others); their errors are logged. Every
// onGained(c, e) is followed by exactly one onLost(c, e, reason) once the holding ends, stop()
// included ("stopped").
import { performance } from "node:perf_hooks";
import type { Logger } from "../log.js";
import type { Clock, Leases } from "./leases.js";
import { ownerOf } from "./placement.js";

export type LostReason = "lease lost" | "moved" | "deadline" | "stopped" | "given up";

export interface OwnershipOptions {
  leases: Leases;
  nodeId: string;
  /** False for a gateway-only node: it heartbeats but wants no concert. */
  owns: boolean;
  /** The concert ids to place (0: the site room). */
  concerts: () => readonly number[];
  /** Lease TTL (e.g. 10_000 ms). */
  ttlMs: number;
  /** Tick period; default ttlMs / 3. */
  tickMs?: number;
  /** How recently a node must have been seen to count as live; default 3 × tickMs. */
  liveMs?: number;
  /** How long before the lease's end (by the local monotonic clock) the node stops acting as owner; default tickMs. */
  marginMs?: number;
  /** The clock passed to PostgreSQL: "database" in production, numbers in tests. */
  clock: Clock;
  /** The local monotonic clock in ms; default performance.now() (tests inject one). */
  monotonic?: () => number;
  log: Logger;
  onGained: (concertId: number, epoch: number) => void | Promise<void>;
  onLost: (concertId: number, epoch: number, reason: LostReason) => void | Promise<void>;
}

interface Holding {
  epoch: number;
  /** Monotonic ms after which this node no longer acts as owner. */
  deadline: number;
}

export class Ownership {
  private readonly holdings = new Map<number, Holding>();
  /** The last epoch given up per concert: never taken back (see the top of the file). */
  private readonly givenUp = new Map<number, number>();
  /**
   * Whether the leases an earlier life of this node left (the same NODE_ID, killed and started
   * again within the TTL) are among givenUp: this life's memory starts empty, so it must not
   * continue their epochs (see the top of the file); it takes each one epoch up.
   */
  private earlierLifeRead = false;
  private readonly tickMs: number;
  private readonly liveMs: number;
  private readonly marginMs: number;
  private readonly monotonic: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: OwnershipOptions) {
    this.tickMs = options.tickMs ?? Math.floor(options.ttlMs / 3);
    this.liveMs = options.liveMs ?? 3 * this.tickMs;
    this.marginMs = options.marginMs ?? this.tickMs;
    this.monotonic = options.monotonic ?? (() => performance.now());
    if (this.marginMs >= options.ttlMs) throw new Error("ownership: the margin must be shorter than the TTL");
  }

  /**
   * Heartbeats at once (so nodes started together see each other before anyone acquires), then
   * ticks every tickMs. A timer firing while a tick still runs skips it, but applies the deadline.
   */
  async start(): Promise<void> {
    const { leases, nodeId, owns, clock, log } = this.options;
    await leases
      .heartbeat(nodeId, owns, clock)
      .catch((error) => log.warn({ err: error, node: nodeId }, "heartbeat failed"));
    if (this.stopped || this.timer) return;
    this.timer = setInterval(() => {
      this.expireDeadlines();
      if (!this.running) void this.tick();
    }, this.tickMs);
    this.timer.unref();
  }

  /**
   * Stops ticking, marks the node as not owning (so the others want its concerts at once), then
   * gives up every lease: onLost("stopped") and release. Awaits all of it.
   */
  async stop(): Promise<void> {
    const { leases, nodeId, clock, log } = this.options;
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await leases
      .heartbeat(nodeId, false, clock)
      .catch((error) => log.warn({ err: error, node: nodeId }, "heartbeat failed"));
    const held = [...this.holdings];
    for (const [concertId] of held) this.lose(concertId, "stopped");
    await Promise.all(
      held.map(([concertId, { epoch }]) =>
        leases
          .release(concertId, nodeId, epoch)
          .catch((error) => log.warn({ err: error, node: nodeId, concertId }, "lease release failed")),
      ),
    );
  }

  /** One round (also what the timer runs); `now` overrides the clock (tests). Never two at once. */
  tick(now: Clock = this.options.clock): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) return this.running;
    const round = this.round(now).finally(() => {
      this.running = undefined;
    });
    this.running = round;
    return round;
  }

  /** The leases this node acts on: concert → epoch (only those within their local deadline). */
  held(): Map<number, number> {
    const now = this.monotonic();
    const held = new Map<number, number>();
    for (const [concertId, { epoch, deadline }] of this.holdings) if (now < deadline) held.set(concertId, epoch);
    return held;
  }

  /** Whether this node owns `concertId` now (under `epoch` if given), within the local deadline. */
  isOwner(concertId: number, epoch?: number): boolean {
    const holding = this.holdings.get(concertId);
    if (!holding || this.monotonic() >= holding.deadline) return false;
    return epoch === undefined || holding.epoch === epoch;
  }

  /**
   * This node can no longer act as `concertId`'s owner under `epoch` (a write was fenced out or
   * failed): onLost("given up") now, then the lease is released so that the next tick (of any
   * node) takes it one epoch up and rebuilds it from PostgreSQL.
   */
  giveUp(concertId: number, epoch: number): void {
    if (this.holdings.get(concertId)?.epoch !== epoch) return;
    this.lose(concertId, "given up");
    const { leases, nodeId, log } = this.options;
    leases
      .release(concertId, nodeId, epoch)
      .catch((error) => log.warn({ err: error, node: nodeId, concertId }, "lease release failed"));
  }

  private async round(now: Clock): Promise<void> {
    const { leases, nodeId, owns, log } = this.options;
    this.expireDeadlines();
    let live: string[];
    try {
      await leases.heartbeat(nodeId, owns, now);
      live = owns ? await leases.liveNodes(now, this.liveMs) : [];
      if (!this.earlierLifeRead) {
        // Before this life takes any lease, so every one found is an earlier life's.
        for (const { concertId, epoch } of await leases.heldBy(nodeId)) this.givenUp.set(concertId, epoch);
        this.earlierLifeRead = true;
      }
    } catch (error) {
      log.warn({ err: error, node: nodeId }, "ownership tick failed; leases run out at their deadline");
      return;
    }
    // A slow heartbeat may have taken us past a deadline.
    this.expireDeadlines();
    const wanted = new Set<number>();
    if (owns)
      for (const concertId of this.options.concerts()) if (ownerOf(concertId, live) === nodeId) wanted.add(concertId);
    const concerts = new Set([...this.holdings.keys(), ...wanted]);
    await Promise.all(
      [...concerts].map((concertId) =>
        this.step(concertId, wanted.has(concertId), now).catch((error) =>
          log.warn({ err: error, node: nodeId, concertId }, "ownership step failed"),
        ),
      ),
    );
  }

  private async step(concertId: number, wanted: boolean, now: Clock): Promise<void> {
    const { leases, nodeId, ttlMs } = this.options;
    const holding = this.holdings.get(concertId);
    if (holding && wanted) {
      const sentAt = this.monotonic();
      const renewed = await leases.renew(concertId, nodeId, holding.epoch, now, ttlMs);
      // Forgotten meanwhile (deadline): the result no longer matters.
      if (this.holdings.get(concertId) !== holding) return;
      if (renewed) holding.deadline = Math.max(holding.deadline, this.deadlineFrom(sentAt));
      else this.lose(concertId, "lease lost");
    } else if (holding && !wanted) {
      // Stop acting as owner before the lease can pass to anyone else.
      this.lose(concertId, "moved");
      await leases.release(concertId, nodeId, holding.epoch);
    } else if (wanted) {
      let sentAt = this.monotonic();
      let lease = await leases.acquire(concertId, nodeId, now, ttlMs);
      const givenUp = this.givenUp.get(concertId);
      if (lease && givenUp !== undefined && lease.epoch <= givenUp) {
        // Our own lease, still alive in PostgreSQL under an epoch we gave up: a new holding needs a new epoch.
        await leases.release(concertId, nodeId, lease.epoch);
        sentAt = this.monotonic();
        lease = await leases.acquire(concertId, nodeId, now, ttlMs);
        if (lease && lease.epoch <= givenUp) return;
      }
      if (!lease || this.stopped || this.holdings.has(concertId)) return;
      const deadline = this.deadlineFrom(sentAt);
      if (this.monotonic() >= deadline) {
        // The acquire itself took too long: never act on it (the next tick takes a fresh epoch).
        this.givenUp.set(concertId, lease.epoch);
        return;
      }
      this.holdings.set(concertId, { epoch: lease.epoch, deadline });
      this.call("onGained", () => this.options.onGained(concertId, lease.epoch), concertId);
    }
  }

  private deadlineFrom(sentAt: number): number {
    return sentAt + this.options.ttlMs - this.marginMs;
  }

  /** Forgets every lease past its local deadline, reporting onLost("deadline"). */
  private expireDeadlines(): void {
    const now = this.monotonic();
    for (const [concertId, { deadline }] of this.holdings) if (now >= deadline) this.lose(concertId, "deadline");
  }

  private lose(concertId: number, reason: LostReason): void {
    const holding = this.holdings.get(concertId);
    if (!holding) return;
    this.holdings.delete(concertId);
    this.givenUp.set(concertId, holding.epoch);
    this.options.log.info({ node: this.options.nodeId, concertId, epoch: holding.epoch, reason }, "concert lease lost");
    this.call("onLost", () => this.options.onLost(concertId, holding.epoch, reason), concertId);
  }

  private call(name: string, callback: () => void | Promise<void>, concertId: number): void {
    const failed = (error: unknown) =>
      this.options.log.error({ err: error, node: this.options.nodeId, concertId }, `ownership ${name} failed`);
    try {
      const result = callback();
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}
