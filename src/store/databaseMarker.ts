// The marker beside tickets.db records that a database was created in this DATA_DIR. Without it a
// deleted or emptied tickets.db would silently become a fresh one on the next start: every
// balance zero, the demo catalog seeded again, and nobody told.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { StartupError } from "../startupError.js";
import { databasePath } from "./db.js";
import { tightenIfPresent } from "./privateFiles.js";

export const MARKER_FILE = "tickets.db.marker";

const MARKER_TEXT = `A ticketing database was created in this directory (tickets.db).
While this file exists, the server refuses to start with a missing or empty tickets.db:
put the database (or a backup of it) back, or start once with ALLOW_NEW_DATABASE=1.
`;

export interface NewDatabasePolicy {
  dataDir: string;
  /** ALLOW_NEW_DATABASE: start empty even where the marker says a database existed. */
  allowNew: boolean;
  log: Logger;
}

/**
 * Before SQLite opens tickets.db. When there is no database to open (missing or empty) and the
 * marker exists, refuses to start unless allowed. Any -wal or -shm left beside a database that is
 * not there is moved aside: SQLite would replay an orphaned WAL into the fresh file.
 */
export function guardMissingDatabase({ dataDir, allowNew, log }: NewDatabasePolicy): void {
  const file = databasePath(dataDir);
  const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  if (size > 0) return;
  refuseUnlessAllowed({ dataDir, allowNew, log }, `${file} is missing or empty`);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  for (const suffix of ["-wal", "-shm"]) {
    const orphan = `${file}${suffix}`;
    if (!existsSync(orphan)) continue;
    const aside = `${orphan}.orphaned-${stamp}`;
    renameSync(orphan, aside);
    log.warn({ file: orphan, movedTo: aside }, "moved a WAL file without its database aside");
  }
}

/** After SQLite opened tickets.db, before migrations: user_version 0 is no database of ours (empty or foreign). */
export function guardUnmigratedDatabase(policy: NewDatabasePolicy, userVersion: number): void {
  if (userVersion !== 0) return;
  refuseUnlessAllowed(policy, `${databasePath(policy.dataDir)} holds no ticketing schema (user_version 0)`);
}

/** Writes the marker (0600) once the database is migrated: for a new database, and for an old one that has none. */
export function ensureMarker(dataDir: string): void {
  const marker = join(dataDir, MARKER_FILE);
  if (existsSync(marker)) {
    tightenIfPresent(marker);
    return;
  }
  const fd = openSync(marker, "w", 0o600);
  try {
    writeSync(fd, MARKER_TEXT);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The marker's directory entry must outlive a power cut as surely as the database it guards.
  const dir = openSync(dataDir, "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function refuseUnlessAllowed({ dataDir, allowNew, log }: NewDatabasePolicy, what: string): void {
  const marker = join(dataDir, MARKER_FILE);
  if (!existsSync(marker)) return;
  if (allowNew) {
    log.warn({ dataDir, marker }, `${what}; ALLOW_NEW_DATABASE=1, so starting with a new empty database`);
    return;
  }
  throw new StartupError(
    `${what}, but ${marker} shows a database was created in DATA_DIR ${dataDir}; refusing to start with an empty one. ` +
      `Put the database (or a backup of it) back, or start once with ALLOW_NEW_DATABASE=1 to begin empty`,
    1,
  );
}
