// Ownership leases with epochs in PostgreSQL (schema version 9), the ground truth of who owns a
// concert in a cluster (issue 15; ../../../shared/DESIGN.md "Scale past one process").
//
// Every decision is ONE statement, so no read-then-write race: two nodes that want the same
// concert run the same INSERT … ON CONFLICT DO UPDATE … WHERE, PostgreSQL serialises them on the
// lease's row, and the WHERE is evaluated against the row as the earlier one left it.
//
// Epochs: a lease changes hands only by acquire(), which numbers the new holding one above the
// row's epoch (the row is never deleted; a release keeps its epoch), so an epoch names one
// unbroken holding by one node. A renewal keeps the epoch and only while the lease has not
// expired: once expired, even the same node must acquire() again and gets a new epoch. Allowing a
// late renewal under the old epoch would not let two nodes write (any takeover raises the epoch,
// and the fence checks it), but it would make one epoch cover a gap during which the node had
// already given the concert up by its own deadline; refusing keeps "epoch valid" the same as
// "held without a break", which is what the owner's in-memory state relies on.
//
// Clock: each call takes `now`, epoch milliseconds from the caller, or "database" for PostgreSQL's
// own clock (the start of the statement). Across machines "database" is the one to use: every
// node then compares expiries on one clock and skew between the nodes' clocks cannot make two of
// them believe they hold a lease. A node should still stop acting as owner before the lease ends
// by its own monotonic clock: from the moment it SENT the acquire/renew, plus the TTL, minus a
// margin (PostgreSQL's statement starts after that, so its expiry is later). Tests pass numbers.
//
// Fencing: an owner's write transaction first runs fence_leases() (migration 9), which checks that
// every (concert, epoch) it writes under is still this node's and unexpired and locks those lease
// rows FOR SHARE until the transaction ends. A takeover is an UPDATE of the same row, which waits
// for that lock: a write either commits before the takeover (and the new owner rebuilds from it)
// or it runs its fence after the takeover and is refused. FOR SHARE, not FOR KEY SHARE: a
// takeover updates no key column, so FOR KEY SHARE would not hold it back. A renewal waits for
// the write as well (it is an UPDATE too), which only delays it by one commit.
import type postgres from "postgres";
import type { Sql } from "../store/postgres/connect.js";

/** Epoch milliseconds from the caller, or "database": PostgreSQL's clock (one clock for every node). */
export type Clock = number | "database";

/** A lease as this node holds it. */
export interface Held {
  concertId: number;
  epoch: number;
}

export interface Lease {
  epoch: number;
  /** Epoch milliseconds, on the clock the call used. */
  expiresAt: number;
}

/** The SQLSTATE fence_leases() raises (migration 9). */
export const FENCED_OUT_SQLSTATE = "LF001";

/** A write under a lease this node no longer holds (taken over, released or expired): nothing was written. */
export class FencedOut extends Error {
  constructor(
    readonly nodeId: string,
    readonly held: readonly Held[],
  ) {
    super(
      `node ${nodeId} no longer holds every lease it wrote under: ${held.map((h) => `${h.concertId}@${h.epoch}`).join(", ")}`,
    );
    this.name = "FencedOut";
  }
}

/** The parameter that stands for `now`: null makes lease_now() read PostgreSQL's clock. */
const nowParam = (now: Clock) => (now === "database" ? null : now);

export class Leases {
  constructor(private readonly sql: Sql) {}

  /** Records that `nodeId` is alive at `now` and whether it may own concerts. */
  async heartbeat(nodeId: string, owns: boolean, now: Clock): Promise<void> {
    await this.sql`
      INSERT INTO nodes (id, seen_at, owns) VALUES (${nodeId}, lease_now(${nowParam(now)}::bigint), ${owns})
      ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at, owns = EXCLUDED.owns`;
  }

  /** The nodes that may own concerts and were seen within `ttlMs` of `now`, by id. */
  async liveNodes(now: Clock, ttlMs: number): Promise<string[]> {
    const rows = await this.sql<{ id: string }[]>`
      SELECT id FROM nodes WHERE owns AND seen_at > lease_now(${nowParam(now)}::bigint) - ${ttlMs}::bigint
      ORDER BY id`;
    return rows.map((row) => row.id);
  }

