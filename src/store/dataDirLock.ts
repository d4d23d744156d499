// One server per DATA_DIR: an exclusive lock the operating system releases when the process dies.
// Node has no flock, so the lock is SQLite's own: a separate file, tickets.lock, opened as its
// own connection that runs BEGIN EXCLUSIVE and keeps that transaction open for the life of the
// process. SQLite takes it with POSIX record locks, which vanish with the process (no stale lock
// after kill -9). tickets.db itself is not locked, so a backup can read it while the server runs.
import { join } from "node:path";
import Database from "better-sqlite3";
import { StartupError } from "../startupError.js";
import { ensurePrivateFile } from "./privateFiles.js";

export const LOCK_FILE = "tickets.lock";

// A connection that is garbage-collected is closed, and its lock with it: held ones stay referenced here.
const held = new Set<DataDirLock>();

export class DataDirLock {
  private constructor(private readonly connection: Database.Database) {}

  /** Takes the lock of `dataDir`, or throws a StartupError: exit 2, naming the directory, when another server holds it. */
  static acquire(dataDir: string): DataDirLock {
    const file = join(dataDir, LOCK_FILE);
    ensurePrivateFile(file);
    // No waiting: a second server must fail at once, not queue behind the first.
    let connection: Database.Database | undefined;
    try {
      connection = new Database(file, { timeout: 0 });
      // The rollback journal in memory: taking the lock writes nothing, so it works on a full disk.
      connection.pragma("journal_mode = MEMORY");
      connection.exec("BEGIN EXCLUSIVE");
    } catch (error) {
      connection?.close();
      if ((error as { code?: string }).code !== "SQLITE_BUSY") {
        throw new StartupError(`cannot lock DATA_DIR ${dataDir} (${file}): ${(error as Error).message}`, 1);
      }
      throw new StartupError(
        `another server is running on DATA_DIR ${dataDir} (it holds ${file}); refusing to start a second one`,
        2,
      );
    }
    const lock = new DataDirLock(connection);
    held.add(lock);
    return lock;
  }

  /** Ends the transaction and closes the connection: the next server may start (clean shutdown). */
  release(): void {
    if (!held.delete(this)) return;
    this.connection.close();
  }
}
