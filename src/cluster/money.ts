// Money in a cluster (issue 15; ../../../shared/DESIGN.md "Scale past one process"): charges and
// payments decided by PostgreSQL itself, one transaction each, because a user may call any node
// and no node's memory knows the balance. Answers are those of a single server (Wallets,
// Payments, IdempotencyRecords), replays included.
//
// Each operation, in one transaction:
// - claim the idempotency key first (claim()). A second request with the same (user, key)
//   waits on the first one's uncommitted row, then finds it committed and replays it (or rolls
//   back too and claims it itself when the first failed), so the work is done once across nodes.
//   First, before the fences too: a replay answers whatever the leases are now (the payment it
//   replays was fenced when it committed), as a single server answers a replay before any check;
// - take the user's money lock (lockMoney()). The ledger statements check the balance in a
//   WHERE that reads without locking: one writer at a time (the single server's) makes that
//   exact, several nodes' transactions do not. Two charges could both pass BALANCE_MAX, and two
//   debits both pass `balance >= amount` (the CHECK then refuses the second with an error, not a
//   clean "no"). The lock cannot be a row lock: a user's first charge has no `users` row yet,
//   and only the ledger's trigger may insert one (migration 8);
// - a payment also checks every owner's fence (leases.ts, by PostgreSQL's clock) and that each
//   hold is still payable: a hold the owners locked for this payment that is no longer payable
//   means the coordinator's view is stale, hence 503 and a retry, never a half payment;
// - the ledger row (WRITE_SQL credit/debit; the trigger moves the balance), the new balance
//   read in the same transaction, the idempotency record's response (WRITE_SQL
//   insertIdempotency over the claimed row), commit.
// Statements after the claim are pipelined (sent without waiting for each answer) and judged in
// order once all have answered: the first failure says why, then the holds, then the balance.
import type postgres from "postgres";
import { IDEMPOTENCY_RETENTION_MS } from "../actors/idempotency.js";
import type { PaymentView } from "../actors/payments.js";
import type { BalanceView } from "../actors/wallets.js";
import { ApiError } from "../errors.js";
import type { Logger } from "../log.js";
import { numbered, type Sql } from "../store/postgres/connect.js";
import { type Param, WRITE_SQL } from "../store/writeStatements.js";
import { FENCED_OUT_SQLSTATE, fence, type Held } from "./leases.js";

/** The idempotency record to store with an operation: the caller's key, the request's fingerprint, the success status. */
export interface MoneyRecord {
  key: string;
  /** IdempotencyRecords.fingerprint of the op and body. */
  fingerprint: string;
  status: number;
}

export interface ChargeRequest {
  userId: string;
  amount: number;
  balanceMax: number;
  /** Epoch milliseconds of the request: the ledger row's and the record's time, and the record's 24 h. */
  now: number;
  record?: MoneyRecord;
}

/** A hold as its owner checked and locked it for this payment. */
export interface PayableHold {
  reservationId: number;
  price: number;
}

/** A lease the payment's holds were checked under: `nodeId` owns `concertId` under `epoch`. */
export interface Fence extends Held {
  nodeId: string;
}

export interface PayRequest {
  userId: string;
  /** Unique across the cluster: the caller numbers it. */
  paymentId: number;
  holds: readonly PayableHold[];
  /** Every owner's lease of every concert the holds belong to. */
  fences: readonly Fence[];
  /** When the owners checked the holds: each must expire after it. */
  heldAt: number;
  now: number;
  record?: MoneyRecord;
  /**
   * How long the transaction may wait for anything (statement and lock time-outs): shorter than
   * the owners' locks of the holds, so it can never commit after they lapsed and let go.
   */
  timeoutMs?: number;
}

/** The reused write statements, in PostgreSQL's numbering. */
type Reused = "credit" | "debit" | "insertPayment" | "insertIdempotency";
const STATEMENTS = Object.fromEntries(
  (["credit", "debit", "insertPayment", "insertIdempotency"] as const).map((name) => [name, numbered(WRITE_SQL[name])]),
) as Record<Reused, string>;

/**
 * The class of the per-user money lock (pg_advisory_xact_lock(int, int): a key space apart from
 * the single-number locks of the server and the migrations). Users whose ids hash alike only
 * wait for each other.
 */