  /**
   * Takes the lease of `concertId` for `nodeId` if nobody holds it or it has expired (epoch one
   * above the last, 1 for a new one), or renews it under the same epoch if this node holds it and
   * it has not expired. Undefined while another node holds it.
   */
  async acquire(concertId: number, nodeId: string, now: Clock, ttlMs: number): Promise<Lease | undefined> {
    const at = nowParam(now);
    const [lease] = await this.sql<Lease[]>`
      INSERT INTO leases AS l (concert_id, node_id, epoch, expires_at)
      VALUES (${concertId}::bigint, ${nodeId}, 1, lease_now(${at}::bigint) + ${ttlMs}::bigint)
      ON CONFLICT (concert_id) DO UPDATE SET
        node_id = EXCLUDED.node_id,
        epoch = CASE WHEN l.node_id = EXCLUDED.node_id AND l.expires_at > lease_now(${at}::bigint)
          THEN l.epoch ELSE l.epoch + 1 END,
        expires_at = CASE WHEN l.node_id = EXCLUDED.node_id AND l.expires_at > lease_now(${at}::bigint)
          THEN GREATEST(l.expires_at, EXCLUDED.expires_at) ELSE EXCLUDED.expires_at END
      WHERE l.node_id = EXCLUDED.node_id OR l.expires_at <= lease_now(${at}::bigint)
      RETURNING epoch, expires_at AS "expiresAt"`;
    return lease;
  }

  /** Extends the lease while `nodeId` holds it under `epoch` and it has not expired; false otherwise. */
  async renew(concertId: number, nodeId: string, epoch: number, now: Clock, ttlMs: number): Promise<boolean> {
    const at = nowParam(now);
    const rows = await this.sql`
      UPDATE leases SET expires_at = GREATEST(expires_at, lease_now(${at}::bigint) + ${ttlMs}::bigint)
      WHERE concert_id = ${concertId}::bigint AND node_id = ${nodeId} AND epoch = ${epoch}::bigint
        AND expires_at > lease_now(${at}::bigint)`;
    return rows.count === 1;
  }

  /** The leases recorded as `nodeId`'s that were not released (expired or not). */
  async heldBy(nodeId: string): Promise<Held[]> {
    return this.sql<Held[]>`
      SELECT concert_id AS "concertId", epoch FROM leases WHERE node_id = ${nodeId} AND expires_at > 0`;
  }

  /** Ends the lease at once (keeping its epoch, so the next owner numbers above it); false if not held under `epoch`. */
  async release(concertId: number, nodeId: string, epoch: number): Promise<boolean> {
    const rows = await this.sql`
      UPDATE leases SET expires_at = 0
      WHERE concert_id = ${concertId}::bigint AND node_id = ${nodeId} AND epoch = ${epoch}::bigint`;
    return rows.count === 1;
  }
}

/** Each (concert, epoch) once: fence_leases() counts the rows it finds against the list's length. */
function distinct(held: readonly Held[]): Held[] {
  return [...new Map(held.map((h) => [`${h.concertId}:${h.epoch}`, h])).values()];
}

/**
 * The fence a write transaction runs first: fails with SQLSTATE FENCED_OUT_SQLSTATE unless
 * `nodeId` still holds every lease of `held` under its epoch and unexpired, and locks them FOR
 * SHARE until the transaction ends. Not awaited, it can be pipelined ahead of the batch (its
 * failure aborts the transaction); assertFenced() awaits it and throws FencedOut.
 */
export function fence(tx: postgres.TransactionSql, nodeId: string, held: readonly Held[], now: Clock) {
  const leases = distinct(held);
  return tx`SELECT fence_leases(${nodeId}, ${leases.map((h) => h.concertId)}::bigint[],
    ${leases.map((h) => h.epoch)}::bigint[], ${nowParam(now)}::bigint)`;
}

/** Runs the fence in `tx` and throws FencedOut when `nodeId` no longer holds every lease of `held`. */
export async function assertFenced(
  tx: postgres.TransactionSql,
  nodeId: string,
  held: readonly Held[],
  now: Clock,
): Promise<void> {
  try {
    await fence(tx, nodeId, held, now);
  } catch (error) {
    throw asFencedOut(error, nodeId, held);
  }
}

/** FencedOut for the fence's refusal (also when it came back from a pipelined batch); other errors as they are. */
export function asFencedOut(error: unknown, nodeId: string, held: readonly Held[]): unknown {
  return (error as { code?: string } | null)?.code === FENCED_OUT_SQLSTATE ? new FencedOut(nodeId, held) : error;
}
