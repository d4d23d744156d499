// Opens DATA_DIR at start-up, in the order that keeps data safe: the lock (before tickets.db is
// even opened), free space, the guard against a fresh database where one existed, private file
// modes, the schema, one real write, the marker, and the check that balances match the ledger.
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { StartupError } from "../startupError.js";
import { DatabaseIdentity } from "./databaseIdentity.js";
import { ensureMarker, guardMissingDatabase, guardUnmigratedDatabase } from "./databaseMarker.js";
import { DataDirLock } from "./dataDirLock.js";
import { type Db, databasePath, migrate, openConnection, userVersion } from "./db.js";
import { diskFullError, isDiskFull, requireFreeSpace } from "./diskSpace.js";
import { checkBalancesMatchLedger } from "./ledgerCheck.js";
import { ensurePrivateFile, tightenIfPresent } from "./privateFiles.js";
import { Store } from "./store.js";

export interface Storage {
  db: Db;
  store: Store;
  /** The file the database was opened from: checked before each commit and by /healthz. */
  identity: DatabaseIdentity;
  /** Closes the database, then releases DATA_DIR for the next server. */
  close(): void;
}

/** Throws a StartupError (with its exit code) when this server must not run on `config.dataDir`. */
export function openStorage(config: Config, log: Logger): Storage {
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
    const store = new Store(db);
    store.recordStart(Date.now());
    ensureMarker(dataDir);
    const ms = checkBalancesMatchLedger(store);
    log.info({ ms: Math.round(ms) }, "balances match the ledger");

    const opened = db;
    return {
      db: opened,
      store,
      identity,
      close() {
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
