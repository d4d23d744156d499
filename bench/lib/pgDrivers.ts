// The workloads of the PostgreSQL client benchmark, once per client: `postgres` (porsager), which
// pipelines, and `pg` (node-postgres), which waits for each statement. Every statement is prepared
// (porsager: tagged templates; pg: named statements) and takes its values as parameters.
import pg from "pg";
import postgres from "postgres";

export interface Hold {
  id: number;
  userId: string;
  scheduleId: number;
  seatNo: number;
  price: number;
  expiresAt: number;
  createdAt: number;
}

export interface Charge {
  walletId: number;
  amount: number;
  createdAt: number;
}

/** A group-commit batch in the order the commit queue would hold it: holds and charges interleaved. */
export type Write = { kind: "hold"; hold: Hold } | { kind: "charge"; charge: Charge };

export interface BatchOutcome {
  declined: number;
  /** Statements sent, BEGIN and COMMIT included. */
  statements: number;
  /** Times the client waited for the server's answer before it could go on, BEGIN and COMMIT included. */
  waits: number;
}

export interface Driver {
  name: "postgres" | "pg";
  /** One INSERT, its own transaction (autocommit): the commit ceiling. */
  insertAutocommit(i: number): Promise<void>;
  /** BEGIN; INSERT; COMMIT: one row the way a transaction function sends it. */
  insertInTransaction(i: number): Promise<void>;
  /** The mix: each charge in a SAVEPOINT, rolled back when its guarded UPDATE declines. */
  mixWithSavepoints(batch: Write[]): Promise<BatchOutcome>;
  /** The mix with the 150 holds as one multi-row INSERT (unnest of arrays) first, then the charges as above. */
  mixMultiRowHolds(batch: Write[]): Promise<BatchOutcome>;
  /**
   * Not the savepoint form: the holds as one INSERT and each charge as ONE statement (the guarded
   * UPDATE feeding the ledger INSERT), so no answer is needed before the next statement is sent.
   */
  mixSingleStatementCharges(batch: Write[]): Promise<BatchOutcome>;
  /** The server process serving this client's connection (to read its CPU time). */
  backendPid(): Promise<number>;
  close(): Promise<void>;
}

export const SQL = {
  commit: "INSERT INTO commits (user_id, amount, created_at) VALUES ($1, $2, $3)",
  hold: "INSERT INTO holds (id, user_id, schedule_id, seat_no, price, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
  holds:
    "INSERT INTO holds (id, user_id, schedule_id, seat_no, price, expires_at, created_at) " +
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::int[], $6::bigint[], $7::bigint[])",
  debit: "UPDATE wallets SET balance = balance - $2 WHERE id = $1 AND balance >= $2",
  ledger: "INSERT INTO ledger (wallet_id, amount, created_at) VALUES ($1, $2, $3)",
  charge:
    "WITH debit AS (UPDATE wallets SET balance = balance - $2 WHERE id = $1 AND balance >= $2 RETURNING id) " +
    "INSERT INTO ledger (wallet_id, amount, created_at) SELECT id, $2, $3 FROM debit",
};

const holdsOf = (batch: Write[]) => batch.flatMap((w) => (w.kind === "hold" ? [w.hold] : []));
const chargesOf = (batch: Write[]) => batch.flatMap((w) => (w.kind === "charge" ? [w.charge] : []));
const holdValues = (h: Hold) => [h.id, h.userId, h.scheduleId, h.seatNo, h.price, h.expiresAt, h.createdAt];
const holdColumns = (holds: Hold[]) => [
  holds.map((h) => h.id),
  holds.map((h) => h.userId),
  holds.map((h) => h.scheduleId),
  holds.map((h) => h.seatNo),
  holds.map((h) => h.price),
  holds.map((h) => h.expiresAt),
  holds.map((h) => h.createdAt),
];

