// Opens the SQLite database in WAL mode and brings its schema up to date.
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Config } from "../config.js";
import { migrations } from "./migrations/index.js";

export type Db = Database.Database;

/** DURABILITY as config.ts reads it: `synchronous` NORMAL or FULL. */
export type Durability = Config["durability"];

/** The database file in DATA_DIR (its -wal and -shm sit beside it while the server runs). */
export const databasePath = (dataDir: string): string => join(dataDir, "tickets.db");

/** The main thread's connection: opens the database and brings its schema up to date. */
export function openDatabase(dataDir: string, durability: Durability): Db {
  const db = openConnection(dataDir, durability);
  migrate(db);
  return db;
}

/** One connection with the server's settings (each thread has its own; these pragmas are per connection). */
export function openConnection(dataDir: string, durability: Durability): Db {
  const db = new Database(databasePath(dataDir));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // The writer checkpoints after 1,000 pages (~4 MB); completing it lets the next write start
  // the WAL over, which keeps the file bounded under constant writes.
  db.pragma("wal_autocheckpoint = 1000");
  return db;
}

/** The number of migrations applied to `db` (0: a new or foreign database). */
export function userVersion(db: Db): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Applies the migrations `db` has not had yet, each in its own transaction. */
export function migrate(db: Db): void {
  const current = userVersion(db);
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sqlite);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