const MONEY_LOCK_CLASS = 7_215_015;

/** SQLSTATE deadlock_detected: PostgreSQL rolled this transaction back to free another; a retry is safe. */
const DEADLOCK_SQLSTATE = "40P01";

type Transaction = postgres.TransactionSql;

/** Thrown inside the transaction to roll it back and answer with a stored response. */
class Replay {
  constructor(readonly response: unknown) {}
}

export class MoneyDesk {
  constructor(
    private readonly sql: Sql,
    /** Where a transaction that failed for another reason than the caller's is reported (it answers 503). */
    private readonly log?: Logger,
  ) {}

  /** The user's committed balance (0 for a user who never had money). */
  async balance(userId: string): Promise<number> {
    return readBalance(this.sql, userId);
  }

  /**
   * The stored response of (user, key) when a live record has `record.fingerprint` (a replay, to
   * answer before asking the owners for anything); undefined when there is none or it lapsed;
   * IDEMPOTENCY_MISMATCH for a live record of another request.
   */
  async replay<T>(userId: string, record: MoneyRecord, now: number): Promise<T | undefined> {
    const [row] = await this.sql<(StoredRow & { createdAt: number })[]>`
      SELECT fingerprint, response, created_at AS "createdAt" FROM idempotency
      WHERE user_id = ${userId} AND key = ${record.key}`;
    if (row === undefined || row.createdAt < now - IDEMPOTENCY_RETENTION_MS) return undefined;
    return storedResponse(row, record) as T;
  }

  /**
   * Adds `amount` to the balance unless that passes `balanceMax` (BALANCE_LIMIT, nothing
   * committed). With `record`, once per key: a live record of the key answers instead.
   */
  charge({ userId, amount, balanceMax, now, record }: ChargeRequest): Promise<BalanceView> {
    return this.once(userId, record, now, undefined, async (tx) => {
      const locked = settled(lockMoney(tx, userId));
      const credited = changed(run(tx, "credit", userId, amount, now, userId, amount, balanceMax));
      const balance = settled(readBalance(tx, userId));
      await firstFailure([locked, credited, balance]);
      if ((await credited) !== 1) throw new ApiError("BALANCE_LIMIT", `the balance may not exceed ${balanceMax}`);
      return { userId, balance: await balance };
    });
  }

  /**
   * Pays `holds` for `userId`: the payment, every hold sold and the debit commit together or not
   * at all. A lost fence or a hold no longer payable is UNAVAILABLE (the owners' view moved: retry);
   * a balance below the sum is INSUFFICIENT_BALANCE. With `record`, once per key.
   */
  async pay({ userId, paymentId, holds, fences, heldAt, now, record, timeoutMs }: PayRequest): Promise<PaymentView> {
    const reservationIds = holds.map((hold) => hold.reservationId);
    if (reservationIds.length === 0 || new Set(reservationIds).size !== reservationIds.length) {
      throw new ApiError("INVALID_ARGUMENT", "a payment needs holds, none of them twice");
    }
    const amount = holds.reduce((sum, hold) => sum + hold.price, 0);
    const rooms = [...new Set(fences.map((f) => f.concertId))];
    return this.once(userId, record, now, timeoutMs, async (tx) => {
      const locked = settled(lockMoney(tx, userId));
      // fence_leases() checks one node's leases: one call per owner, each by PostgreSQL's clock.
      const fenced = [...byNode(fences)].map(([nodeId, held]) => settled(fence(tx, nodeId, held, "database")));
      const inserted = settled(run(tx, "insertPayment", paymentId, userId, amount, now));
      const sold = changed(payHolds(tx, { userId, paymentId, holds, rooms, heldAt }));
      const debited = changed(run(tx, "debit", userId, amount, paymentId, now, userId, amount));
      const balance = settled(readBalance(tx, userId));
      await firstFailure([locked, ...fenced, inserted, sold, debited, balance]);
      const payable = await sold;
      if (payable !== holds.length) {
        const stale = holds.length - payable;
        throw new ApiError("UNAVAILABLE", `${stale} of the holds changed while they were being paid; retry`, 1);
      }
      if ((await debited) !== 1) {
        throw new ApiError("INSUFFICIENT_BALANCE", `balance ${await balance} is below the amount ${amount}`);
      }
      return { paymentId, reservationIds, amount, balance: await balance, status: "paid" as const };
    });
  }