export function porsagerDriver(url: string): Driver {
  const sql = postgres(url, { max: 1, prepare: true, onnotice: () => {} });
  type Tx = postgres.TransactionSql;
  // Sends a statement now, without waiting for it (pipelining); its answer is awaited later.
  const send = (tx: Tx, text: string, values: unknown[] = []) =>
    tx.unsafe(text, values as postgres.ParameterOrJSON<never>[], { prepare: true }).execute();

  async function mix(batch: Write[], multiRowHolds: boolean): Promise<BatchOutcome> {
    // BEGIN, the wait for the last statements in flight, and COMMIT; then one wait per charge.
    const outcome: BatchOutcome = { declined: 0, statements: 2, waits: 3 };
    await sql.begin(async (tx) => {
      const inFlight: Promise<unknown>[] = [];
      // Holds do not depend on charges: all of them in one statement, first.
      if (multiRowHolds) inFlight.push(send(tx, SQL.holds, holdColumns(holdsOf(batch))));
      for (const write of batch) {
        if (write.kind === "hold") {
          if (!multiRowHolds) inFlight.push(send(tx, SQL.hold, holdValues(write.hold)));
          continue;
        }
        const { walletId, amount, createdAt } = write.charge;
        inFlight.push(send(tx, "SAVEPOINT charge"));
        // The decision needs the UPDATE's answer: the one round trip a charge costs.
        const debited = await send(tx, SQL.debit, [walletId, amount]);
        outcome.statements++;
        outcome.waits++;
        if (debited.count === 0) {
          outcome.declined++;
          inFlight.push(send(tx, "ROLLBACK TO SAVEPOINT charge"));
        } else inFlight.push(send(tx, SQL.ledger, [walletId, amount, createdAt]));
        inFlight.push(send(tx, "RELEASE SAVEPOINT charge"));
      }
      outcome.statements += inFlight.length;
      await Promise.all(inFlight);
    });
    return outcome;
  }

  async function mixOneRoundTrip(batch: Write[]): Promise<BatchOutcome> {
    const charges = chargesOf(batch);
    const results = await sql.begin(async (tx) => {
      const holds = send(tx, SQL.holds, holdColumns(holdsOf(batch)));
      const debits = charges.map((c) => send(tx, SQL.charge, [c.walletId, c.amount, c.createdAt]));
      await holds;
      return Promise.all(debits);
    });
    const declined = results.filter((r) => r.count === 0).length;
    return { declined, statements: 3 + charges.length, waits: 3 };
  }

  return {
    name: "postgres",
    async insertAutocommit(i) {
      await sql.unsafe(SQL.commit, [`u${i % 1000}`, i, Date.now()], { prepare: true });
    },
    async insertInTransaction(i) {
      await sql.begin((tx) => tx.unsafe(SQL.commit, [`u${i % 1000}`, i, Date.now()], { prepare: true }));
    },
    mixWithSavepoints: (batch) => mix(batch, false),
    mixMultiRowHolds: (batch) => mix(batch, true),
    mixSingleStatementCharges: mixOneRoundTrip,
    backendPid: async () => (await sql<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`)[0].pid,
    close: () => sql.end(),
  };
}

export async function nodePostgresDriver(url: string): Promise<Driver> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // A named statement is parsed once per connection, then only bound and executed.
  const run = (name: string, text: string, values: unknown[]) => client.query({ name, text, values });

  async function mix(batch: Write[], multiRowHolds: boolean): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { declined: 0, statements: 2, waits: 2 };
    const step = async (promise: Promise<pg.QueryResult>) => {
      outcome.statements++;
      outcome.waits++;
      return promise;
    };
    await client.query("BEGIN");
    try {
      if (multiRowHolds) await step(run("holds", SQL.holds, holdColumns(holdsOf(batch))));
      for (const write of batch) {
        if (write.kind === "hold") {
          if (!multiRowHolds) await step(run("hold", SQL.hold, holdValues(write.hold)));
          continue;
        }
        const { walletId, amount, createdAt } = write.charge;
        await step(client.query("SAVEPOINT charge"));
        const debited = await step(run("debit", SQL.debit, [walletId, amount]));
        if (debited.rowCount === 0) {
          outcome.declined++;
          await step(client.query("ROLLBACK TO SAVEPOINT charge"));
        } else await step(run("ledger", SQL.ledger, [walletId, amount, createdAt]));
        await step(client.query("RELEASE SAVEPOINT charge"));
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
    return outcome;
  }

  async function mixOneRoundTrip(batch: Write[]): Promise<BatchOutcome> {
    const charges = chargesOf(batch);
    let declined = 0;
    await client.query("BEGIN");
    try {
      await run("holds", SQL.holds, holdColumns(holdsOf(batch)));
      for (const c of charges) {
        if ((await run("charge", SQL.charge, [c.walletId, c.amount, c.createdAt])).rowCount === 0) declined++;
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
    return { declined, statements: 3 + charges.length, waits: 3 + charges.length };
  }

  return {
    name: "pg",
    async insertAutocommit(i) {
      await run("commit", SQL.commit, [`u${i % 1000}`, i, Date.now()]);
    },
    async insertInTransaction(i) {
      await client.query("BEGIN");
      await run("commit", SQL.commit, [`u${i % 1000}`, i, Date.now()]);
      await client.query("COMMIT");
    },
    mixWithSavepoints: (batch) => mix(batch, false),
    mixMultiRowHolds: (batch) => mix(batch, true),
    mixSingleStatementCharges: mixOneRoundTrip,
    backendPid: async () => (await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number,
    close: () => client.end(),
  };
}
