// Opens the server's storage at start-up: PostgreSQL when DATABASE_URL is set
// (postgres/open.ts), SQLite in DATA_DIR otherwise, in the order that keeps data safe: the lock
// (before tickets.db is even opened), free space, the guard against a fresh database where one
// existed, private file modes, the schema, one real write, the marker, and the check that
// balances match the ledger.
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { StartupError } from "../startupError.js";
import { DatabaseIdentity } from "./databaseIdentity.js";
import { ensureMarker, guardMissingDatabase, guardUnmigratedDatabase } from "./databaseMarker.js";
import { DataDirLock } from "./dataDirLock.js";
import { type Db, databasePath, migrate, openConnection, userVersion } from "./db.js";
import { diskFullError, isDiskFull, requireFreeSpace } from "./diskSpace.js";
import { InlineWriter } from "./inlineWriter.js";
import { checkBalancesMatchLedger } from "./ledgerCheck.js";
import { openPostgresStorage } from "./postgres/open.js";
import { ensurePrivateFile, tightenIfPresent } from "./privateFiles.js";
import { sqliteStore } from "./sqliteReads.js";
import type { Store } from "./store.js";
import { ThreadWriter } from "./threadWriter.js";
import type { Writer } from "./writer.js";

export interface Storage {
  store: Store;
  /** Which database holds the state (logged at start). */
  kind: "sqlite" | "postgres";
  /** The writer of the group commit (once the schema is up to date). */
  openWriter(): Promise<Writer>;
  /**
   * Why storage cannot be trusted now (the database file was deleted or replaced, the database's
   * lock was lost), or undefined: checked before each commit batch and by /healthz.
   */
  problem(): string | undefined;
  /**
   * Calls `handler` once if storage is lost while the server runs, even with nothing to commit
   * (PostgreSQL: the connection holding the database's lock closed). SQLite has no such event:
   * its problems are found before each commit.
   */
  onLost?(handler: (problem: string) => void): void;
  /** Closes the database, then releases it (DATA_DIR's lock, the database's) for the next server. */
  close(): Promise<void>;
}

/** Throws a StartupError (with its exit code) when this server must not run on its storage. */
export async function openStorage(config: Config, log: Logger): Promise<Storage> {
  return config.databaseUrl === undefined ? openSqliteStorage(config, log) : openPostgresStorage(config, log);
}

async function openSqliteStorage(config: Config, log: Logger): Promise<Storage> {
  const { dataDir, diskMinFreeBytes } = config;
  const lock = DataDirLock.acquire(dataDir);
  let db: Db | undefined;
  try {
    requireFreeSpace(dataDir, diskMinFreeBytes);
    const policy = { dataDir, allowNew: config.allowNewDatabase, log };
    guardMissingDatabase(policy);
    const file = databasePath(dataDir);
    ensurePrivateFile(file);
    for (const suffix of ["-wal", "-shm"]) tightenIfPresent(`${file}${suffix}`);

    db = openConnection(dataDir, config.durability);
    const identity = DatabaseIdentity.of(file);
    guardUnmigratedDatabase(policy, userVersion(db));
    migrate(db);
    const store = sqliteStore(db);
    await store.recordStart(Date.now());
    ensureMarker(dataDir);
    const ms = await checkBalancesMatchLedger(store);
    log.info({ ms: Math.round(ms) }, "balances match the ledger");

    const opened = db;
    return {
      store,
      kind: "sqlite",
      // With fsync on every commit, commits leave the event loop for a writer thread (which opens
      // its own connection now that the schema is up to date); without, they run in place.
      openWriter: async () =>
        config.durability === "full" ? ThreadWriter.start(dataDir, config.durability) : new InlineWriter(opened),
      problem: () => identity.problem(),
      async close() {
        opened.close();
        lock.release();
      },
    };
  } catch (error) {
    try {
      db?.close();
    } catch {
      // The reason the start failed matters more than a second failure while closing.
    }
    lock.release();
    if (error instanceof StartupError) throw error;
    if (isDiskFull(error)) throw diskFullError(dataDir, diskMinFreeBytes);
    const { message, code } = error as { message?: string; code?: string };
    throw new StartupError(`cannot open the database in DATA_DIR ${dataDir}: ${message}${code ? ` (${code})` : ""}`, 1);
  }
}
