// The PostgreSQL writer of the group commit: transactions on its own connection, one after
// another in the order batches were given; batches that queue behind a transaction in flight go
// in the next one together. First every statement of a transaction is pipelined (sent without
// waiting for each answer), consecutive holds or ends of holds merged into one statement: one
// round trip, and the usual case, for a guard declines only when another writer got there first.
// If a guard did decline, that transaction is rolled back and runs again with each guarded unit
// in its own savepoint, whose answer decides whether it is kept or undone before the next unit.

import type postgres from "postgres";
import type { Writer } from "../writer.js";
import {
  type Committed,
  type Declined,
  DeclinedUnit,
  declinedBy,
  declinedPerBatch,
  GUARDS,
  isGuarded,
  type Param,
  WRITE_SQL,
  type WriteName,
  type WriteOp,
  type WriteUnit,
} from "../writeStatements.js";
import { numbered, type Sql } from "./connect.js";

/** The statements in PostgreSQL's numbering, made once. */
const STATEMENTS = Object.fromEntries(Object.entries(WRITE_SQL).map(([name, sql]) => [name, numbered(sql)])) as Record<
  WriteName,
  string
>;

/**
 * Statements that a run of consecutive unguarded writes sends as ONE statement over a JSON array
 * of their parameter lists: a flood of holds (or of their ends) costs PostgreSQL and the client
 * one statement per run instead of one per row. The columns follow the parameters of WRITE_SQL.
 */
const MERGED: Partial<Record<WriteName, string>> = {
  insertReservation: `INSERT INTO reservations (id, user_id, schedule_id, seat_no, price, status, expires_at, created_at)
    SELECT (r->>0)::bigint, r->>1, (r->>2)::bigint, (r->>3)::integer, (r->>4)::bigint, 'held', (r->>5)::bigint,
      (r->>6)::bigint
    FROM jsonb_array_elements($1::jsonb) AS r`,
  endHold: `UPDATE reservations SET status = m.r->>0
    FROM jsonb_array_elements($1::jsonb) AS m(r)
    WHERE reservations.id = (m.r->>1)::bigint AND reservations.status = 'held'`,
};

/** A refusal of the database itself while a guarded unit ran: the CHECK on balances (another process paid first). */
const DECLINING_CONSTRAINTS: Record<string, Declined["code"]> = { users_balance_check: "INSUFFICIENT_BALANCE" };

type Transaction = postgres.TransactionSql;

/**
 * A check a transaction runs first, not awaited (pipelined ahead of the batch): it rejects, and
 * the transaction with it, when this writer may no longer commit.
 */
export type TransactionGuard = (tx: Transaction) => Promise<unknown>;

/** The single server's guard: it holds the advisory lock `key` on the writer's connection. */
export function advisoryLockGuard(key: number): TransactionGuard {
  return (tx) =>
    tx.unsafe("SELECT pg_try_advisory_xact_lock($1) AS locked", [key], { prepare: true }).then(([row]) => {
      if (!row?.locked) throw new Error("this connection does not hold the server's lock on the database any more");
    });
}

/** A batch handed to write(), waiting for its transaction. */
interface Queued {
  units: WriteUnit[];
  done: (committed: Committed) => void;
  fail: (error: unknown) => void;
}

/** Units in one transaction at the most, when batches have queued up behind a slow commit. */
const MAX_UNITS_PER_TRANSACTION = 20_000;

export class PostgresWriter implements Writer {
  private queued: Queued[] = [];
  /** Why a transaction failed: later batches may build on it, so none is applied after it. */
  private failure: unknown;
  /** Settles when the queue is empty and no transaction runs. */
  private draining: Promise<void> | null = null;

  /**
   * `guard`: what each transaction runs first, sent ahead of the batch and checked before COMMIT,
   * so that nobody but the rightful writer can ever commit a batch. A single server's advisory
   * lock, held on this connection (granted at once to the session that holds it, refused to any
   * other, so a connection the client silently replaced, or another server, cannot commit); or,
   * on a cluster node, the fence of the lease it owns a room under (src/cluster/leases.ts).
   */
  constructor(
    private readonly sql: Sql,
    private readonly guard?: TransactionGuard,
  ) {}

