// The PostgreSQL writer of the group commit: each batch in one transaction on its own
// connection, batches one after another in the order given. First every statement of the batch
// is pipelined (sent without waiting for each answer): one round trip, and the usual case, for a
// guard declines only when another writer got there first. If a guard did decline, that
// transaction is rolled back and the batch runs again with each guarded unit in its own
// savepoint, whose answer decides whether it is kept or undone before the next unit is sent.

import type postgres from "postgres";
import type { Writer } from "../writer.js";
import {
  type Committed,
  type Declined,
  declinedBy,
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

/** A refusal of the database itself while a guarded unit ran: the CHECK on balances (another process paid first). */
const DECLINING_CONSTRAINTS: Record<string, Declined["code"]> = { users_balance_check: "INSUFFICIENT_BALANCE" };

class DeclinedUnit extends Error {
  constructor(readonly declined: Declined) {
    super(declined.message);
  }
}

type Transaction = postgres.TransactionSql;

export class PostgresWriter implements Writer {
  /** Settles when the batch given last has committed or failed: the next one starts after it. */
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly sql: Sql) {}

  write(units: WriteUnit[]): Promise<Committed> {
    const committed = this.last.then(() => this.commit(units));
    this.last = committed.catch(() => {});
    return committed;
  }

  async close(): Promise<void> {
    await this.last;
  }

  private async commit(units: WriteUnit[]): Promise<Committed> {
    const started = performance.now();
    if (units.every((unit) => unit.length === 0)) return { seconds: 0, declined: [] };
    let declined: Declined[] = [];
    try {
      await this.sql.begin((tx) => this.pipelined(tx, units));
    } catch (error) {
      if (!(error instanceof DeclinedUnit) && declining(error) === undefined) throw error;
      declined = await this.sql.begin((tx) => this.withSavepoints(tx, units));
    }
    return { seconds: (performance.now() - started) / 1000, declined };
  }

  /** The whole batch in one pipelined pass; throws a DeclinedUnit (rolling it all back) if a guard said no. */
  private async pipelined(tx: Transaction, units: WriteUnit[]): Promise<void> {
    const sent = units.map((unit) => unit.map((op) => handled(run(tx, op))));
    try {
      const changes = await Promise.all(sent.map((unit) => Promise.all(unit)));
      units.forEach((unit, index) => {
        unit.forEach((op, at) => {
          const changed = changes[index]![at]!;
          if (GUARDS[op[0]] !== undefined && changed !== 1) throw new DeclinedUnit(declinedBy(index, op, changed));
        });
      });
    } catch (error) {
      if (error instanceof DeclinedUnit) throw error;
      // The first statement that failed says why; what failed after it only says the transaction was aborted.
      for (const result of await Promise.allSettled(sent.flat())) if (result.status === "rejected") throw result.reason;
      throw error;
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
          for (const op of unit) sent.push(handled(run(tx, op)));
          continue;
        }
        const refused = await this.guarded(tx, unit, index);
        if (refused !== undefined) declined.push(refused);
      }
      await Promise.all(sent);
    } catch (error) {
      for (const result of await Promise.allSettled(sent)) if (result.status === "rejected") throw result.reason;
      throw error;
    }
    return declined;
  }

  /** Runs a guarded unit in a savepoint: undefined when it is kept, why not when it is undone. */
  private async guarded(tx: Transaction, unit: WriteUnit, index: number): Promise<Declined | undefined> {
    try {
      await tx.savepoint(async (savepoint) => {
        const changes = await Promise.all(unit.map((op) => run(savepoint, op)));
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

/** Sends one statement; resolves with the number of rows it changed. */
async function run(tx: Transaction, [name, ...params]: WriteOp): Promise<number> {
  const result = await tx.unsafe(STATEMENTS[name], params as Param[] as never[], { prepare: true });
  return result.count;
}

/** A statement sent ahead: its failure is reported where the batch is awaited, never as an unhandled rejection. */
function handled(sent: Promise<number>): Promise<number> {
  sent.catch(() => {});
  return sent;
}