  /**
   * Runs `work` in one transaction, after claiming `record`'s key when there is one: a live
   * record of the key answers instead (a replay; nothing committed), and the work's result is
   * stored as the record's response before the commit.
   */
  private async once<T>(
    userId: string,
    record: MoneyRecord | undefined,
    now: number,
    timeoutMs: number | undefined,
    work: (tx: Transaction) => Promise<T>,
  ): Promise<T> {
    try {
      return (await this.sql.begin(async (tx) => {
        if (timeoutMs !== undefined) {
          const ms = Math.max(1, Math.floor(timeoutMs));
          await Promise.all([
            tx.unsafe(`SET LOCAL statement_timeout = ${ms}`),
            tx.unsafe(`SET LOCAL lock_timeout = ${ms}`),
          ]);
        }
        if (record !== undefined) await claim(tx, userId, record, now);
        const result = await work(tx);
        if (record !== undefined) {
          const { key, fingerprint, status } = record;
          await run(tx, "insertIdempotency", userId, key, fingerprint, status, JSON.stringify(result), now);
        }
        return result;
      })) as T;
    } catch (error) {
      if (error instanceof Replay) return error.response as T;
      const answer = asMoneyError(error);
      if (answer instanceof ApiError && answer.code === "UNAVAILABLE" && unexpected(error)) {
        this.log?.error({ err: error, userId }, "a money transaction failed; nothing of it was written");
      }
      throw answer;
    }
  }
}

interface StoredRow {
  fingerprint: string;
  response: string;
}

/**
 * Claims (user, key) for this transaction, or throws the Replay of its live record (or
 * IDEMPOTENCY_MISMATCH). Not WRITE_SQL.insertIdempotency, which replaces any record: here only a
 * lapsed one (older than 24 h) is replaced; a live one is left alone and answers. Its ON CONFLICT
 * waits for a concurrent claim of the same key to end, so the work is done once: after the other
 * commits this finds its record; after it rolls back this claims the key. The response is filled
 * in at the end (insertIdempotency over the claimed row).
 */
async function claim(tx: Transaction, userId: string, record: MoneyRecord, now: number): Promise<void> {
  const { key, fingerprint, status } = record;
  const claimed = await tx`
    INSERT INTO idempotency AS i (user_id, key, fingerprint, status, response, created_at)
    VALUES (${userId}, ${key}, ${fingerprint}, ${status}::integer, '', ${now}::bigint)
    ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
      response = excluded.response, created_at = excluded.created_at
    WHERE i.created_at < ${now - IDEMPOTENCY_RETENTION_MS}::bigint`;
  if (claimed.count === 1) return;
  // A new statement, so a new snapshot: it sees the record the conflicting transaction committed.
  const [row] = await tx<StoredRow[]>`SELECT fingerprint, response FROM idempotency
    WHERE user_id = ${userId} AND key = ${key}`;
  if (row === undefined) throw new Error(`idempotency record (${userId}, ${key}) conflicted but is not there`);
  throw new Replay(storedResponse(row, record));
}

function storedResponse(row: StoredRow, record: MoneyRecord): unknown {
  if (row.fingerprint !== record.fingerprint) {
    throw new ApiError("IDEMPOTENCY_MISMATCH", "this Idempotency-Key was used with another request");
  }
  return JSON.parse(row.response);
}

/** The user's money lock, held to the end of the transaction (see MONEY_LOCK_CLASS and the header). */
function lockMoney(tx: Transaction, userId: string) {
  return tx`SELECT pg_advisory_xact_lock(${MONEY_LOCK_CLASS}::integer, hashtext(${userId}))`;
}

/**
 * Not WRITE_SQL.payReservation, which a single server runs after checking the hold in memory:
 * here PostgreSQL checks what the owners checked (held, the payer's, at the price charged, not
 * expired at heldAt), and that the hold's concert is a fenced one, so no hold is sold under a
 * lease nobody checked. All holds in one statement: it must change one row per hold.
 */