  /**
   * Batches given while a transaction is in flight wait for it, then all of them go in the next
   * transaction together (in order; each still gets only its own units' answers): a commit costs
   * round trips, so under load the transactions grow rather than queue up.
   */
  write(units: WriteUnit[]): Promise<Committed> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((done, fail) => {
      this.queued.push({ units, done, fail });
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
    });
  }

  async close(): Promise<void> {
    await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      if (this.failure !== undefined) {
        for (const batch of this.queued.splice(0)) batch.fail(this.failure);
        return;
      }
      const group = this.takeGroup();
      const units = group.flatMap((batch) => batch.units);
      try {
        const { seconds, declined } = await this.commit(units);
        const perBatch = declinedPerBatch(
          group.map((batch) => batch.units.length),
          declined,
        );
        group.forEach((batch, index) => {
          batch.done({ seconds, declined: perBatch[index]! });
        });
      } catch (error) {
        this.failure = error;
        for (const batch of group) batch.fail(error);
      }
    }
  }

  /** The queued batches that go in the next transaction: all of them, up to MAX_UNITS_PER_TRANSACTION. */
  private takeGroup(): Queued[] {
    let units = 0;
    let count = 0;
    while (
      count < this.queued.length &&
      (count === 0 || units + this.queued[count]!.units.length <= MAX_UNITS_PER_TRANSACTION)
    ) {
      units += this.queued[count]!.units.length;
      count++;
    }
    return this.queued.splice(0, count);
  }

  private async commit(units: WriteUnit[]): Promise<Committed> {
    const started = performance.now();
    if (units.every((unit) => unit.length === 0)) return { seconds: 0, declined: [] };
    let declined: Declined[] = [];
    try {
      await this.sql.begin((tx) => this.locked(tx, () => this.pipelined(tx, units)));
    } catch (error) {
      if (!(error instanceof DeclinedUnit) && declining(error) === undefined) throw error;
      declined = await this.sql.begin((tx) => this.locked(tx, () => this.withSavepoints(tx, units)));
    }
    return { seconds: (performance.now() - started) / 1000, declined };
  }

  /** Runs `body` in `tx` after the guard (sent ahead, checked before COMMIT). */
  private async locked<T>(tx: Transaction, body: () => Promise<T>): Promise<T> {
    if (this.guard === undefined) return body();
    const guard = handled(this.guard(tx));
    const result = await body().catch(async (error) => {
      // The guard's own refusal says why the statements after it failed.
      await guard;
      throw error;
    });
    await guard;
    return result;
  }

  /**
   * The whole batch in one pipelined pass, in order; throws a DeclinedUnit (rolling it all back)
   * if a guard said no. Consecutive unguarded writes of a MERGED statement go as one statement.
   */
  private async pipelined(tx: Transaction, units: WriteUnit[]): Promise<void> {
    const sent: Promise<number>[] = [];
    const guards: { unit: number; op: WriteOp; changes: Promise<number> }[] = [];
    let run: WriteOp[] = [];
    const flush = () => {
      if (run.length > 0) sent.push(handled(sendRun(tx, run)));
      run = [];
    };
    units.forEach((unit, index) => {
      const guarded = isGuarded(unit);
      for (const op of unit) {
        if (!guarded && MERGED[op[0]] !== undefined && (run.length === 0 || run[0]![0] === op[0])) {
          run.push(op);
          continue;
        }
        flush();
        const changes = handled(send(tx, op));
        sent.push(changes);
        if (GUARDS[op[0]] !== undefined) guards.push({ unit: index, op, changes });
      }
    });
    flush();
    try {
      await Promise.all(sent);
      for (const guard of guards) {
        const changed = await guard.changes;
        if (changed !== 1) throw new DeclinedUnit(declinedBy(guard.unit, guard.op, changed));
      }
    } catch (error) {
      if (error instanceof DeclinedUnit) throw error;
      return rethrowFirstFailure(sent, error);
    }
  }

  /** The batch again, each guarded unit in a savepoint: returns the units the database declined. */
  private async withSavepoints(tx: Transaction, units: WriteUnit[]): Promise<Declined[]> {
    const declined: Declined[] = [];
    const sent: Promise<number>[] = [];
    try {
      for (let index = 0; index < units.length; index++) {
        const unit = units[index]!;
        if (!isGuarded(unit)) {
          for (const op of unit) sent.push(handled(send(tx, op)));
          continue;
        }
        const refused = await this.guarded(tx, unit, index);
        if (refused !== undefined) declined.push(refused);
      }
      await Promise.all(sent);
    } catch (error) {
      return rethrowFirstFailure(sent, error);
    }
    return declined;
  }

  /** Runs a guarded unit in a savepoint: undefined when it is kept, why not when it is undone. */
  private async guarded(tx: Transaction, unit: WriteUnit, index: number): Promise<Declined | undefined> {
    try {
      await tx.savepoint(async (savepoint) => {
        const changes = await Promise.all(unit.map((op) => send(savepoint, op)));
        unit.forEach((op, at) => {
          if (GUARDS[op[0]] !== undefined && changes[at] !== 1)
            throw new DeclinedUnit(declinedBy(index, op, changes[at]!));
        });
      });
      return undefined;
    } catch (error) {
      if (error instanceof DeclinedUnit) return error.declined;
      const code = DECLINING_CONSTRAINTS[(error as { constraint_name?: string }).constraint_name ?? ""];
      if (code !== undefined)
        return { unit: index, code, message: `the database refused it: ${(error as Error).message}` };
      throw error;
    }
  }
}

/** The error code of a constraint that declines a unit rather than fails the batch, if `error` is one. */
function declining(error: unknown): Declined["code"] | undefined {
  return DECLINING_CONSTRAINTS[(error as { constraint_name?: string }).constraint_name ?? ""];
}

/** A run of writes of one statement: one merged statement when there are several, else the one. */
async function sendRun(tx: Transaction, run: WriteOp[]): Promise<number> {
  if (run.length === 1) return send(tx, run[0]!);
  // The client serializes the parameter as JSON itself: PostgreSQL says it is jsonb.
  const rows = run.map(([, ...params]) => params);
  const result = await tx.unsafe(MERGED[run[0]![0]]!, [rows as never], { prepare: true });
  return result.count;
}

/** Sends one statement; resolves with the number of rows it changed. */
async function send(tx: Transaction, [name, ...params]: WriteOp): Promise<number> {
  const result = await tx.unsafe(STATEMENTS[name], params as Param[] as never[], { prepare: true });
  return result.count;
}

/**
 * Throws why a transaction failed: the first statement that failed says why (what failed after
 * it only says the transaction was aborted), or `error` when none of `sent` did.
 */
async function rethrowFirstFailure(sent: readonly Promise<number>[], error: unknown): Promise<never> {
  for (const result of await Promise.allSettled(sent)) if (result.status === "rejected") throw result.reason;
  throw error;
}

/** A statement sent ahead: its failure is reported where the batch is awaited, never as an unhandled rejection. */
function handled<T>(sent: Promise<T>): Promise<T> {
  sent.catch(() => {});
  return sent;
}
