// Opens PostgreSQL (DATABASE_URL) at start-up: connects (retrying for DATABASE_CONNECT_TIMEOUT_S,
// then exit 1), takes the database's advisory lock on the writer's connection (a second server on
// it exits 2), brings the schema up to date, records the start, and checks that balances match
// the ledger.
import type { Config } from "../../config.js";
import type { Logger } from "../../log.js";
import { StartupError } from "../../startupError.js";
import { checkBalancesMatchLedger } from "../ledgerCheck.js";
import type { Storage } from "../openStorage.js";
import { Store } from "../store.js";
import { connect, redacted, type Sql } from "./connect.js";
import { migrate } from "./migrate.js";
import { PostgresReads } from "./reads.js";
import { advisoryLockGuard, PostgresWriter } from "./writer.js";

/** The advisory lock one server holds on its database for as long as it runs (a constant: "tickets"). */
export const SERVER_LOCK = 7_215_000;

const RETRY_EVERY_MS = 500;

/**
 * A cluster node's storage (`shared`): many nodes write the same database, so there is no server
 * lock; each owned room writes through its own fenced writer (src/cluster/rooms.ts), and this
 * storage's writer, unguarded, only applies what belongs to no room (the start, a new concert).
 */
export interface SharedPostgres {
  url: string;
  reads: PostgresReads;
  /** A small pool for the cluster's own statements (money, id blocks; leases have a connection of their own). */
  sql: Sql;
}

export async function openPostgresStorage(
  config: Config,
  log: Logger,
  options: { shared?: boolean } = {},
): Promise<Storage & { shared?: SharedPostgres }> {
  const url = config.databaseUrl!;
  const shared = options.shared === true;
  const where = redacted(url);
  let holding = false;
  let lost: string | undefined;
  let onLost: ((problem: string) => void) | undefined;
  // The writer's connection holds the lock: every transaction it runs also takes the lock for
  // itself (PostgresWriter's lockKey), which its own session is granted at once and any other
  // session refused. If the connection is lost, so is the lock: the server stops.
  const writeSql = connect(url, {
    max: 1,
    onclose: () => {
      if (!holding || lost !== undefined) return;
      lost = "the connection holding the database's lock was lost";
      onLost?.(lost);
    },
  });
  const readSql = connect(url, { max: 4 });
  // Leases and money: a transaction left open by a stuck node ends within one lease (connect.ts).
  const clusterSql = shared ? connect(url, { max: 4, idleInTransactionMs: config.clusterLeaseMs }) : undefined;
  const pools = [writeSql, readSql, ...(clusterSql ? [clusterSql] : [])];
  const closeAll = () => Promise.allSettled(pools.map((sql) => sql.end({ timeout: 5 })));
  try {
    await waitForDatabase(writeSql, where, config.databaseConnectTimeoutSeconds, log);
    if (!shared) {
      const [{ locked } = { locked: false }] = await writeSql<{ locked: boolean }[]>`
        SELECT pg_try_advisory_lock(${SERVER_LOCK}) AS locked`;
      holding = locked;
      if (!locked) {
        throw new StartupError(
          `another server is using the PostgreSQL database ${where} (its advisory lock ${SERVER_LOCK} is held)`,
          2,
        );
      }
    }
    const version = await migrate(writeSql);
    const writer = new PostgresWriter(writeSql, shared ? undefined : advisoryLockGuard(SERVER_LOCK));
    const reads = new PostgresReads(readSql);
    const store = new Store(reads, async (units) => (await writer.write(units)).declined);
    await store.recordStart(Date.now());
    const ms = await checkBalancesMatchLedger(store);
    log.info(
      { database: where, schemaVersion: version, ms: Math.round(ms) },
      "PostgreSQL open; balances match the ledger",
    );
    return {
      store,
      kind: "postgres",
      ...(clusterSql ? { shared: { url, reads, sql: clusterSql } } : {}),
      openWriter: async () => {
        if (shared) throw new Error("a cluster node writes through the fenced writers of the rooms it owns");
        return writer;
      },
      problem: () => lost,
      onLost(handler) {
        onLost = handler;
      },
      async close() {
        await writer.close();
        holding = false;
        lost ??= "closed";
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    if (error instanceof StartupError) throw error;
    throw new StartupError(`cannot use the PostgreSQL database ${where}: ${(error as Error).message}`, 1);
  }
}

/** Retries a first query until PostgreSQL answers, for `seconds`; then a StartupError (exit 1). */
async function waitForDatabase(sql: Sql, where: string, seconds: number, log: Logger): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`SELECT 1`;
      return;
    } catch (error) {
      const reason = (error as Error).message;
      if (Date.now() + RETRY_EVERY_MS > deadline) {
        throw new StartupError(`cannot connect to PostgreSQL at ${where} after ${seconds} s: ${reason}`, 1);
      }
      if (attempt === 1) log.warn({ database: where, reason }, "PostgreSQL does not answer yet; retrying");
      await new Promise((done) => setTimeout(done, RETRY_EVERY_MS));
    }
  }
}