function payHolds(
  tx: Transaction,
  p: { userId: string; paymentId: number; holds: readonly PayableHold[]; rooms: number[]; heldAt: number },
) {
  // A lease is a room's (src/cluster/directory.ts): on-sale concert c is room c, every other concert is room 0.
  return tx`UPDATE reservations AS r SET status = 'paid', payment_id = ${p.paymentId}::bigint
    FROM unnest(${p.holds.map((h) => h.reservationId)}::bigint[], ${p.holds.map((h) => h.price)}::bigint[])
      AS h(id, price), schedules AS s
    WHERE r.id = h.id AND r.price = h.price AND s.id = r.schedule_id 
      AND (CASE WHEN EXISTS (SELECT 1 FROM onsales o WHERE o.concert_id = s.concert_id) THEN s.concert_id ELSE 0 END)
        = ANY(${p.rooms}::bigint[])
      AND r.user_id = ${p.userId} AND r.status = 'held' AND r.expires_at > ${p.heldAt}::bigint`;
}

async function readBalance(sql: Sql | Transaction, userId: string): Promise<number> {
  const [row] = await sql<{ balance: number }[]>`SELECT balance FROM users WHERE id = ${userId}`;
  return row?.balance ?? 0;
}

/** A reused write statement with its parameters in the order of its SQL. */
function run(tx: Transaction, name: Reused, ...params: Param[]) {
  return tx.unsafe(STATEMENTS[name], params as never[], { prepare: true });
}

/** Fences grouped by owner. */
function byNode(fences: readonly Fence[]): Map<string, Held[]> {
  const nodes = new Map<string, Held[]>();
  for (const { nodeId, concertId, epoch } of fences) {
    const held = nodes.get(nodeId) ?? [];
    held.push({ concertId, epoch });
    nodes.set(nodeId, held);
  }
  return nodes;
}

/**
 * Sends a statement now, pipelined behind those sent before it (calling then() is what sends it);
 * its failure is reported by firstFailure(), never as an unhandled rejection.
 */
function settled<T>(query: PromiseLike<T>): Promise<T> {
  const sent = Promise.resolve(query.then((value) => value));
  sent.catch(() => {});
  return sent;
}

/** settled(), answering how many rows the statement changed. */
function changed(query: PromiseLike<{ count: number }>): Promise<number> {
  return settled(query.then((result) => result.count));
}

/**
 * Waits for every pipelined statement and throws the first failure in the order they were sent:
 * that one says why (those after it only say the transaction was aborted).
 */
async function firstFailure(sent: readonly Promise<unknown>[]): Promise<void> {
  for (const result of await Promise.allSettled(sent)) if (result.status === "rejected") throw result.reason;
}

/** PostgreSQL's refusals as the answers a client gets; anything else as it is. */
/** A statement past its statement_timeout, and a lock wait past its lock_timeout. */
const QUERY_CANCELED_SQLSTATE = "57014";
const LOCK_NOT_AVAILABLE_SQLSTATE = "55P03";

/** An error of PostgreSQL or of the connection to it (not one of ours, not a bug in this process). */
function unexpected(error: unknown): boolean {
  if (error instanceof ApiError) return false;
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return (
    typeof severity === "string" || (typeof code === "string" && /^(CONNECTION_|CONNECT_TIMEOUT|E[A-Z]+$)/.test(code))
  );
}

function asMoneyError(error: unknown): unknown {
  const { code, constraint_name } = (error ?? {}) as { code?: string; constraint_name?: string };
  if (code === FENCED_OUT_SQLSTATE) {
    return new ApiError("UNAVAILABLE", "a seat's owner changed while it was being paid; retry", 1);
  }
  if (code === DEADLOCK_SQLSTATE) return new ApiError("UNAVAILABLE", "the payment met another one; retry", 1);
  if (code === QUERY_CANCELED_SQLSTATE || code === LOCK_NOT_AVAILABLE_SQLSTATE) {
    return new ApiError("UNAVAILABLE", "the payment took too long; retry", 1);
  }
  // The money lock makes debit's own check exact; the CHECK on balances is the last word all the same.
  if (constraint_name === "users_balance_check") {
    return new ApiError("INSUFFICIENT_BALANCE", "the balance does not cover the amount");
  }
  // Anything else PostgreSQL said, or its connection failing: the transaction did not commit, so
  // a retry (with the same key) is safe; as a single server answers a commit that failed.
  if (unexpected(error)) {
    return new ApiError("UNAVAILABLE", `the database did not take it (${code ?? "no answer"}); retry`, 1);
  }
  return error;
}
